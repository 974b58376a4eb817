/**
 * One complete experiment: pick the backend, load the data, measure the
 * encoder at initialisation, pretrain it with the configured objective, and
 * evaluate the frozen backbone with the kNN monitor and a linear probe.
 */
import * as tf from "@tensorflow/tfjs-core";
import { evalBatch } from "../augment/simclr.js";
import { describeBackend, setupBackend } from "../backend/index.js";
import type { EvalConfig, RunConfig, RunResult } from "../config.js";
import { datasetInfo, loadSplit } from "../data/index.js";
import type { DatasetInfo, ImageSplit } from "../data/types.js";
import { knnAccuracy } from "../eval/knn.js";
import { linearProbe } from "../eval/linear.js";
import { createEncoder, type Encoder } from "../models/encoder.js";
import { permutation } from "../util/rng.js";
import { pretrain } from "./pretrain.js";

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

/** Run one configuration end to end and return its metrics and provenance. */
export async function runExperiment(config: RunConfig, options: RunOptions = {}): Promise<RunResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = performance.now();
  const backend = await setupBackend({ log });
  const backendText = describeBackend(backend);
  const p = config.pretrain;

  // data: pretraining splits, then the evaluation splits at evaluation size
  const info = datasetInfo(p.dataset);
  const load = (split: string, size?: number) =>
    loadSplit({ dataset: p.dataset, dataDir: p.dataDir, split, size, log });
  const pretrainSplits: ImageSplit[] = [];
  for (const split of info.pretrainSplits) pretrainSplits.push(await load(split));
  const evalTrain = await load(info.evalTrainSplit, info.evalSize);
  const evalTest = await load(info.evalTestSplit, info.evalSize);
  const evaluation = evaluationSets(evalTrain, evalTest, config.eval);

  // the untrained encoder is the baseline every trained one must beat
  const encoder = createEncoder(p.encoder, p.seed);
  try {
    const init = knnOf(extractAll(encoder, evaluation, info), encoder, info, config.eval);
    log(`kNN at initialisation: top-1 ${init.top1.toFixed(2)} %  top-5 ${init.top5.toFixed(2)} %`);

    const epochs = await pretrain(encoder, pretrainSplits, info, p, {
      log,
      backend: backendText,
      checkpointDir: options.checkpointDir,
      progress: options.progress,
    });

    const trained = extractAll(encoder, evaluation, info);
    const knn = knnOf(trained, encoder, info, config.eval);
    log(`kNN after pretraining: top-1 ${knn.top1.toFixed(2)} %  top-5 ${knn.top5.toFixed(2)} %`);
    let linear: { top1: number; top5: number } | null = null;
    if (config.eval.linearEpochs > 0) {
      const { train, test } = trained;
      linear = await linearProbe(train.features, train.labels, test.features, test.labels, encoder.featureDim, {
        epochs: config.eval.linearEpochs,
        batchSize: config.eval.linearBatch,
        lr: config.eval.linearLr,
        weightDecay: config.eval.linearWeightDecay,
        classes: info.classes.length,
        seed: p.seed,
        log,
      });
      log(`linear probe: top-1 ${linear.top1.toFixed(2)} %  top-5 ${linear.top5.toFixed(2)} %`);
    }

    return {
      config,
      backend,
      initKnnTop1: init.top1,
      initKnnTop5: init.top5,
      knnTop1: knn.top1,
      knnTop5: knn.top5,
      linearTop1: linear?.top1 ?? null,
      linearTop5: linear?.top5 ?? null,
      epochs,
      datasetChecksum: [...pretrainSplits, evalTrain, evalTest].map((s) => `${s.split}:${s.checksum}`).join(" "),
      pretrainImages: p.subset === null ? countImages(pretrainSplits) : Math.min(p.subset, countImages(pretrainSplits)),
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    encoder.dispose();
  }
}

function countImages(splits: readonly ImageSplit[]): number {
  return splits.reduce((n, s) => n + s.count, 0);
}

/** Which images of each evaluation split are used. */
interface EvaluationSets {
  train: { split: ImageSplit; indices: Int32Array };
  test: { split: ImageSplit; indices: Int32Array };
}

function evaluationSets(train: ImageSplit, test: ImageSplit, config: EvalConfig): EvaluationSets {
  const pick = (split: ImageSplit, subset: number | null): Int32Array => {
    const labelled = Int32Array.from(split.labels.keys()).filter((i) => split.labels[i] >= 0);
    if (subset === null || subset >= labelled.length) return labelled;
    const order = permutation(labelled.length, evalSubsetSeed);
    return Int32Array.from(order.subarray(0, subset), (k) => labelled[k]).sort();
  };
  return {
    train: { split: train, indices: pick(train, config.trainSubset) },
    test: { split: test, indices: pick(test, config.testSubset) },
  };
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

function extractAll(encoder: Encoder, sets: EvaluationSets, info: DatasetInfo) {
  return {
    train: extractFeatures(encoder, sets.train.split, sets.train.indices, info),
    test: extractFeatures(encoder, sets.test.split, sets.test.indices, info),
  };
}

function knnOf(
  { train, test }: ReturnType<typeof extractAll>,
  encoder: Encoder,
  info: DatasetInfo,
  config: EvalConfig,
) {
  return knnAccuracy(train.features, train.labels, test.features, test.labels, encoder.featureDim, {
    k: config.knnK,
    temperature: config.knnTemperature,
    classes: info.classes.length,
  });
}
