/**
 * Typed configuration of one experiment run. Every hyperparameter has exactly
 * one home here; the defaults are the paper's (official code) values and any
 * reduced-scale profile overrides them explicitly.
 */
import type { DatasetName } from "./data/types.js";

/** Which contrastive objective to train with. */
export type LossKind = "biased" | "debiased" | "unbiased" | "hard";

export interface LossConfig {
  kind: LossKind;
  /** Softmax temperature t (paper: 0.5). */
  temperature: number;
  /** Class prior tau_plus used by the debiased and hard objectives. */
  tauPlus: number;
  /** Hardness concentration beta of the hard-negative objective. */
  beta: number;
  /** Number of positive views M used in the debiasing correction (official code: 1). */
  positives: number;
}

export interface EncoderConfig {
  /** "resnet18" | "resnet50" (CIFAR stem) or "small" (configurable CPU ResNet). */
  arch: "resnet18" | "resnet50" | "small";
  /** Channel widths of the stages, used by "small" only. */
  widths: number[];
  /** Residual blocks per stage, used by "small" only. */
  blocks: number[];
  /** Hidden width of the projection head (official: 512). */
  headHidden: number;
  /** Output dimension of the projection head (official: 128). */
  projectionDim: number;
  /**
   * First layers: absent or "cifar" = one 3x3 conv, stride 1, no max-pool
   * (the official code, for 32 px inputs); "imagenet" = 7x7 conv, stride 2,
   * then a 3x3 max-pool, stride 2 (torchvision's ResNet, for 224 px inputs).
   * Absent rather than "cifar" by default, so older configurations keep
   * their hashes.
   */
  stem?: EncoderStem;
}

/** The first layers of a ResNet encoder; see EncoderConfig.stem. */
export type EncoderStem = "cifar" | "imagenet";

export interface PretrainConfig {
  dataset: DatasetName;
  /** Folder holding the dataset (official binaries, or an ImageFolder tree). */
  dataDir: string;
  /** Use only the first `subset` images of the shuffled pretraining set (null = all). */
  subset: number | null;
  encoder: EncoderConfig;
  loss: LossConfig;
  /** Images per step B; the number of negatives is N = 2B - 2. */
  batchSize: number;
  epochs: number;
  /** Adam learning rate (paper: 1e-3). */
  lr: number;
  /** L2 weight decay added to the gradient, as torch.optim.Adam does (paper: 1e-6). */
  weightDecay: number;
  seed: number;
  /**
   * Largest number of images sent through the network at once (null = the
   * whole batch, split automatically on wasm when it does not fit in 4 GiB).
   */
  chunkSize: number | null;
}

export interface EvalConfig {
  /** Neighbours of the weighted kNN monitor (official: 200). */
  knnK: number;
  /** Temperature of the kNN weights exp(sim / t) (official: 0.5). */
  knnTemperature: number;
  /** Epochs of the linear probe on frozen features (official: 100). */
  linearEpochs: number;
  linearBatch: number;
  linearLr: number;
  linearWeightDecay: number;
  /** Number of memory-bank / probe-training images (null = the whole split). */
  trainSubset: number | null;
  /** Number of test images evaluated (null = the whole split). */
  testSubset: number | null;
}

export interface RunConfig {
  /** Name of the profile this run belongs to ("smoke", "quick", "paper"). */
  profile: string;
  pretrain: PretrainConfig;
  eval: EvalConfig;
}

export const defaultLoss: LossConfig = {
  kind: "debiased",
  temperature: 0.5,
  tauPlus: 0.1,
  beta: 1.0,
  positives: 1,
};

export const defaultEval: EvalConfig = {
  knnK: 200,
  knnTemperature: 0.5,
  linearEpochs: 100,
  linearBatch: 512,
  linearLr: 1e-3,
  linearWeightDecay: 1e-6,
  trainSubset: null,
  testSubset: null,
};

/** Metrics of one pretraining epoch. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  imagesPerSecond: number;
  seconds: number;
}

/** Everything one finished run produces; the experiment cache stores exactly this. */
export interface RunResult {
  config: RunConfig;
  backend: import("./backend/types.js").BackendReport;
  /** kNN accuracy (%) of the encoder before any training: the baseline to beat. */
  initKnnTop1: number;
  initKnnTop5: number;
  knnTop1: number;
  knnTop5: number;
  /** Linear-probe accuracy (%) on frozen features; null when linearEpochs = 0. */
  linearTop1: number | null;
  linearTop5: number | null;
  epochs: EpochRecord[];
  /** sha256 identifying the dataset files the run used. */
  datasetChecksum: string;
  pretrainImages: number;
  /** Seconds for the whole run (pretraining and evaluation). */
  wallSeconds: number;
}
