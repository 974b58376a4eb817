/**
 * Contrastive pretraining loop: seeded batches of augmented views, one
 * optimisation step per batch, one log line per epoch (loss, img/s, ETA,
 * backend), a progress bar on a terminal, and a checkpoint after every epoch
 * so that an interrupted run resumes where it stopped.
 */
import * as tf from "@tensorflow/tfjs-core";
import { TwoViewLoader, augmentOptionsFor } from "../augment/simclr.js";
import type { EpochRecord, PretrainConfig } from "../config.js";
import type { DatasetInfo, ImageSplit } from "../data/types.js";
import type { Encoder } from "../models/encoder.js";
import { permutation } from "../util/rng.js";
import { formatDuration, ProgressBar } from "../util/progress.js";
import {
  checkCheckpointDir,
  checkpointFile,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.js";
import { createTrainStep } from "./step.js";

export interface PretrainOptions {
  /** Receives one line per epoch and every notice. */
  log: (line: string) => void;
  /** Short description of the backend, repeated in every epoch line. */
  backend: string;
  /** Folder for the resumable checkpoint (none when undefined). */
  checkpointDir?: string;
  /** Draw a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

/** The images a run pretrains on: a seeded subset of the pretraining splits. */
export function pretrainIndices(sources: readonly ImageSplit[], subset: number | null, seed: number): Int32Array {
  const total = sources.reduce((n, s) => n + s.count, 0);
  if (subset === null || subset >= total) return permutation(total, seed);
  if (!(Number.isInteger(subset) && subset >= 1)) {
    throw new Error(`subset must be a positive integer or null; got ${subset}`);
  }
  return permutation(total, seed).slice(0, subset);
}

/** Train `encoder` in place; returns the metrics of every epoch (resumed ones included). */
export async function pretrain(
  encoder: Encoder,
  sources: readonly ImageSplit[],
  info: DatasetInfo,
  config: PretrainConfig,
  options: PretrainOptions,
): Promise<EpochRecord[]> {
  checkConfig(config, sources);
  const indices = pretrainIndices(sources, config.subset, config.seed);
  const positives = config.loss.positives;
  const loader = new TwoViewLoader(sources, {
    batchSize: config.batchSize,
    seed: config.seed,
    augment: augmentOptionsFor(info),
    indices,
    views: positives + 1,
  });
  const trainer = createTrainStep(encoder, config.loss, {
    lr: config.lr,
    weightDecay: config.weightDecay,
    chunkSize: config.chunkSize,
    log: options.log,
  });

  // resume from the checkpoint of an interrupted run of the same configuration
  let checkpoint: string | undefined;
  const records: EpochRecord[] = [];
  if (options.checkpointDir !== undefined) {
    checkCheckpointDir(options.checkpointDir);
    checkpoint = checkpointFile(options.checkpointDir);
    const done = loadCheckpoint(checkpoint, config, encoder, trainer.optimizer);
    if (done !== null && done.length > config.epochs) {
      throw new Error(
        `checkpoint ${checkpoint} already holds ${done.length} epochs, more than the ` +
          `${config.epochs} asked for; raise --epochs or choose another checkpoint folder`,
      );
    }
    if (done !== null && done.length > 0) {
      records.push(...done);
      options.log(`resuming from ${checkpoint}: ${done.length}/${config.epochs} epochs already done`);
    }
  }

  const size = info.pretrainSize;
  const shape: [number, number, number, number] = [config.batchSize, size, size, 3];
  const needLabels = config.loss.kind === "unbiased";
  const bar = new ProgressBar(loader.batchesPerEpoch, options.progress);
  for (let epoch = records.length; epoch < config.epochs; epoch++) {
    const started = performance.now();
    let lossSum = 0;
    bar.start(`epoch ${epoch + 1}/${config.epochs}`);
    for await (const batch of loader.epoch(epoch)) {
      // views -> tensors, one step, release the tensors
      const views = batch.views.map((v) => tf.tensor4d(v, shape));
      let loss: number;
      try {
        loss = await trainer.step(views[0], views[1], needLabels ? batch.labels : undefined, views.slice(2));
      } finally {
        views.forEach((v) => v.dispose());
      }
      lossSum += loss;
      const seconds = (performance.now() - started) / 1000;
      bar.tick(`loss ${loss.toFixed(4)}  ${((batch.batch + 1) * config.batchSize / seconds).toFixed(1)} img/s`);
    }
    bar.stop();

    // epoch summary and checkpoint
    const seconds = (performance.now() - started) / 1000;
    const record: EpochRecord = {
      epoch: epoch + 1,
      loss: lossSum / loader.batchesPerEpoch,
      imagesPerSecond: (loader.batchesPerEpoch * config.batchSize) / seconds,
      seconds,
    };
    records.push(record);
    const remaining = (config.epochs - epoch - 1) * seconds;
    options.log(
      `epoch ${record.epoch}/${config.epochs}  loss ${record.loss.toFixed(4)}  ` +
        `${record.imagesPerSecond.toFixed(1)} img/s  ETA ${formatDuration(remaining)}  ` +
        options.backend,
    );
    if (checkpoint !== undefined) await saveCheckpoint(checkpoint, config, encoder, trainer.optimizer, records);
  }
  // an untrained encoder (epochs = 0) is saved too, as the baseline it is
  if (checkpoint !== undefined && config.epochs === 0) {
    await saveCheckpoint(checkpoint, config, encoder, trainer.optimizer, records);
  }
  trainer.optimizer.dispose();
  return records;
}

/**
 * Checks that need only the configuration and the dataset's facts, so a run
 * can fail before any data is decoded.
 */
export function checkObjectiveFitsData(config: PretrainConfig, info: DatasetInfo): void {
  if (config.loss.kind === "unbiased" && info.pretrainSplits.includes("unlabeled")) {
    throw new Error(
      `the unbiased objective needs the true label of every pretraining image, but ` +
        `${info.name} pretrains on its unlabeled split too; use another objective ` +
        "or a fully labelled dataset such as cifar10",
    );
  }
}

function checkConfig(config: PretrainConfig, sources: readonly ImageSplit[]): void {
  if (!(Number.isInteger(config.batchSize) && config.batchSize >= 2)) {
    throw new Error(`batch size must be an integer >= 2 (negatives need other images); got ${config.batchSize}`);
  }
  if (!(Number.isInteger(config.epochs) && config.epochs >= 0)) {
    throw new Error(`epochs must be a non-negative integer; got ${config.epochs}`);
  }
  if (!(Number.isInteger(config.loss.positives) && config.loss.positives >= 1)) {
    throw new Error(`positives M must be an integer >= 1; got ${config.loss.positives}`);
  }
  if (!(config.lr > 0) || !(config.weightDecay >= 0)) {
    throw new Error(`need lr > 0 and weight decay >= 0; got ${config.lr} and ${config.weightDecay}`);
  }
  if (config.loss.kind === "unbiased" && sources.some((s) => s.labels.some((l) => l < 0))) {
    throw new Error(
      "the unbiased objective needs the true label of every pretraining image, " +
        "but the pretraining set holds unlabeled images (e.g. STL-10 unlabeled)",
    );
  }
}
