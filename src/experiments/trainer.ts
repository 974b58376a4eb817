/**
 * The production trainer of the runner: runExperiment, then, when a cell asks
 * for them, the backbone features of a fixed sample of test images, read from
 * the encoder saved in the run's checkpoint.
 */
import path from "node:path";
import { createEncoder } from "../models/encoder.js";
import { loadCheckpoint } from "../train/checkpoint.js";
import { extractFeatures, loadEvaluation, runExperiment } from "../train/run.js";
import type { EmbeddingSample } from "./cache.js";
import type { Trainer } from "./runner.js";

/** runExperiment with the embedding sample the embeddings report plots. */
export const trainWithEmbeddings: Trainer = async (config, options) => {
  const result = await runExperiment(config, {
    log: options.log, checkpointDir: options.checkpointDir,
  });
  if (options.embeddingSamples === 0) return result;
  const embeddings = await embedTestSample(config, options.checkpointDir,
    options.embeddingSamples);
  options.log(`kept ${embeddings.labels.length} test embeddings of dimension ` +
    `${embeddings.dim}`);
  return { ...result, embeddings };
};

/** Backbone features of `count` test images (the evaluation's seeded subset). */
async function embedTestSample(
  config: Parameters<Trainer>[0], checkpointDir: string, count: number,
): Promise<EmbeddingSample> {
  const { pretrain } = config;
  const evaluation = await loadEvaluation(pretrain.dataset, pretrain.dataDir,
    { ...config.eval, trainSubset: 1, testSubset: count }, () => {});

  // the checkpoint holds the final encoder: pretraining saves after every epoch
  const encoder = createEncoder(pretrain.encoder, pretrain.seed);
  try {
    const file = path.join(checkpointDir, "pretrain.ckpt");
    if (loadCheckpoint(file, pretrain, encoder, null) === null) {
      throw new Error(`no checkpoint at ${file} to take the embeddings from`);
    }
    const { test, info } = evaluation;
    const { features, labels } = extractFeatures(encoder, test.split, test.indices, info);
    return { labels, dim: encoder.featureDim, values: features };
  } finally {
    encoder.dispose();
    evaluation.train.split.pixels.close();
    evaluation.test.split.pixels.close();
  }
}
