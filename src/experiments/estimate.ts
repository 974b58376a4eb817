/**
 * Rough wall-time estimate of a grid, from the number of images that go
 * through the encoder. It is a planning aid only: the rate is an assumption
 * (a profile's `assumedRate` or --rate), and evaluation is counted as
 * forward passes at three times the training rate.
 */
import type { RunConfig } from "../config.js";
import type { DatasetName } from "../data/types.js";

// split sizes of the official releases: pretraining set, probe/bank split, test split
const SPLIT_SIZES: Readonly<Record<DatasetName, [number, number, number]>> = {
  cifar10: [50_000, 50_000, 10_000],
  stl10: [105_000, 5_000, 8_000],
  imagenet100: [126_689, 126_689, 5_000],
};

// evaluation images are larger than the 32x32 crops on STL-10 (96) and ImageNet (224)
const EVAL_PIXEL_FACTOR: Readonly<Record<DatasetName, number>> = {
  cifar10: 1, stl10: 9, imagenet100: 49,
};

/** Estimated seconds of one run at `rate` training images per second. */
export function estimateSeconds(config: RunConfig, rate: number): number {
  const { pretrain, eval: evaluation } = config;
  const [pretrainSize, bankSize, testSize] = SPLIT_SIZES[pretrain.dataset];
  const images = Math.min(pretrain.subset ?? pretrainSize, pretrainSize);

  // pretraining: M + 1 augmented views of every image, every epoch
  const views = images * pretrain.epochs * (pretrain.loss.positives + 1);

  // evaluation: bank + test embedded before and after training; the linear
  // probe trains on those stored features, so its epochs cost next to nothing
  const bank = Math.min(evaluation.trainSubset ?? bankSize, bankSize);
  const test = Math.min(evaluation.testSubset ?? testSize, testSize);
  const forwards = 2 * (bank + test) * EVAL_PIXEL_FACTOR[pretrain.dataset];
  return views / rate + forwards / (3 * rate);
}

/** "2 h 05 min" style duration. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${Math.floor(hours)} h ${String(minutes % 60).padStart(2, "0")} min`;
  const days = hours / 24;
  return days < 730 ? `${days.toFixed(0)} days` : `${(days / 365).toFixed(0)} years`;
}
