import assert from "node:assert/strict";
import { test } from "node:test";
import { decodedCacheBytes, estimateSeconds, formatDuration } from "../../src/experiments/estimate.js";
import { getProfile } from "../../src/experiments/profiles.js";
import { artefacts } from "../../src/experiments/registry.js";

const quick = getProfile("quick");
const paper = getProfile("paper");

test("a CIFAR-10 run of the profile's own encoder costs its views at the assumed rate", () => {
  const [cell] = artefacts.negatives.cells(quick, "cifar10", "data");
  const { pretrain, eval: evaluation } = cell.config;

  // views through the encoder, then the forward passes of evaluation (a third of a step each)
  const views = pretrain.subset! * pretrain.epochs * (pretrain.loss.positives + 1);
  const forwards = 2 * (evaluation.trainSubset! + evaluation.testSubset!);
  const expected = (views + forwards / 3) / 50;
  assert.ok(Math.abs(estimateSeconds(cell.config, 50, quick.encoder) / expected - 1) < 1e-9);
});

test("larger images and a larger network take proportionally longer", () => {
  const cifar = artefacts["tau-plus"].cells(paper, "cifar10", "data")[0].config;
  const stl = artefacts["tau-plus"].cells(paper, "stl10", "data")[0].config;
  const imagenet = artefacts.imagenet100.cells(paper, "imagenet100", "data")[0].config;
  const seconds = (c: typeof cifar) => estimateSeconds(c, 37, paper.encoder);

  // STL-10 pretrains on 105k images at 32 px against CIFAR-10's 50k, and evaluates at 96 px
  assert.ok(seconds(stl) > 2 * seconds(cifar));
  // ImageNet-100 at 224 px costs more than both, and a smaller reference network
  // at the same rate means a slower machine
  assert.ok(seconds(imagenet) > seconds(stl));
  assert.ok(estimateSeconds(cifar, 37, quick.encoder) > seconds(cifar));
});

test("the decoded cache holds every split at its evaluation size", () => {
  assert.equal(decodedCacheBytes("cifar10"), 60_000 * 32 * 32 * 3);
  assert.equal(decodedCacheBytes("stl10"), (105_000 + 8_000) * 96 * 96 * 3);
});

test("durations read as seconds, minutes, hours, days or years", () => {
  assert.equal(formatDuration(42), "42 s");
  assert.equal(formatDuration(600), "10 min");
  assert.equal(formatDuration(3 * 3600 + 5 * 60), "3 h 05 min");
  assert.equal(formatDuration(10 * 86400), "10 days");
  assert.equal(formatDuration(5 * 365 * 86400), "5 years");
});
