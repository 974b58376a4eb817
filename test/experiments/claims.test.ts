import assert from "node:assert/strict";
import { test } from "node:test";
import type { LossKind } from "../../src/config.js";
import { answerOf, claimsOf, compare, verdictOf } from "../../src/experiments/claims.js";
import { profiles } from "../../src/experiments/profiles.js";
import { artefactCells, artefacts } from "../../src/experiments/registry.js";
import { gridPoints, type ReportData } from "../../src/experiments/report-data.js";
import { summarise } from "../../src/experiments/stats.js";
import { fakeRun } from "./fixtures.js";

/** Quick-profile negatives runs whose linear top-1 is given per (kind, B, seed). */
function negativesData(linear: (kind: LossKind, batch: number, seed: number) => number | null) {
  const cells = artefactCells(artefacts.negatives, profiles.quick, ["cifar10"]);
  const runs = cells.map((cell) => {
    const run = fakeRun(cell.config);
    const { loss, batchSize, seed } = cell.config.pretrain;
    run.result = { ...run.result, knnTop1: 30 + seed,
      linearTop1: linear(loss.kind, batchSize, seed) };
    return { artefact: "negatives", run };
  });
  const data: ReportData = { profile: "quick", runs, unreadable: [] };
  return gridPoints(data, "negatives", "cifar10");
}

test("differences are paired by seed, so a shared seed effect cancels", () => {
  // seeds move every objective by 10 points; debiased is 1 point above biased
  const points = negativesData((kind, _b, seed) =>
    40 + 10 * seed + (kind === "debiased" ? 1 : 0));
  const debiased = points.find((p) => p.kind === "debiased" && p.batchSize === 64)!;
  const biased = points.find((p) => p.kind === "biased" && p.batchSize === 64)!;
  const c = compare(debiased, biased);
  assert.equal(c.metric, "linear top-1");
  assert.deepEqual(c.seeds, [...profiles.quick.seeds]);
  assert.ok(Math.abs(c.difference.mean - 1) < 1e-9);
  assert.ok(c.difference.halfWidth < 1e-9);
  assert.equal(c.verdict, "higher");
  // unpaired, the seed spread would swamp the 1-point gap
  assert.ok(debiased.linear!.low < biased.linear!.high);
});

test("verdicts follow the interval of the differences", () => {
  assert.equal(verdictOf(summarise([1, 1.1, 0.9])), "higher");
  assert.equal(verdictOf(summarise([1, 2, 3])), "no clear difference"); // t(2) is wide
  assert.equal(verdictOf(summarise([-1, -1.1, -0.9])), "lower");
  assert.equal(verdictOf(summarise([-1, 2, 0.5])), "no clear difference");
  assert.equal(verdictOf(summarise([4])), "too few seeds");
});

test("negatives claims compare at equal N and answer in one sentence", () => {
  const points = negativesData((kind, batch, seed) => {
    if (kind === "unbiased") return 50 + seed;
    if (kind === "debiased") return (batch === 32 ? 45 : 40) + seed * 0.5;
    return 42 + seed * 0.7;
  });
  const claims = claimsOf("negatives", points);
  assert.deepEqual(claims.map((c) => c.question), [
    "Does debiased beat biased (SimCLR) at each N?",
    "Does unbiased (the oracle) beat biased at each N?",
    "Does unbiased beat debiased at each N?",
  ]);
  for (const claim of claims) {
    assert.equal(claim.comparisons.length, 2);
    for (const c of claim.comparisons) assert.equal(c.candidate.batchSize, c.baseline.batchSize);
  }
  const [debiasedVsBiased, unbiasedVsBiased] = claims;
  assert.deepEqual(debiasedVsBiased.comparisons.map((c) => c.verdict), ["higher", "lower"]);
  const label = String.raw`debiased tau\+=0\.1 B=\d+ \(N=\d+\)`;
  assert.match(answerOf(debiasedVsBiased),
    new RegExp(`^Mixed: higher at ${label}, lower at ${label}\\.$`));
  assert.match(answerOf(unbiasedVsBiased), /^Yes at both settings/);

  // one setting decided, the other not: the decided one is named, counts say the rest
  const [first, second] = debiasedVsBiased.comparisons;
  const lowerOnce = { ...debiasedVsBiased, comparisons: [
    { ...first, verdict: "lower" as const }, { ...second, verdict: "no clear difference" as const }] };
  assert.match(answerOf(lowerOnce), new RegExp(
    `^No: lower at ${label}; no clear difference at the other 1 of 2 settings\\.$`));
  const higherOnce = { ...lowerOnce, comparisons: [
    { ...first, verdict: "higher" as const }, lowerOnce.comparisons[1]] };
  assert.match(answerOf(higherOnce), /^Partly: higher at debiased/);
});

test("without a linear probe the kNN metric is compared; missing pairs are left out", () => {
  const points = negativesData(() => null);
  const claims = claimsOf("negatives", points);
  assert.ok(claims.every((c) => c.comparisons.every((x) => x.metric === "kNN top-1")));
  // every objective has knnTop1 = 30 + seed: no difference at all
  assert.match(answerOf(claims[0]), /^Not yet answerable|^No clear difference/);
  assert.deepEqual(claimsOf("embeddings", points), []);
  const onlyBiased = points.filter((p) => p.kind === "biased");
  assert.deepEqual(claimsOf("negatives", onlyBiased), []);
});
