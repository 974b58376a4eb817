/**
 * Our side of the benchmark, one configuration per process: the project's
 * encoder, loss and Adam step on synthetic views, timed after a warm-up.
 * Usage: node --import tsx bench/ours.ts '<TrainJob or MatmulJob as JSON>'
 * The answer is one stdout line: RESULT_MARKER + JSON.
 */
import * as tf from "@tensorflow/tfjs-core";
import { defaultLoss } from "../src/config.js";
import { setupBackend } from "../src/backend/index.js";
import { createEncoder, encoderPresets } from "../src/models/encoder.js";
import { createTrainStep } from "../src/train/step.js";
import {
  PROGRESS_MARKER, RESULT_MARKER,
  type MatmulJob, type MatmulResult, type TrainJob, type TrainResult,
} from "./protocol.js";

/** The paper's optimiser settings (Adam, lr 1e-3, weight decay 1e-6). */
const LR = 1e-3;
const WEIGHT_DECAY = 1e-6;

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "null") as TrainJob | MatmulJob | null;
  if (job === null) throw new Error("bench/ours.ts needs a job as JSON in its first argument");
  await setupBackend({ force: job.backend, threads: job.threads, log: progress });
  const result = job.kind === "train" ? await train(job) : matmul(job);
  process.stdout.write(RESULT_MARKER + JSON.stringify(result) + "\n");
}

async function train(job: TrainJob): Promise<TrainResult> {
  const encoder = createEncoder(encoderPresets[job.arch], 0);
  const loss = { ...defaultLoss, kind: "debiased" as const, tauPlus: 0.1, temperature: 0.5 };
  const trainer = createTrainStep(encoder, loss, {
    lr: LR, weightDecay: WEIGHT_DECAY, chunkSize: job.chunkSize, log: progress,
  });

  // synthetic normalised views, [pairs, 32, 32, 3] each
  const pairs = job.imagesPerStep / 2;
  const view1 = tf.randomNormal([pairs, 32, 32, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const view2 = tf.randomNormal([pairs, 32, 32, 3], 0, 1, "float32", 2) as tf.Tensor4D;

  // warm-up steps pay for kernel set-up and heap growth; then the timed steps
  const numTensors = [tf.memory().numTensors];
  const stepSeconds: number[] = [];
  const losses: number[] = [];
  let cpuBefore = process.cpuUsage();
  for (let i = 0; i < job.warmup + job.steps; i++) {
    const started = performance.now();
    const value = await trainer.step(view1, view2);
    const seconds = (performance.now() - started) / 1000;
    numTensors.push(tf.memory().numTensors);
    if (i + 1 === job.warmup) cpuBefore = process.cpuUsage();
    if (i >= job.warmup) {
      stepSeconds.push(seconds);
      losses.push(value);
    }
    progress(`step ${i + 1}/${job.warmup + job.steps} ${seconds.toFixed(1)} s loss ${value.toFixed(4)}`);
  }

  const cpu = process.cpuUsage(cpuBefore);
  const parameters = encoder.trainableVariables.reduce((n, v) => n + v.size, 0);
  const total = stepSeconds.reduce((a, b) => a + b, 0);
  return {
    backend: job.backend,
    threads: job.threads,
    arch: job.arch,
    imagesPerStep: job.imagesPerStep,
    // the chunk size the step ran with: BENCH_CHUNK, or chosen on wasm when the
    // whole step would not fit
    chunkSize: trainer.lastChunkSize,
    steps: job.steps,
    warmup: job.warmup,
    stepSeconds,
    imagesPerSecond: (job.imagesPerStep * job.steps) / total,
    // CPU seconds of all threads per wall second: how many cores the side got
    coresUsed: (cpu.user + cpu.system) / 1e6 / total,
    losses,
    numTensors,
    // maxRSS is in kilobytes
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    wasmHeapBytes: wasmHeapBytes(),
    parameters,
  };
}

/** Best GFLOP/s of a square matmul, the ceiling of the backend's own kernels. */
function matmul(job: MatmulJob): MatmulResult {
  const a = tf.randomNormal([job.size, job.size], 0, 1, "float32", 3);
  const b = tf.randomNormal([job.size, job.size], 0, 1, "float32", 4);
  let best = Infinity;
  for (let i = 0; i <= job.repeats; i++) {
    const started = performance.now();
    const product = tf.matMul(a, b);
    product.dataSync();
    const seconds = (performance.now() - started) / 1000;
    product.dispose();
    // the first product pays for allocation and thread start-up
    if (i > 0) best = Math.min(best, seconds);
  }
  return {
    backend: job.backend,
    threads: job.threads,
    size: job.size,
    gflops: (2 * job.size ** 3) / best / 1e9,
  };
}

/** Byte length of the wasm linear memory, when the current backend is wasm. */
function wasmHeapBytes(): number | null {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength ?? null;
}

function progress(line: string): void {
  process.stderr.write(PROGRESS_MARKER + line + "\n");
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stdout.write(RESULT_MARKER + JSON.stringify({ error: message }) + "\n");
  process.exitCode = 1;
});
