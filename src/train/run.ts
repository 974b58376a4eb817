/**
 * One complete experiment: pick the backend, load the data, measure the
 * encoder at initialisation, pretrain it with the configured objective, and
 * evaluate the frozen backbone with the kNN monitor and a linear probe.
 */
import * as tf from "@tensorflow/tfjs-core";
import { evalBatch } from "../augment/simclr.js";
import { describeBackend, setupBackend } from "../backend/index.js";
import type { DatasetName } from "../data/types.js";
import type { EvalConfig, RunConfig, RunResult } from "../config.js";
import { datasetInfo, loadSplit } from "../data/index.js";
import type { DatasetInfo, ImageSplit } from "../data/types.js";
import { knnAccuracy } from "../eval/knn.js";
import { linearProbe } from "../eval/linear.js";
import { createEncoder, type Encoder } from "../models/encoder.js";
import { permutation } from "../util/rng.js";
import { checkObjectiveFitsData, pretrain } from "./pretrain.js";

export interface RunOptions {
  /** Receives progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Folder for the resumable pretraining checkpoint. */
  checkpointDir?: string;
  /** Draw progress bars (default: when stderr is a terminal). */
  progress?: boolean;
}

/** Seed of the evaluation subsets: every run of a grid is measured on the same images. */
const evalSubsetSeed = 20200701;

/** Images per forward pass when extracting features. */
const featureBatch = 256;

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);

