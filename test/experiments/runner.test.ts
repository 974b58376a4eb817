import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { RunConfig } from "../../src/config.js";
import { readRun } from "../../src/experiments/cache.js";
import { profiles } from "../../src/experiments/profiles.js";
import type { ArtefactName } from "../../src/experiments/registry.js";
import {
  planAbsentCells, runCells, type RunnerOptions, type Trainer,
} from "../../src/experiments/runner.js";
import { fakeResult } from "./fixtures.js";

/** A workspace with a CIFAR-10 folder (one file) and an empty cache. */
function workspace() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dcl-runner-"));
  fs.mkdirSync(path.join(root, "data", "cifar10"), { recursive: true });
  fs.writeFileSync(path.join(root, "data", "cifar10", "placeholder"), "");
  return root;
}

// every fake run gets a different accuracy, so overwrites can be told apart
let runsEver = 0;

/** Options with a counting fake trainer; `fail` makes the trainer throw for one call. */
function options(root: string, artefacts: ArtefactName[], force = false, failAt = -1) {
  const calls: RunConfig[] = [];
  const lines: string[] = [];
  const train: Trainer = async (config, opts) => {
    calls.push(config);
    if (calls.length - 1 === failAt) throw new Error("trainer stopped");
    const embeddings = opts.embeddingSamples > 0
      ? { dim: 2, labels: Int32Array.from([0, 1]), values: Float32Array.from([1, 2, 3, 4]) }
      : undefined;
    runsEver++;
    return { ...fakeResult(config, 30 + runsEver), embeddings };
  };
  const runner: RunnerOptions = {
    profile: profiles.smoke, artefacts, dataRoot: path.join(root, "data"),
    cacheRoot: path.join(root, "cache"), checkpointRoot: path.join(root, "ckpt"), force,
    train, log: (line) => lines.push(line),
    identity: { gitCommit: "abc", gitDirty: false, libraries: {}, node: "v20" },
  };
  return { runner, calls, lines };
}

function cacheFiles(root: string, artefact: string): string[] {
  const dir = path.join(root, "cache", "smoke", artefact);
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

test("missing cells train once, then hit the cache; absent datasets are skipped", async () => {
  const root = workspace();
  const first = options(root, ["negatives"]);
  const summary = await runCells(first.runner);
  const expected = profiles.smoke.negativesBatchSizes.length * 3 * profiles.smoke.seeds.length;
  assert.equal(summary.trained, expected);
  assert.deepEqual(summary.skippedDatasets, ["stl10"]);
  assert.equal(cacheFiles(root, "negatives").length, expected);
  assert.ok(first.lines.some((l) => l.startsWith(`[cell 1/${expected}] negatives cifar10 ` +
    `biased B=16 seed 0 ...`)), first.lines.join("\n"));

  const second = options(root, ["negatives"]);
  const again = await runCells(second.runner);
  assert.equal(second.calls.length, 0);
  assert.equal(again.cached, expected);
});

test("a seed selection trains only those seeds; the rest stay to do", async () => {
  const root = workspace();
  const [first] = profiles.smoke.seeds;
  const some = options(root, ["negatives"]);
  const summary = await runCells({ ...some.runner, seeds: [first] });
  assert.equal(summary.trained, profiles.smoke.negativesBatchSizes.length * 3);
  assert.ok(some.calls.every((c) => c.pretrain.seed === first));

  const rest = options(root, ["negatives"]);
  const after = await runCells(rest.runner);
  assert.equal(after.cached, summary.trained);
  assert.ok(rest.calls.length > 0 && rest.calls.every((c) => c.pretrain.seed !== first));
});

test("cells of a dataset that is not on disk are still looked up in the cache", async () => {
  const root = workspace();
  await runCells(options(root, ["negatives"]).runner);

  // the CIFAR-10 folder goes away, as on a fresh clone with a committed cache
  fs.rmSync(path.join(root, "data", "cifar10"), { recursive: true });
  const absent = planAbsentCells(options(root, ["negatives"]).runner);
  const cifar = absent.filter((e) => e.cell.dataset === "cifar10");
  const stl = absent.filter((e) => e.cell.dataset === "stl10");
  assert.ok(cifar.length > 0 && cifar.every((e) => e.status === "cached"));
  assert.ok(stl.length > 0 && stl.every((e) => e.status === "missing"));

  // a damaged file is reported as such, never as cached
  fs.writeFileSync(cifar[0].file, "not arrow");
  const again = planAbsentCells(options(root, ["negatives"]).runner);
  assert.equal(again.find((e) => e.file === cifar[0].file)?.status, "corrupt");
});

test("FORCE retrains every cell and overwrites the files", async () => {
  const root = workspace();
  await runCells(options(root, ["positives"]).runner);
  const [name] = cacheFiles(root, "positives");
  const file = path.join(root, "cache", "smoke", "positives", name);
  const before = readRun(file).result.knnTop1;

  const forced = options(root, ["positives"], true);
  const summary = await runCells(forced.runner);
  assert.equal(forced.calls.length, summary.cells);
  assert.equal(summary.cached, 0);
  assert.notEqual(readRun(file).result.knnTop1, before);
});

test("a corrupt file is reported and its cell trained again", async () => {
  const root = workspace();
  await runCells(options(root, ["hard"]).runner);
  const [name] = cacheFiles(root, "hard");
  const file = path.join(root, "cache", "smoke", "hard", name);
  fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 100));

  const rerun = options(root, ["hard"]);
  const summary = await runCells(rerun.runner);
  assert.equal(rerun.calls.length, 1);
  assert.equal(summary.corrupt.length, 1);
  assert.equal(summary.corrupt[0].file, file);
  assert.ok(rerun.lines.some((l) => l.startsWith("warning:") && l.includes(name)));
  assert.doesNotThrow(() => readRun(file));
});

test("a config shared by two artefacts trains once; embeddings are kept for it", async () => {
  const root = workspace();
  const both = options(root, ["tau-plus", "embeddings"]);
  const summary = await runCells(both.runner);
  assert.equal(summary.reused, 2, both.lines.join("\n"));
  const embeddingFiles = cacheFiles(root, "embeddings");
  assert.equal(embeddingFiles.length, 3);
  for (const name of embeddingFiles) {
    const run = readRun(path.join(root, "cache", "smoke", "embeddings", name));
    assert.notEqual(run.embeddings, null, name);
  }
});

test("a failing cell is reported, earlier cells stay cached, later cells still run",
  async () => {
    const root = workspace();
    const failing = options(root, ["positives"], false, 1);
    const summary = await runCells(failing.runner);
    assert.equal(summary.failed.length, 1);
    assert.match(summary.failed[0].error, /trainer stopped/);
    assert.equal(cacheFiles(root, "positives").length, summary.cells - 1);

    const resume = options(root, ["positives"]);
    await runCells(resume.runner);
    assert.equal(resume.calls.length, 1);
  });
