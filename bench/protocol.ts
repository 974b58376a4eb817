/**
 * What the benchmark's child processes are asked and what they answer. Each
 * configuration runs in a fresh process so that its peak memory is its own and
 * a crash (the 4 GB wasm heap running out) costs one row, not the whole run.
 */
import type { BackendName } from "../src/backend/types.js";

/** Prefix of the one stdout line that carries a child's JSON answer. */
export const RESULT_MARKER = "BENCH_RESULT ";

/** Prefix of the stderr lines a child prints as it makes progress. */
export const PROGRESS_MARKER = "BENCH_PROGRESS ";

/** Architectures the benchmark knows on both sides. */
export type BenchArch = "small" | "resnet18";

/** One training configuration of our side. */
export interface TrainJob {
  kind: "train";
  backend: BackendName;
  threads: number;
  arch: BenchArch;
  /** Encoder images per step: two views of imagesPerStep / 2 source images. */
  imagesPerStep: number;
  warmup: number;
  steps: number;
  /** Largest number of images whose activations are alive at once (null: all). */
  chunkSize: number | null;
}

/** Throughput of one large matrix product on a backend. */
export interface MatmulJob {
  kind: "matmul";
  backend: BackendName;
  threads: number;
  size: number;
  repeats: number;
}

/** Measured training throughput of one configuration. */
export interface TrainResult {
  backend: BackendName;
  threads: number;
  arch: BenchArch;
  imagesPerStep: number;
  /** Chunk size the step ran with (null: in one piece). */
  chunkSize: number | null;
  steps: number;
  warmup: number;
  /** Wall seconds of each timed step. */
  stepSeconds: number[];
  /** Encoder images per second over the timed steps. */
  imagesPerSecond: number;
  /** CPU seconds (all threads) per wall second during the timed steps. */
  coresUsed: number;
  losses: number[];
  /** tf.memory().numTensors before the first step and after every step. */
  numTensors: number[];
  /** High-water mark of the process's resident memory. */
  peakRssBytes: number;
  /** Size of the wasm linear memory at the end (it only grows), else null. */
  wasmHeapBytes: number | null;
  parameters: number;
}

/** GFLOP/s of a square float32 matmul on a backend. */
export interface MatmulResult {
  backend: BackendName;
  threads: number;
  size: number;
  gflops: number;
}

/** Answer of a child that failed in a way it could still report. */
export interface ChildFailure {
  error: string;
}

/** Answer of bench/torch_reference.py in "step" mode. */
export interface TorchResult {
  arch: BenchArch;
  imagesPerStep: number;
  steps: number;
  warmup: number;
  stepSeconds: number[];
  imagesPerSecond: number;
  coresUsed: number;
  losses: number[];
  peakRssBytes: number;
  parameters: number;
  threads: number;
  torchVersion: string;
}

/** Answer of bench/torch_reference.py in "ceiling" mode. */
export interface CeilingResult {
  blasMatmulSize: number;
  /** [rows, inner, columns] of the product run through oneDNN. */
  onednnMatmulShape: [number, number, number];
  torchMmGflops: number;
  numpyGflops: number;
  onednnGflops: number;
  /** The best of the three: what this machine gives float32 products on 2 threads. */
  ceilingGflops: number;
  threads: number;
}
