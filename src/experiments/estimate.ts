/**
 * Rough wall-time estimate of a grid. It is a planning aid only: the rate is
 * an assumption (a profile's `assumedRate` or --rate) in training images per
 * second of the profile's encoder on 32 px inputs with the CIFAR stem. Every
 * run is charged in training FLOPs (src/models/cost.ts), so larger images,
 * another stem or another architecture scale the time by their real cost;
 * evaluation counts as forward passes (a third of a training step).
 */
import type { EncoderConfig, RunConfig } from "../config.js";
import type { DatasetName } from "../data/types.js";
import { trainFlopsPerImage } from "../models/cost.js";
import { withStem } from "../models/encoder.js";

// split sizes of the official releases: pretraining set, probe/bank split, test split
const SPLIT_SIZES: Readonly<Record<DatasetName, [number, number, number]>> = {
  cifar10: [50_000, 50_000, 10_000],
  stl10: [105_000, 5_000, 8_000],
  imagenet100: [126_689, 126_689, 5_000],
};

// image sides: pretraining crops, then evaluation images
const SIDES: Readonly<Record<DatasetName, [number, number]>> = {
  cifar10: [32, 32], stl10: [32, 96], imagenet100: [224, 224],
};

/**
 * Estimated seconds of one run when `reference` trains at `rate` images per
 * second on 32 px inputs with the CIFAR stem.
 */
export function estimateSeconds(config: RunConfig, rate: number, reference: EncoderConfig): number {
  const { pretrain, eval: evaluation } = config;
  const [pretrainSize, bankSize, testSize] = SPLIT_SIZES[pretrain.dataset];
  const [trainSide, evalSide] = SIDES[pretrain.dataset];
  const flopsPerSecond = rate * trainFlopsPerImage(withStem(reference, "cifar"), 32);
  const images = Math.min(pretrain.subset ?? pretrainSize, pretrainSize);

  // pretraining: M + 1 augmented views of every image, every epoch
  const views = images * pretrain.epochs * (pretrain.loss.positives + 1);
  const trainFlops = views * trainFlopsPerImage(pretrain.encoder, trainSide);

  // evaluation: bank + test embedded before and after training; the linear
  // probe trains on those stored features, so its epochs cost next to nothing
  const bank = Math.min(evaluation.trainSubset ?? bankSize, bankSize);
  const test = Math.min(evaluation.testSubset ?? testSize, testSize);
  const evalFlops = 2 * (bank + test) * trainFlopsPerImage(pretrain.encoder, evalSide) / 3;
  return (trainFlops + evalFlops) / flopsPerSecond;
}

/** Bytes of the decoded-split cache a dataset needs (every split it uses). */
export function decodedCacheBytes(dataset: DatasetName): number {
  // the bank split is part of the pretraining set on all three datasets, and
  // the pretraining set is decoded at evaluation size, then cropped
  const [pretrainSize, , testSize] = SPLIT_SIZES[dataset];
  const [, evalSide] = SIDES[dataset];
  return (pretrainSize + testSize) * evalSide * evalSide * 3;
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
