import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../src/util/gradients.js";
import { createEncoder, encoderPresets, withStem } from "../../src/models/encoder.js";
import { BatchNorm, commitUpdates, ParameterStore, type Pass } from "../../src/models/layers.js";
import { Rng } from "../../src/util/rng.js";

before(async () => {
  await tf.setBackend("cpu");
});

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => 2 * rng.normal() + 0.5), shape);
}

describe("BatchNorm", () => {
  test("hand-written backward pass equals automatic differentiation", () => {
    for (const shape of [[4, 3, 5, 6], [7, 6]]) {
      const store = new ParameterStore(new Rng(1), "bn-test");
      const bn = new BatchNorm(store, "bn", 6);
      bn.gamma.assign(randomTensor([6], 2));
      bn.beta.assign(randomTensor([6], 3));
      const x = randomTensor(shape, 4);
      const weights = randomTensor(shape, 5); // makes the loss depend on every output
      const axes = shape.slice(0, -1).map((_, i) => i);

      const input = tf.variable(x);
      const vars = [input, bn.gamma, bn.beta];
      const ours = tf.variableGrads(() => {
        const pass: Pass = { training: true, updates: [] };
        const y = bn.apply(input, pass);
        pass.updates.forEach((u) => u.batch.dispose());
        return tf.sum(tf.mul(y, weights)) as tf.Scalar;
      }, vars);
      const reference = tf.variableGrads(() => {
        const { mean, variance } = tf.moments(input, axes);
        const y = tf.batchNorm(input, mean, variance, bn.beta, bn.gamma, BatchNorm.eps);
        return tf.sum(tf.mul(y, weights)) as tf.Scalar;
      }, vars);
      for (const v of vars) {
        const a = ours.grads[v.name];
        const b = reference.grads[v.name];
        const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
        const scale = tf.max(tf.abs(b)).dataSync()[0];
        assert.ok(diff <= 1e-4 * Math.max(1, scale), `shape ${shape} ${v.name}: max diff ${diff}`);
      }
      input.dispose();
      store.dispose();
    }
  });

  test("running statistics follow PyTorch: momentum 0.1, unbiased variance", () => {
    const store = new ParameterStore(new Rng(1), "bn-stats");
    const bn = new BatchNorm(store, "bn", 2);
    const x = tf.tensor2d([[1, 10], [3, 14]]);
    const pass: Pass = { training: true, updates: [] };
    bn.apply(x, pass);
    commitUpdates(pass.updates);
    // mean (2, 12); unbiased variance (2, 8)
    assert.deepEqual(Array.from(bn.runningMean.dataSync()).map((v) => +v.toFixed(5)), [0.2, 1.2]);
    assert.deepEqual(Array.from(bn.runningVar.dataSync()).map((v) => +v.toFixed(5)), [1.1, 1.7]);
    store.dispose();
  });
});

describe("encoders", () => {
  test("feature and projection sizes of every architecture", () => {
    const expected: Record<string, number> = { small: 128, resnet18: 512, resnet50: 2048 };
    for (const [name, dim] of Object.entries(expected)) {
      const encoder = createEncoder(encoderPresets[name], 0);
      assert.equal(encoder.featureDim, dim);
      const pass: Pass = { training: true, updates: [] };
      const [h, z] = tf.tidy(() => {
        const hh = encoder.backbone(tf.zeros([2, 32, 32, 3]) as tf.Tensor4D, pass);
        return [hh.shape, encoder.project(hh, pass).shape];
      });
      pass.updates.forEach((u) => u.batch.dispose());
      assert.deepEqual(h, [2, dim]);
      assert.deepEqual(z, [2, 128]);
      encoder.dispose();
    }
  });

  test("parameter counts match the torchvision-style ResNet-18 with the CIFAR stem", () => {
    // backbone 11,168,832 (torchvision resnet18 with a 3x3 stem, no fc) plus the
    // head: 512*512 (no bias) + 2*512 (BN) + 512*128 + 128
    const encoder = createEncoder(encoderPresets.resnet18, 0);
    const count = encoder.trainableVariables.reduce((n, v) => n + v.size, 0);
    assert.equal(count, 11_168_832 + 512 * 512 + 1024 + 512 * 128 + 128);
    encoder.dispose();
  });

  test("the ImageNet stem divides the resolution by 4 before the stages and trains", () => {
    const config = withStem(encoderPresets.small, "imagenet");
    const cifar = withStem(config, "cifar");
    assert.equal(config.stem, "imagenet");
    assert.ok(!("stem" in cifar), "the CIFAR stem stays implicit");
    const encoder = createEncoder(config, 0);
    assert.deepEqual(encoder.trainableVariables[0].shape, [7, 7, 3, 32]);
    const x = randomTensor([2, 64, 64, 3], 1) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(() => {
      const pass: Pass = { training: true, updates: [] };
      const h = encoder.backbone(x, pass);
      pass.updates.forEach((u) => u.batch.dispose());
      assert.deepEqual(h.shape, [2, 128]);
      return tf.sum(tf.square(encoder.project(h, pass))) as tf.Scalar;
    }, encoder.trainableVariables);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    const stemGrad = grads[encoder.trainableVariables[0].name];
    assert.ok(tf.max(tf.abs(stemGrad)).dataSync()[0] > 0, "the stem convolution gets a gradient");
    tf.dispose([value, x, ...Object.values(grads)]);
    encoder.dispose();
  });

  test("the same seed gives the same weights, another seed other weights", () => {
    const a = createEncoder(encoderPresets.small, 3);
    const b = createEncoder(encoderPresets.small, 3);
    const c = createEncoder(encoderPresets.small, 4);
    assert.deepEqual(a.trainableVariables[0].dataSync(), b.trainableVariables[0].dataSync());
    assert.notDeepEqual(a.trainableVariables[0].dataSync(), c.trainableVariables[0].dataSync());
    [a, b, c].forEach((e) => e.dispose());
  });

  test("bad configurations are rejected with a clear message", () => {
    const config = (widths: number[], blocks: number[]) =>
      ({ ...encoderPresets.small, widths, blocks });
    assert.throws(() => createEncoder(config([8, 16], [1]), 0), /as many widths/);
    assert.throws(() => createEncoder(config([0], [1]), 0), /positive integers/);
    const badStem = { ...encoderPresets.small, stem: "vgg" } as unknown as typeof encoderPresets.small;
    assert.throws(() => createEncoder(badStem, 0), /unknown encoder stem "vgg"/);
  });
});
