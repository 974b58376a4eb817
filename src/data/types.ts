/**
 * The one interface every dataset loader returns, so that pretraining,
 * evaluation and the experiment registry treat CIFAR-10, STL-10 and
 * ImageNet-100 alike.
 */
import type { PixelStore } from "./pixels.js";

/** Names of the datasets the project knows. */
export type DatasetName = "cifar10" | "stl10" | "imagenet100";

/**
 * Decoded images of one split: uint8 RGB, HWC order, in memory or paged from
 * the decoded-split cache (see PixelStore).
 */
export interface ImageSplit {
  dataset: DatasetName;
  /** "train" | "test" | "unlabeled" (STL-10) */
  split: string;
  count: number;
  height: number;
  width: number;
  /** count images of height * width * 3 bytes, row-major HWC RGB. */
  pixels: PixelStore;
  /** count labels in [0, classes.length); -1 marks an unlabeled image. */
  labels: Int32Array;
  classes: readonly string[];
  /** Hex sha256 identifying the source files, recorded as provenance. */
  checksum: string;
}

/** Static facts about a dataset, the single home of each of them. */
export interface DatasetInfo {
  name: DatasetName;
  classes: readonly string[];
  /** Probability that a random image has a given class, e.g. 0.1 for CIFAR-10. */
  classPrior: number;
  /** Splits whose union is the pretraining set (STL-10: train + unlabeled). */
  pretrainSplits: readonly string[];
  /** Split used as the kNN memory bank / linear-probe training set. */
  evalTrainSplit: string;
  /** Split the reported accuracy is measured on. */
  evalTestSplit: string;
  /** Side of the square crops used during pretraining (32 for CIFAR-10 and STL-10). */
  pretrainSize: number;
  /** Side of the images used for evaluation (96 for STL-10). */
  evalSize: number;
  /** Per-channel normalisation used after augmentation. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}
