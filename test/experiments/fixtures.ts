/** Fabricated runs for the experiment tests only; never written under results/. */
import type { RunConfig, RunResult } from "../../src/config.js";
import type { CachedRun } from "../../src/experiments/cache.js";
import { configKey } from "../../src/experiments/hash.js";
import { profiles } from "../../src/experiments/profiles.js";
import { artefactCells, artefacts } from "../../src/experiments/registry.js";

/** The first smoke-profile negatives config on CIFAR-10. */
export function sampleConfig(): RunConfig {
  return artefactCells(artefacts.negatives, profiles.smoke, ["cifar10"])[0].config;
}

/** A made-up result for `config` (test fixture). */
export function fakeResult(config: RunConfig, knnTop1 = 42.5): RunResult {
  return {
    config,
    backend: { name: "wasm", threads: 2, skipped: { native: "not installed" },
      selection: "auto" },
    initKnnTop1: 10.25, initKnnTop5: 50.5, knnTop1, knnTop5: 90.125,
    linearTop1: null, linearTop5: null,
    epochs: [
      { epoch: 1, loss: 5.5, imagesPerSecond: 123.4, seconds: 2.5 },
      { epoch: 2, loss: 5.25, imagesPerSecond: 130.1, seconds: 2.25 },
    ],
    datasetChecksum: "ab".repeat(32),
    pretrainImages: 256,
    wallSeconds: 7.75,
  };
}

/** A cache record around a fake result. */
export function fakeRun(config: RunConfig, withEmbeddings = false): CachedRun {
  return {
    key: configKey(config),
    result: fakeResult(config),
    provenance: { gitCommit: "0123456789abcdef", gitDirty: false,
      libraries: { "@tensorflow/tfjs-core": "4.22.0" }, node: "v20.20.2",
      datasetCopy: "CIFAR-10, JPEG copy", createdAt: "2026-12-04T00:00:00.000Z" },
    embeddings: withEmbeddings
      ? { dim: 3, labels: Int32Array.from([0, 1]),
        values: Float32Array.from([0.5, -1.25, 3, 1e-3, 2, -7]) }
      : null,
  };
}
