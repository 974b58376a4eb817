/**
 * Experiment profiles: the scale at which the paper's artefacts are run. A
 * profile is plain data (widths, subsets, epochs, seeds and the sweep values of
 * every artefact); the registry turns it into RunConfigs, so no code path
 * branches on a profile's name.
 */
import { defaultEval, type EncoderConfig, type EvalConfig } from "../config.js";

/** Names of the built-in profiles. */
export type ProfileName = "smoke" | "quick" | "paper";

/** Everything that differs between scales. */
export interface Profile {
  name: ProfileName;
  /** One line saying what the profile is for. */
  summary: string;
  encoder: EncoderConfig;
  /** Pretraining images used (null = the dataset's whole pretraining set). */
  pretrainSubset: number | null;
  epochs: number;
  /** Batch B of every artefact that does not sweep it. */
  batchSize: number;
  /** Largest number of images sent through the network at once (null = whole batch). */
  chunkSize: number | null;
  eval: EvalConfig;
  /** Seeds every grid point is repeated with. */
  seeds: readonly number[];
  /** Batch sizes of the "negatives" artefact; N = 2B - 2 negatives per anchor. */
  negativesBatchSizes: readonly number[];
  /** tau_plus values of the "tau-plus" artefact (the biased run is the baseline). */
  tauPlusValues: readonly number[];
  /** Numbers of positive views M of the "positives" artefact. */
  positiveCounts: readonly number[];
  /** Concentrations beta of the "hard" artefact. */
  betaValues: readonly number[];
  /** Test images whose embeddings an "embeddings" run keeps for the 2-D plot. */
  embeddingSamples: number;
  /**
   * Images per second (views through the encoder, training step included)
   * assumed by the time estimate; `main.ts plan --rate` overrides it.
   */
  assumedRate: number;
  /** What the estimate says and what it was measured or guessed from. */
  costNote: string;
}

/** Seconds-long profile for CI: tiny network, tiny subset, two seeds. */
const smoke: Profile = {
  name: "smoke",
  summary: "CI check that every artefact trains, caches and renders (numbers mean nothing)",
  encoder: { arch: "small", widths: [8, 16, 32], blocks: [1, 1, 1],
    headHidden: 32, projectionDim: 16 },
  pretrainSubset: 256,
  epochs: 1,
  batchSize: 32,
  chunkSize: null,
  eval: { ...defaultEval, knnK: 20, linearEpochs: 2, linearBatch: 128,
    trainSubset: 256, testSubset: 128 },
  seeds: [0, 1],
  negativesBatchSizes: [16, 32],
  tauPlusValues: [0.1],
  positiveCounts: [1, 2],
  betaValues: [1.0],
  embeddingSamples: 64,
  assumedRate: 400,
  costNote: "16 distinct runs of a few seconds each per dataset present",
};

/**
 * Default profile: real CIFAR-10 on a 2-core CPU. A small ResNet pretrained
 * for 3 epochs on a seeded 2000-image subset, five seeds, kNN against 5000
 * training images on 1000 test images. Chunks of 128 images equal one view
 * at B <= 128, so they change nothing there and keep larger batches inside
 * the wasm backend's 4 GB.
 */
const quick: Profile = {
  name: "quick",
  summary: "real data on a 2-core CPU: small ResNet, 2000-image subset, 3 epochs, 5 seeds",
  encoder: { arch: "small", widths: [32, 64, 128], blocks: [2, 2, 2],
    headHidden: 512, projectionDim: 128 },
  pretrainSubset: 2000,
  epochs: 3,
  batchSize: 64,
  chunkSize: 128,
  eval: { ...defaultEval, knnK: 200, linearEpochs: 30, linearBatch: 256,
    trainSubset: 5000, testSubset: 1000 },
  // five seeds: at three, the 95 % intervals of paired differences were about
  // four points wide, wider than any difference between the objectives
  seeds: [0, 1, 2, 3, 4],
  negativesBatchSizes: [32, 64],
  tauPlusValues: [0.05, 0.1, 0.2],
  positiveCounts: [1, 2],
  betaValues: [1.0],
  embeddingSamples: 500,
  // measured on the native backend, 2 cores, nothing else running: about 160
  // views/s on one machine, about 70 on another; the estimate takes the middle
  assumedRate: 100,
  costNote:
    "CIFAR-10 part: 50 distinct runs (five seeds) of 6000 augmented pairs each; on " +
    "the native backend with 2 cores and nothing else running one run took 100 to " +
    "170 s on one machine and about 225 s on another (M = 2: up to 390 s), so 1.5 to " +
    "3.5 hours in all (SEEDS=0,1,2: 1 to 2 hours); longer while other jobs share the cores",
};

/** The paper's settings (official code): ResNet-50, batch 256, 400 epochs, full data. */
const paper: Profile = {
  name: "paper",
  summary: "the paper's settings: ResNet-50, batch 256, 400 epochs, full data, " +
    "linear 100 epochs",
  encoder: { arch: "resnet50", widths: [64, 128, 256, 512], blocks: [3, 4, 6, 3],
    headHidden: 512, projectionDim: 128 },
  pretrainSubset: null,
  epochs: 400,
  batchSize: 256,
  chunkSize: null,
  eval: { ...defaultEval },
  seeds: [0, 1, 2],
  negativesBatchSizes: [16, 32, 64, 128, 256],
  tauPlusValues: [0.01, 0.05, 0.1, 0.15, 0.2],
  positiveCounts: [1, 2, 4],
  betaValues: [0.5, 1.0, 2.0],
  embeddingSamples: 2000,
  assumedRate: 37,
  costNote:
    "GPU-scale: one CIFAR-10 run is 40 million augmented views (about two weeks " +
    "at 37 img/s, the whole grid years); meant for a native GPU backend",
};

/** Every profile by name. */
export const profiles: Readonly<Record<ProfileName, Profile>> = { smoke, quick, paper };

/** The profile `make reproduce` uses when none is named. */
export const defaultProfile: ProfileName = "quick";

/** Looks a profile up by name; the error lists the valid names. */
export function getProfile(name: string): Profile {
  if (!Object.hasOwn(profiles, name)) {
    const names = Object.keys(profiles).join(", ");
    throw new Error(`unknown profile "${name}"; choose one of: ${names}`);
  }
  return profiles[name as ProfileName];
}
