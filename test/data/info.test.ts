import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { datasetInfo, datasetSplits, imagenet100Classes } from "../../src/data/index.js";
import { CIFAR10_CLASSES } from "../../src/data/info.js";

describe("datasetInfo", () => {
  it("holds the CIFAR-10 facts of the official setup", () => {
    const info = datasetInfo("cifar10");
    // written out once on purpose: the other tests import CIFAR10_CLASSES, and
    // this literal is what pins it to the label order of the official release
    assert.deepEqual(CIFAR10_CLASSES, [
      "airplane",
      "automobile",
      "bird",
      "cat",
      "deer",
      "dog",
      "frog",
      "horse",
      "ship",
      "truck",
    ]);
    assert.deepEqual(info.classes, CIFAR10_CLASSES);
    assert.equal(info.classPrior, 0.1);
    assert.deepEqual(info.pretrainSplits, ["train"]);
    assert.equal(info.evalTestSplit, "test");
    assert.equal(info.pretrainSize, 32);
    assert.equal(info.evalSize, 32);
    assert.deepEqual(info.mean, [0.4914, 0.4822, 0.4465]);
    assert.deepEqual(info.std, [0.2023, 0.1994, 0.201]);
  });

  it("pretrains STL-10 on train + unlabeled at 32 and evaluates at 96", () => {
    const info = datasetInfo("stl10");
    assert.deepEqual(info.pretrainSplits, ["train", "unlabeled"]);
    assert.equal(info.evalTrainSplit, "train");
    assert.equal(info.pretrainSize, 32);
    assert.equal(info.evalSize, 96);
    assert.equal(info.classes[2], "car");
    assert.deepEqual(info.mean, datasetInfo("cifar10").mean);
    assert.deepEqual(datasetSplits("stl10"), ["train", "test", "unlabeled"]);
  });

  it("gives ImageNet-100 100 sorted classes, prior 0.01 and a size parameter", () => {
    const info = datasetInfo("imagenet100");
    assert.equal(info.classes.length, 100);
    assert.deepEqual([...info.classes], [...info.classes].sort());
    assert.equal(info.classPrior, 0.01);
    assert.equal(info.pretrainSize, 224);
    assert.equal(info.evalTestSplit, "val");
    assert.deepEqual(info.mean, [0.485, 0.456, 0.406]);
    assert.equal(datasetInfo("imagenet100", { imagenetSize: 64 }).evalSize, 64);
    assert.throws(
      () => datasetInfo("imagenet100", { imagenetSize: 2.5 }),
      /size 2.5 is invalid/,
    );
  });

  it("reads the same class list as the shared fact list (when present)", (t) => {
    const shared = fileURLToPath(
      new URL("../../../shared/docs/imagenet100-classes.txt", import.meta.url),
    );
    if (!fs.existsSync(shared)) {
      t.skip(`no ${shared} here`);
      return;
    }
    const listed = fs.readFileSync(shared, "utf8").split(/\s+/).filter(Boolean).sort();
    assert.deepEqual([...imagenet100Classes()], listed);
  });

  it("rejects an unknown dataset name", () => {
    assert.throws(() => datasetInfo("mnist" as "cifar10"), /unknown dataset "mnist"/);
  });
});
