import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { defaultLoss, type EncoderConfig, type LossConfig, type PretrainConfig } from "../../src/config.js";
import { createEncoder, type Encoder } from "../../src/models/encoder.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint.js";
import { createTrainStep, NonFiniteLossError } from "../../src/train/step.js";
import { Rng } from "../../src/util/rng.js";

before(async () => {
  await tf.setBackend("cpu");
});

const tiny: EncoderConfig = { arch: "small", widths: [4, 8], blocks: [1, 1], headHidden: 16, projectionDim: 8 };
const loss: LossConfig = { ...defaultLoss, kind: "debiased", tauPlus: 0.1 };

function images(count: number, size: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const values = Float32Array.from({ length: count * size * size * 3 }, () => rng.normal());
  return tf.tensor4d(values, [count, size, size, 3]);
}

function weights(encoder: Encoder): Float32Array[] {
  return encoder.allVariables.map((v) => v.dataSync() as Float32Array);
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((x, i) => x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j])))));
  return worst;
}

describe("training step", () => {
  test("views split into per-view chunks give the same loss and update as one pass", async () => {
    const v1 = images(6, 8, 1);
    const v2 = images(6, 8, 2);
    const whole = createEncoder(tiny, 5);
    const split = createEncoder(tiny, 5);
    const a = await createTrainStep(whole, loss, { lr: 1e-2, weightDecay: 1e-6, chunkSize: null }).step(v1, v2);
    // chunkSize 6 < 12 images: the chunked path runs, one chunk per view
    const b = await createTrainStep(split, loss, { lr: 1e-2, weightDecay: 1e-6, chunkSize: 6 }).step(v1, v2);
    assert.ok(Math.abs(a - b) < 1e-5, `loss ${a} vs ${b}`);
    assert.ok(maxDifference(weights(whole), weights(split)) < 1e-4, "weights differ after the step");
  });

  test("256 and 512 images per step in chunks of one view match the unsplit step", async () => {
    const small: EncoderConfig = { ...tiny, widths: [4], blocks: [1] };
    for (const batch of [128, 256]) {
      const v1 = images(batch, 4, 21);
      const v2 = images(batch, 4, 22);
      const whole = createEncoder(small, 5);
      const split = createEncoder(small, 5);
      const wholeStep = createTrainStep(whole, loss, { lr: 1e-2, weightDecay: 1e-6, chunkSize: null });
      const splitStep = createTrainStep(split, loss, { lr: 1e-2, weightDecay: 1e-6, chunkSize: batch });
      for (let i = 0; i < 3; i++) {
        const a = await wholeStep.step(v1, v2);
        const b = await splitStep.step(v1, v2);
        assert.ok(Math.abs(a - b) < 1e-4, `${2 * batch} images, step ${i}: loss ${a} vs ${b}`);
      }
      assert.ok(maxDifference(weights(whole), weights(split)) < 1e-3, `${2 * batch} images: weights differ`);
      [whole, split, v1, v2].forEach((t) => t.dispose());
    }
  });

  test("a step without a chunk size runs whole off wasm, and reports the chunks it ran", async () => {
    const encoder = createEncoder(tiny, 3);
    const whole = createTrainStep(encoder, loss, { lr: 1e-2, weightDecay: 0, chunkSize: null });
    const split = createTrainStep(encoder, loss, { lr: 1e-2, weightDecay: 0, chunkSize: 4 });
    const [v1, v2] = [images(8, 8, 1), images(8, 8, 2)];
    await whole.step(v1, v2);
    await split.step(v1, v2);
    assert.equal(whole.lastChunkSize, null);
    assert.equal(split.lastChunkSize, 4);
    tf.dispose([v1, v2]);
    encoder.dispose();
    whole.optimizer.dispose();
    split.optimizer.dispose();
  });

  test("smaller chunks still train: loss falls over repeated steps", async () => {
    const v1 = images(8, 8, 3);
    const v2 = images(8, 8, 4);
    const encoder = createEncoder(tiny, 6);
    const trainer = createTrainStep(encoder, loss, { lr: 1e-2, weightDecay: 0, chunkSize: 4 });
    const first = await trainer.step(v1, v2);
    let last = first;
    for (let i = 0; i < 15; i++) last = await trainer.step(v1, v2);
    assert.ok(last < first - 0.05, `loss ${first} -> ${last}`);
  });

  test("every objective lowers the loss on a fixed batch", async () => {
    for (const kind of ["biased", "debiased", "unbiased", "hard"] as const) {
      const encoder = createEncoder(tiny, 7);
      const trainer = createTrainStep(encoder, { ...loss, kind }, { lr: 1e-2, weightDecay: 1e-6, chunkSize: null });
      const v1 = images(8, 8, 8);
      const v2 = images(8, 8, 9);
      const labels = [0, 1, 2, 3, 0, 1, 2, 3];
      const first = await trainer.step(v1, v2, labels);
      let last = first;
      for (let i = 0; i < 10; i++) last = await trainer.step(v1, v2, labels);
      assert.ok(last < first, `${kind}: loss ${first} -> ${last}`);
      encoder.dispose();
    }
  });

  test("no tensors leak across steps", async () => {
    const encoder = createEncoder(tiny, 8);
    const trainer = createTrainStep(encoder, loss, { lr: 1e-3, weightDecay: 1e-6, chunkSize: 4 });
    const v1 = images(6, 8, 10);
    const v2 = images(6, 8, 11);
    await trainer.step(v1, v2); // creates the optimiser moments
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await trainer.step(v1, v2);
    assert.equal(tf.memory().numTensors, before);
  });

  test("a NaN loss stops the step before the weights change", async () => {
    const encoder = createEncoder(tiny, 9);
    const trainer = createTrainStep(encoder, loss, { lr: 1e-3, weightDecay: 0, chunkSize: null });
    const bad = tf.fill([4, 8, 8, 3], Number.NaN) as tf.Tensor4D;
    const before = weights(encoder);
    await assert.rejects(trainer.step(bad, bad), NonFiniteLossError);
    assert.equal(maxDifference(before, weights(encoder)), 0);
  });

  test("M = 2 positives: an extra view enters the step", async () => {
    const encoder = createEncoder(tiny, 10);
    const trainer = createTrainStep(encoder, { ...loss, positives: 2 }, { lr: 1e-3, weightDecay: 0, chunkSize: null });
    const value = await trainer.step(images(4, 8, 1), images(4, 8, 2), undefined, [images(4, 8, 3)]);
    assert.ok(Number.isFinite(value));
  });
});

