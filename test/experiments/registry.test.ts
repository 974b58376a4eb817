import * as fs from "node:fs";
import assert from "node:assert/strict";
import { test } from "node:test";
import { configKey } from "../../src/experiments/hash.js";
import { getProfile, profiles } from "../../src/experiments/profiles.js";
import {
  artefactCells, artefactNames, artefacts, getArtefact, lossOf, negativesFor,
} from "../../src/experiments/registry.js";

test("N = 2B - 2 at the paper's batch sizes", () => {
  assert.deepEqual(profiles.paper.negativesBatchSizes.map(negativesFor),
    [30, 62, 126, 254, 510]);
});

test("the negatives grid crosses batch sizes, objectives and seeds", () => {
  for (const profile of Object.values(profiles)) {
    const cells = artefactCells(artefacts.negatives, profile, ["cifar10"]);
    assert.equal(cells.length,
      profile.negativesBatchSizes.length * 3 * profile.seeds.length, profile.name);
    const batches = new Set(cells.map((c) => c.config.pretrain.batchSize));
    assert.deepEqual([...batches].sort((a, b) => a - b),
      [...profile.negativesBatchSizes].sort((a, b) => a - b));
    const kinds = new Set(cells.map((c) => c.config.pretrain.loss.kind));
    assert.deepEqual([...kinds].sort(), ["biased", "debiased", "unbiased"]);
    assert.ok(cells.every((c) => c.config.profile === profile.name));
    assert.ok(cells.every((c) => c.label.includes(`B=${c.config.pretrain.batchSize}`)));
  }
});

test("seeds per profile: smoke 2, quick and paper at least 3", () => {
  assert.equal(profiles.smoke.seeds.length, 2);
  assert.ok(profiles.quick.seeds.length >= 3);
  assert.ok(profiles.paper.seeds.length >= 3);
  for (const name of ["negatives", "tau-plus", "positives", "hard"] as const) {
    const cells = artefactCells(artefacts[name], profiles.quick, ["cifar10"]);
    const seeds = new Set(cells.map((c) => c.config.pretrain.seed));
    assert.equal(seeds.size, profiles.quick.seeds.length, name);
  }
});

test("every cell of a grid has its own key", () => {
  for (const name of artefactNames) {
    const cells = artefactCells(artefacts[name], profiles.paper,
      ["cifar10", "stl10", "imagenet100"]);
    assert.ok(cells.length > 0, name);
    assert.equal(new Set(cells.map((c) => configKey(c.config))).size, cells.length, name);
  }
});

test("the paper profile holds the paper's settings", () => {
  const [cell] = artefactCells(artefacts["tau-plus"], profiles.paper, ["stl10"]);
  const { pretrain, eval: evaluation } = cell.config;
  assert.equal(pretrain.encoder.arch, "resnet50");
  assert.equal(pretrain.batchSize, 256);
  assert.equal(pretrain.epochs, 400);
  assert.equal(pretrain.subset, null);
  assert.equal(pretrain.lr, 1e-3);
  assert.equal(pretrain.weightDecay, 1e-6);
  assert.equal(pretrain.loss.temperature, 0.5);
  assert.equal(evaluation.linearEpochs, 100);
  assert.equal(evaluation.knnK, 200);
});

test("objectives pin the fields they ignore, so equal runs share a key", () => {
  assert.deepEqual(lossOf("biased", "cifar10"), lossOf("biased", "stl10"));
  assert.equal(lossOf("debiased", "cifar10").tauPlus, 0.1);
  assert.equal(lossOf("debiased", "imagenet100").tauPlus, 0.01);

  // the embeddings grid reuses runs of the other artefacts
  const embed = artefactCells(artefacts.embeddings, profiles.quick, ["cifar10"]);
  const tau = artefactCells(artefacts["tau-plus"], profiles.quick, ["cifar10"]);
  const biasedKey = configKey(embed.find((c) => c.config.pretrain.loss.kind === "biased")!
    .config);
  assert.ok(tau.some((c) => configKey(c.config) === biasedKey));
  assert.ok(embed.every((c) => c.embeddingSamples === profiles.quick.embeddingSamples));
});

test("unknown names are rejected with the valid ones listed", () => {
  assert.throws(() => getProfile("fast"), /smoke, quick, paper/);
  assert.throws(() => getArtefact("negative"), /negatives, imagenet100/);
});

test("ImageNet-100 cells use the ImageNet stem; the others keep the implicit CIFAR stem", () => {
  const imagenet = artefactCells(artefacts.imagenet100, profiles.paper, ["imagenet100"]);
  assert.ok(imagenet.length > 0);
  assert.ok(imagenet.every((c) => c.config.pretrain.encoder.stem === "imagenet"));
  for (const dataset of ["cifar10", "stl10"] as const) {
    const cells = artefactCells(artefacts.negatives, profiles.paper, [dataset]);
    assert.ok(cells.every((c) => !("stem" in c.config.pretrain.encoder)), dataset);
  }
});

test("quick cells keep the keys of the committed results", () => {
  // results/cache/quick/negatives/<key>.arrow: a change here orphans the cache
  const [cell] = artefactCells(artefacts.negatives, profiles.quick, ["cifar10"]);
  assert.equal(cell.label, "biased B=32 seed 0");
  const key = configKey(cell.config);
  assert.equal(key, "2aa3d7f2f351236861801535a2152a7e3d1a2c53a1a613bd380f6d3f3dfd3387");
  const committed = new URL(`../../results/cache/quick/negatives/${key}.arrow`, import.meta.url);
  assert.ok(fs.existsSync(committed), `no committed result for ${cell.label}`);
});