/** Run one configuration end to end and return its metrics and provenance. */
export async function runExperiment(config: RunConfig, options: RunOptions = {}): Promise<RunResult> {
  const log = options.log ?? stderrLog;
  const started = performance.now();
  const backend = await setupBackend({ log });
  const p = config.pretrain;

  // data: pretraining splits, then the evaluation splits at evaluation size
  const info = datasetInfo(p.dataset);
  checkObjectiveFitsData(p, info);
  const pretrainSplits: ImageSplit[] = [];
  for (const split of info.pretrainSplits) {
    pretrainSplits.push(await loadSplit({ dataset: p.dataset, dataDir: p.dataDir, split, log }));
  }
  const evaluation = await loadEvaluation(p.dataset, p.dataDir, config.eval, log, pretrainSplits);

  // the untrained encoder is the baseline every trained one must beat
  const encoder = createEncoder(p.encoder, p.seed);
  try {
    const init = knnOf(extractAll(encoder, evaluation), encoder, evaluation, config.eval);
    log(`kNN at initialisation: top-1 ${init.top1.toFixed(2)} %  top-5 ${init.top5.toFixed(2)} %`);

    const epochs = await pretrain(encoder, pretrainSplits, info, p, {
      log,
      backend: describeBackend(backend),
      checkpointDir: options.checkpointDir,
      progress: options.progress,
    });
    const scores = await evaluateEncoder(encoder, evaluation, config.eval, p.seed, log);

    const pretrainCount = pretrainSplits.reduce((n, s) => n + s.count, 0);
    return {
      config,
      backend,
      initKnnTop1: init.top1,
      initKnnTop5: init.top5,
      knnTop1: scores.knn.top1,
      knnTop5: scores.knn.top5,
      linearTop1: scores.linear?.top1 ?? null,
      linearTop5: scores.linear?.top5 ?? null,
      epochs,
      datasetChecksum: checksumLine([...pretrainSplits, evaluation.train.split,
        evaluation.test.split]),
      pretrainImages: p.subset === null ? pretrainCount : Math.min(p.subset, pretrainCount),
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    encoder.dispose();
    // paged splits hold their cache file open until closed
    for (const split of [...pretrainSplits, evaluation.train.split, evaluation.test.split]) {
      split.pixels.close();
    }
  }
}

/** The images an evaluation uses: the chosen subsets of the two evaluation splits. */
export interface Evaluation {
  info: DatasetInfo;
  train: { split: ImageSplit; indices: Int32Array };
  test: { split: ImageSplit; indices: Int32Array };
}

/**
 * Load a dataset's evaluation splits at evaluation size and pick their
 * subsets; a split already in `loaded` at that size is used as it is.
 */
export async function loadEvaluation(
  dataset: DatasetName,
  dataDir: string,
  config: EvalConfig,
  log: (line: string) => void = stderrLog,
  loaded: readonly ImageSplit[] = [],
): Promise<Evaluation> {
  const info = datasetInfo(dataset);
  const load = async (split: string) =>
    loaded.find((s) => s.split === split && s.height === info.evalSize && s.width === info.evalSize) ??
    loadSplit({ dataset, dataDir, split, size: info.evalSize, log });
  const train = await load(info.evalTrainSplit);
  const test = await load(info.evalTestSplit);
  return {
    info,
    train: { split: train, indices: pick(train, config.trainSubset) },
    test: { split: test, indices: pick(test, config.testSubset) },
  };
}

/** Labelled images of a split, or a fixed seeded subset of them. */
function pick(split: ImageSplit, subset: number | null): Int32Array {
  const labelled = Int32Array.from(split.labels.keys()).filter((i) => split.labels[i] >= 0);
  if (subset === null || subset >= labelled.length) return labelled;
  const order = permutation(labelled.length, evalSubsetSeed);
  return Int32Array.from(order.subarray(0, subset), (k) => labelled[k]).sort();
}

/** kNN monitor and (when linearEpochs > 0) linear probe of a frozen encoder. */
export async function evaluateEncoder(
  encoder: Encoder,
  evaluation: Evaluation,
  config: EvalConfig,
  seed: number,
  log: (line: string) => void = stderrLog,
): Promise<{ knn: { top1: number; top5: number }; linear: { top1: number; top5: number } | null }> {
  const features = extractAll(encoder, evaluation);
  const knn = knnOf(features, encoder, evaluation, config);
  log(`kNN: top-1 ${knn.top1.toFixed(2)} %  top-5 ${knn.top5.toFixed(2)} %`);
  if (config.linearEpochs === 0) return { knn, linear: null };

  const { train, test } = features;
  const linear = await linearProbe(train.features, train.labels, test.features, test.labels, encoder.featureDim, {
    epochs: config.linearEpochs,
    batchSize: config.linearBatch,
    lr: config.linearLr,
    weightDecay: config.linearWeightDecay,
    classes: evaluation.info.classes.length,
    seed,
    log,
  });
  log(`linear probe: top-1 ${linear.top1.toFixed(2)} %  top-5 ${linear.top5.toFixed(2)} %`);
  return { knn, linear: { top1: linear.top1, top5: linear.top5 } };
}

interface Features {
  features: Float32Array; // [n, featureDim]
  labels: Int32Array; // [n]
}

/** Backbone features (evaluation mode) of the chosen images of a split. */
export function extractFeatures(
  encoder: Encoder,
  split: ImageSplit,
  indices: Int32Array,
  info: DatasetInfo,
): Features {
  const size = info.evalSize;
  const dim = encoder.featureDim;
  const features = new Float32Array(indices.length * dim);
  const pixels = new Float32Array(featureBatch * size * size * 3);
  for (let start = 0; start < indices.length; start += featureBatch) {
    const batch = indices.subarray(start, Math.min(start + featureBatch, indices.length));
    const input = pixels.subarray(0, batch.length * size * size * 3);
    evalBatch(split, batch, input, { outSize: size, mean: info.mean, std: info.std });
    const h = tf.tidy(() => encoder.features(tf.tensor4d(input, [batch.length, size, size, 3])));
    features.set(h.dataSync(), start * dim); // read outside tidy: see toolchain notes
    h.dispose();
  }
  return { features, labels: Int32Array.from(indices, (i) => split.labels[i]) };
}

function extractAll(encoder: Encoder, evaluation: Evaluation) {
  const { info, train, test } = evaluation;
  return {
    train: extractFeatures(encoder, train.split, train.indices, info),
    test: extractFeatures(encoder, test.split, test.indices, info),
  };
}

function knnOf(
  { train, test }: ReturnType<typeof extractAll>,
  encoder: Encoder,
  evaluation: Evaluation,
  config: EvalConfig,
) {
  return knnAccuracy(train.features, train.labels, test.features, test.labels, encoder.featureDim, {
    k: config.knnK,
    temperature: config.knnTemperature,
    classes: evaluation.info.classes.length,
  });
}

/** "split:checksum" of every split a run read, each split once. */
function checksumLine(splits: readonly { split: string; checksum: string }[]): string {
  return [...new Set(splits.map((s) => `${s.split}:${s.checksum}`))].join(" ");
}
