import assert from "node:assert/strict";
import path from "node:path";
import os from "node:os";
import { describe, it } from "node:test";
import { CIFAR10_CLASSES } from "../../src/data/info.js";
import { residentSplit } from "../../src/data/pixels.js";
import type { ImageSplit } from "../../src/data/types.js";
import { loadEvaluation } from "../../src/train/run.js";
import { defaultEval } from "../../src/config.js";

function split(name: string, count: number, side: number): ImageSplit {
  return residentSplit({
    dataset: "cifar10",
    split: name,
    count,
    height: side,
    width: side,
    pixels: new Uint8Array(count * side * side * 3),
    labels: Int32Array.from({ length: count }, (_, i) => i % 10),
    classes: CIFAR10_CLASSES,
    checksum: "0".repeat(64),
  });
}

describe("loadEvaluation", () => {
  const missing = path.join(os.tmpdir(), "dcl-no-such-data-folder");
  const config = { ...defaultEval, trainSubset: 20, testSubset: null };

  it("uses splits already loaded at evaluation size instead of reading them again", async () => {
    const train = split("train", 50, 32);
    const test = split("test", 30, 32);
    const evaluation = await loadEvaluation("cifar10", missing, config, () => undefined, [
      train,
      test,
    ]);
    assert.equal(evaluation.train.split, train);
    assert.equal(evaluation.test.split, test);
    assert.equal(evaluation.train.indices.length, 20);
    assert.equal(evaluation.test.indices.length, 30);
  });

  it("does not reuse a split of another size", async () => {
    const small = split("train", 50, 16);
    await assert.rejects(
      loadEvaluation("cifar10", missing, config, () => undefined, [small, split("test", 30, 16)]),
      /dcl-no-such-data-folder/,
    );
  });
});
