/**
 * Worker side of the worker_threads measurement in bench-augment.ts: builds
 * two-view batches from a shared synthetic split for a fixed time and posts
 * how many images it finished.
 */
import { parentPort, workerData } from "node:worker_threads";
import { residentSplit } from "../data/pixels.js";
import type { ImageSplit } from "../data/types.js";
import { TwoViewLoader } from "./loader.js";
import { defaultAugmentOptions } from "./options.js";

/** What the measuring thread sends each worker. */
export interface BenchWorkerInput {
  pixels: SharedArrayBuffer;
  count: number;
  size: number;
  seconds: number;
  seed: number;
  batchSize: number;
}

if (parentPort !== null) {
  const input = workerData as BenchWorkerInput;
  const split: ImageSplit = residentSplit({
    dataset: "cifar10",
    split: "synthetic",
    count: input.count,
    height: input.size,
    width: input.size,
    pixels: new Uint8Array(input.pixels),
    labels: new Int32Array(input.count),
    classes: [],
    checksum: "synthetic",
  });
  const loader = new TwoViewLoader(split, {
    batchSize: input.batchSize,
    seed: input.seed,
    augment: defaultAugmentOptions,
  });

  // warm up, then build batches until the time is spent
  loader.makeBatch(0, 0);
  const start = performance.now();
  let batches = 0;
  while (performance.now() - start < input.seconds * 1000) {
    loader.makeBatch(1, batches % loader.batchesPerEpoch);
    batches++;
  }
  const elapsed = (performance.now() - start) / 1000;
  parentPort.postMessage({ images: batches * input.batchSize, seconds: elapsed });
}
