/**
 * The data pipeline alone, in one process: JPEG decoding of a real CIFAR-10
 * split (when the development copy is present) and the two augmented views of
 * every training image. Usage: node --import tsx bench/pipeline.ts [dataDir]
 * The answer is one stdout line: RESULT_MARKER + JSON (a PipelineResult).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { syntheticSplit } from "../src/augment/bench-augment.js";
import { augmentBatch, defaultAugmentOptions } from "../src/augment/simclr.js";
import { loadSplit } from "../src/data/index.js";
import type { ImageSplit } from "../src/data/types.js";
import { Rng } from "../src/util/rng.js";
import { PROGRESS_MARKER, RESULT_MARKER } from "./protocol.js";

/** Pairs per augmentation batch: 128 pairs = 256 encoder images, the larger step. */
const PAIRS = 128;
/** Augment for at least this long, so that the rate is not one batch's noise. */
const AUGMENT_SECONDS = 4;

/** Throughput of decoding and augmentation. */
export interface PipelineResult {
  /** Where the images came from: the JPEG folder, or "synthetic" when absent. */
  source: string;
  /** Why real images were not used, when they were not. */
  note: string | null;
  /** Images decoded (a whole split), or null without real data. */
  decodedImages: number | null;
  /** Source images per second through tar.gz + JPEG decoding (+ cache write). */
  decodeImagesPerSecond: number | null;
  /** Augmented views (encoder images) per wall second, two per source image. */
  augmentViewsPerSecond: number;
  /** The same per CPU second: what one free core gives. */
  augmentViewsPerCpuSecond: number;
  /**
   * Encoder images per second when every image is decoded and then augmented
   * twice (decode once per two views); equals augmentViewsPerSecond without data.
   */
  pipelineViewsPerSecond: number;
}

async function main(): Promise<void> {
  const dataDir = process.argv[2] ?? "../shared/data/cifar10-jpeg";
  const { split, decodeSeconds, note } = await imagesFrom(dataDir);
  const augment = measureAugment(split);

  // per source image: one decode, two views
  const decodeRate = decodeSeconds === null ? null : split.count / decodeSeconds;
  const secondsPerImage = (decodeRate === null ? 0 : 1 / decodeRate) +
    2 / augment.viewsPerSecond;
  const result: PipelineResult = {
    source: note === null ? `${dataDir} (CIFAR-10 JPEG, test split)` : "synthetic",
    note,
    decodedImages: decodeRate === null ? null : split.count,
    decodeImagesPerSecond: decodeRate,
    augmentViewsPerSecond: augment.viewsPerSecond,
    augmentViewsPerCpuSecond: augment.viewsPerCpuSecond,
    pipelineViewsPerSecond: 2 / secondsPerImage,
  };
  process.stdout.write(RESULT_MARKER + JSON.stringify(result) + "\n");
}

/** The real test split decoded from scratch (a fresh cache folder), or noise. */
async function imagesFrom(dataDir: string): Promise<{
  split: ImageSplit;
  decodeSeconds: number | null;
  note: string | null;
}> {
  if (!existsSync(path.join(dataDir, "test.tar.gz")) && !existsSync(path.join(dataDir, "test"))) {
    const note = `no CIFAR-10 JPEG copy at ${dataDir}; decoding skipped, augmenting noise`;
    progress(note);
    return { split: syntheticSplit(1024, 32, 11), decodeSeconds: null, note };
  }
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "dcl-bench-cache-"));
  try {
    const started = performance.now();
    const split = await loadSplit({ dataset: "cifar10", dataDir, split: "test", cacheDir, log: progress });
    return { split, decodeSeconds: (performance.now() - started) / 1000, note: null };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** Two views of PAIRS images per batch, for AUGMENT_SECONDS at least. */
function measureAugment(split: ImageSplit): { viewsPerSecond: number; viewsPerCpuSecond: number } {
  const options = defaultAugmentOptions;
  const rng = new Rng(7);
  const view = new Float32Array(PAIRS * options.outSize * options.outSize * 3);
  const indices = new Int32Array(PAIRS);
  let views = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < AUGMENT_SECONDS * 1000 || views < 4 * PAIRS) {
    for (let k = 0; k < PAIRS; k++) indices[k] = rng.int(split.count);
    augmentBatch(split, indices, rng, view, options);
    augmentBatch(split, indices, rng, view, options);
    views += 2 * PAIRS;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return {
    viewsPerSecond: views / seconds,
    viewsPerCpuSecond: views / ((cpu.user + cpu.system) / 1e6),
  };
}

function progress(line: string): void {
  process.stderr.write(PROGRESS_MARKER + line + "\n");
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stdout.write(RESULT_MARKER + JSON.stringify({ error: message }) + "\n");
  process.exitCode = 1;
});
