/**
 * Throughput of the augmentation pipeline on synthetic images: images per
 * second, where every image gets two augmented views (a training pair).
 * Run: npx tsx src/augment/bench-augment.ts [seconds] [--workers]
 */
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { residentSplit } from "../data/pixels.js";
import type { ImageSplit } from "../data/types.js";
import { Rng } from "../util/rng.js";
import { defaultAugmentOptions } from "./options.js";
import { TwoViewLoader } from "./loader.js";

/** Result of one throughput measurement. */
export interface AugmentBenchResult {
  /** Input side (32 = CIFAR-10-sized, 96 = STL-10-sized). */
  inputSize: number;
  outSize: number;
  /** Images per second of wall-clock time, two views each. */
  imagesPerSecond: number;
  /**
   * Images per second of this process's CPU time: what one free core would
   * deliver, a steadier number than the wall-clock rate on a busy machine.
   */
  imagesPerCpuSecond: number;
  /** Milliseconds to build one batch of `batchSize` pairs. */
  msPerBatch: number;
  batchSize: number;
}

/** A split of `count` random-noise images of side `size`, for measurements. */
export function syntheticSplit(count: number, size: number, seed = 1): ImageSplit {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(count * size * size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.nextUint32() & 255;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % 10;
  return residentSplit({
    dataset: "cifar10",
    split: "synthetic",
    count,
    height: size,
    width: size,
    pixels,
    labels,
    classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    checksum: "synthetic",
  });
}

/**
 * Builds two-view batches of 256 from `inputSize` inputs for about `seconds`
 * on this thread and reports the rate.
 */
export async function benchAugment(
  seconds = 2,
  inputSize = 32,
): Promise<AugmentBenchResult> {
  const batchSize = 256;
  const split = syntheticSplit(batchSize * 4, inputSize);
  const loader = new TwoViewLoader(split, {
    batchSize,
    seed: 7,
    augment: defaultAugmentOptions,
  });

  // warm up the JIT, then time whole batches until the budget is spent
  loader.makeBatch(0, 0);
  let batches = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000 || batches < 3) {
    loader.makeBatch(1, batches % loader.batchesPerEpoch);
    batches++;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    inputSize,
    outSize: defaultAugmentOptions.outSize,
    imagesPerSecond: (batches * batchSize) / (elapsed / 1000),
    imagesPerCpuSecond: (batches * batchSize) / cpuSeconds,
    msPerBatch: elapsed / batches,
    batchSize,
  };
}

/**
 * Combined rate of `workers` worker threads building two-view batches at
 * once from one shared synthetic split, for about `seconds`: tells whether
 * moving augmentation off the main thread would buy anything on this machine.
 */
export async function benchAugmentWorkers(
  seconds: number,
  inputSize: number,
  workers: number,
): Promise<{ workers: number; imagesPerSecond: number }> {
  const batchSize = 256;
  const split = syntheticSplit(batchSize * 4, inputSize);
  // workers share one copy of a resident split (whole() refuses a paged one)
  const bytes = split.pixels.whole();
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  // the worker module has the extension of this one (.ts under tsx, .js when built)
  const ext = extname(fileURLToPath(import.meta.url));
  const script = new URL(`./bench-worker${ext}`, import.meta.url);

  // all workers run over the same interval; their rates add up
  const runs = Array.from({ length: workers }, (_, w) => {
    const input = {
      pixels: shared,
      count: split.count,
      size: inputSize,
      seconds,
      seed: w,
      batchSize,
    };
    return new Promise<{ images: number; seconds: number }>((resolve, reject) => {
      const worker = startWorker(script, ext, input);
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  });
  const results = await Promise.all(runs);
  const imagesPerSecond = results.reduce((sum, r) => sum + r.images / r.seconds, 0);
  return { workers, imagesPerSecond };
}

/**
 * Starts the worker module; a TypeScript one first registers the tsx loader
 * inside the worker, since Node 20 workers do not inherit loader hooks.
 */
function startWorker(script: URL, ext: string, workerData: unknown): Worker {
  if (ext !== ".ts") return new Worker(script, { workerData });
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const code =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((api) => { api.register(); return import(${JSON.stringify(script.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 2);
  const withWorkers = process.argv.includes("--workers");
  for (const inputSize of [32, 96]) {
    const r = await benchAugment(seconds, inputSize);
    console.log(
      `augment ${r.inputSize}x${r.inputSize} -> ${r.outSize}x${r.outSize}, two views: ` +
        `${r.imagesPerSecond.toFixed(0)} img/s wall, ` +
        `${r.imagesPerCpuSecond.toFixed(0)} img/s ` +
        `per CPU second (${r.msPerBatch.toFixed(1)} ms per batch of ${r.batchSize})`,
    );
    if (!withWorkers) continue;
    for (const workers of [1, 2]) {
      const w = await benchAugmentWorkers(seconds, inputSize, workers);
      console.log(
        `  ${workers} worker thread(s): ${w.imagesPerSecond.toFixed(0)} img/s combined`,
      );
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