describe("checkpoints", () => {
  const config: PretrainConfig = {
    dataset: "cifar10", dataDir: "unused", subset: 16, encoder: tiny, loss, batchSize: 4,
    epochs: 2, lr: 1e-3, weightDecay: 1e-6, seed: 1, chunkSize: null,
  };

  test("restore the encoder, the optimiser and the finished epochs exactly", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcl-ckpt-"));
    const file = path.join(dir, "pretrain.ckpt");
    const encoder = createEncoder(tiny, 1);
    const trainer = createTrainStep(encoder, loss, { lr: 1e-2, weightDecay: 0, chunkSize: null });
    const v1 = images(4, 8, 1);
    const v2 = images(4, 8, 2);
    await trainer.step(v1, v2);
    const records = [{ epoch: 1, loss: 1.5, imagesPerSecond: 10, seconds: 2 }];
    await saveCheckpoint(file, config, encoder, trainer.optimizer, records);
    const next = await trainer.step(v1, v2);

    // a fresh encoder with another seed, restored, must take the same next step
    const restored = createEncoder(tiny, 99);
    const again = createTrainStep(restored, loss, { lr: 1e-2, weightDecay: 0, chunkSize: null });
    assert.deepEqual(loadCheckpoint(file, config, restored, again.optimizer), records);
    assert.ok(Math.abs((await again.step(v1, v2)) - next) < 1e-6);
    assert.ok(maxDifference(weights(encoder), weights(restored)) < 1e-6);

    // another configuration or a damaged file is refused with a clear message
    assert.throws(() => loadCheckpoint(file, { ...config, batchSize: 8 }, restored, again.optimizer), /different configuration/);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 40));
    assert.throws(() => loadCheckpoint(file, config, restored, again.optimizer), /unreadable|truncated/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe("memory", () => {
  test("creating, training and disposing an encoder leaves no tensor behind", async () => {
    const before = tf.memory().numTensors;
    const encoder = createEncoder(tiny, 12);
    const trainer = createTrainStep(encoder, loss, { lr: 1e-3, weightDecay: 1e-6, chunkSize: null });
    const v1 = images(4, 8, 1);
    const v2 = images(4, 8, 2);
    await trainer.step(v1, v2);
    trainer.optimizer.dispose();
    encoder.dispose();
    v1.dispose();
    v2.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
