import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { defaultLoss, type PretrainConfig } from "../../src/config.js";
import { datasetInfo } from "../../src/data/index.js";
import { residentSplit } from "../../src/data/pixels.js";
import type { DatasetInfo, ImageSplit } from "../../src/data/types.js";
import { createEncoder } from "../../src/models/encoder.js";
import { pretrain } from "../../src/train/pretrain.js";
import { Rng } from "../../src/util/rng.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** Images of four kinds (a bright square in one quadrant on noise), 16x16. */
function quadrantSplit(count: number, seed: number, unlabeled = false): ImageSplit {
  const size = 16;
  const rng = new Rng(seed);
  const pixels = new Uint8Array(count * size * size * 3);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 4;
    labels[n] = unlabeled ? -1 : label;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = (y < 8) === (label < 2) && (x < 8) === (label % 2 === 0);
        for (let c = 0; c < 3; c++) {
          pixels[((n * size + y) * size + x) * 3 + c] = inside ? 200 + rng.int(55) : rng.int(80);
        }
      }
    }
  }
  return residentSplit({
    dataset: "cifar10", split: "train", count, height: size, width: size, pixels, labels,
    classes: ["a", "b", "c", "d"], checksum: "synthetic",
  });
}

const info: DatasetInfo = { ...datasetInfo("cifar10"), pretrainSize: 16, evalSize: 16 };

const config: PretrainConfig = {
  dataset: "cifar10",
  dataDir: "unused",
  subset: null,
  encoder: { arch: "small", widths: [8, 16], blocks: [1, 1], headHidden: 32, projectionDim: 16 },
  loss: { ...defaultLoss, kind: "debiased" },
  batchSize: 16,
  epochs: 2,
  lr: 3e-3,
  weightDecay: 1e-6,
  seed: 1,
  chunkSize: null,
};

const quiet = { log: () => undefined, backend: "cpu", progress: false };

describe("pretraining", () => {
  test("two epochs on a tiny slice lower the loss", async () => {
    const encoder = createEncoder(config.encoder, config.seed);
    const records = await pretrain(encoder, [quadrantSplit(96, 1)], info, config, quiet);
    assert.equal(records.length, 2);
    assert.ok(records[1].loss < records[0].loss, `loss ${records[0].loss} -> ${records[1].loss}`);
    assert.ok(records.every((r) => r.imagesPerSecond > 0 && Number.isFinite(r.loss)));
    encoder.dispose();
  });

  test("a stopped run resumes from its checkpoint and ends where an unbroken one does", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcl-resume-"));
    const data = [quadrantSplit(48, 2)];
    const straight = createEncoder(config.encoder, 3);
    const full = await pretrain(straight, data, info, config, quiet);

    // the same run stopped after one epoch, then started again in a new process
    const first = createEncoder(config.encoder, 3);
    await pretrain(first, data, info, { ...config, epochs: 1 }, { ...quiet, checkpointDir: dir });
    const lines: string[] = [];
    const resumed = createEncoder(config.encoder, 99); // weights come from the checkpoint
    const records = await pretrain(resumed, data, info, config, {
      ...quiet,
      checkpointDir: dir,
      log: (line) => lines.push(line),
    });
    assert.ok(lines.some((l) => /resuming from .*1\/2 epochs already done/.test(l)), lines.join("\n"));
    assert.equal(records.length, 2);
    assert.ok(Math.abs(records[1].loss - full[1].loss) < 1e-5, `${records[1].loss} vs ${full[1].loss}`);
    const a = straight.allVariables.map((v) => v.dataSync());
    const b = resumed.allVariables.map((v) => v.dataSync());
    a.forEach((x, i) => x.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) < 1e-5)));

    // a checkpoint of another configuration is refused, not silently reused
    await assert.rejects(
      pretrain(createEncoder(config.encoder, 3), data, info, { ...config, lr: 1e-2 }, { ...quiet, checkpointDir: dir }),
      /different configuration/,
    );
    [straight, first, resumed].forEach((e) => e.dispose());
    fs.rmSync(dir, { recursive: true });
  });

  test("epochs = 0 saves the untrained encoder; asking for fewer epochs than done is refused", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcl-zero-"));
    const data = [quadrantSplit(32, 6)];
    await pretrain(createEncoder(config.encoder, 1), data, info, { ...config, epochs: 0 }, { ...quiet, checkpointDir: dir });
    assert.ok(fs.existsSync(path.join(dir, "pretrain.ckpt")));
    await pretrain(createEncoder(config.encoder, 1), data, info, { ...config, epochs: 1 }, { ...quiet, checkpointDir: dir });
    await assert.rejects(
      pretrain(createEncoder(config.encoder, 1), data, info, { ...config, epochs: 0 }, { ...quiet, checkpointDir: dir }),
      /already holds 1 epochs, more than the 0 asked for/,
    );
    // a checkpoint cut anywhere, even inside the optimiser state, is refused
    const file = path.join(dir, "pretrain.ckpt");
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    await assert.rejects(
      pretrain(createEncoder(config.encoder, 1), data, info, config, { ...quiet, checkpointDir: dir }),
      /truncated or damaged/,
    );
    fs.rmSync(dir, { recursive: true });
  });

  test("a checkpoint folder that is a file is refused before any training", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dcl-file-")), "taken");
    fs.writeFileSync(file, "x");
    await assert.rejects(
      pretrain(createEncoder(config.encoder, 1), [quadrantSplit(32, 6)], info, config, { ...quiet, checkpointDir: file }),
      /is a file/,
    );
  });

  test("the unbiased objective refuses unlabeled pretraining images", async () => {
    const encoder = createEncoder(config.encoder, 1);
    await assert.rejects(
      pretrain(encoder, [quadrantSplit(32, 4, true)], info, { ...config, loss: { ...config.loss, kind: "unbiased" } }, quiet),
      /needs the true label/,
    );
    encoder.dispose();
  });

  test("a batch larger than the data is refused with advice", async () => {
    const encoder = createEncoder(config.encoder, 1);
    await assert.rejects(pretrain(encoder, [quadrantSplit(8, 5)], info, config, quiet), /lower the batch size/);
    encoder.dispose();
  });
});
