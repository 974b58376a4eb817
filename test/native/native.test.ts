/**
 * The native TensorFlow backend against tfjs-core's reference cpu backend, on
 * every op family the training step uses, plus a few Adam steps of a tiny conv
 * net. Skipped, with the command that builds it, when `make native` has not run.
 */
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import {
  NATIVE_BACKEND_NAME, NATIVE_BUILD_DIR, loadNative,
} from "../../src/backend/native.js";
import { Rng } from "../../src/util/rng.js";

const ADDON = join(NATIVE_BUILD_DIR, "lib", "tfjs_binding.node");
const skip = existsSync(ADDON)
  ? false
  : `native backend not built (no ${ADDON}): \`make native\` builds it`;

/** Relative tolerance: max |native - cpu| over max |cpu|, per tensor. */
const TOLERANCE = 1e-4;

/** Named inputs of the op check, as plain arrays so each backend builds its own. */
interface Inputs {
  x: Float32Array;      // [2,8,8,3] images
  w1: Float32Array;     // [3,3,3,4] stride-1 filter
  w2: Float32Array;     // [3,3,4,6] stride-2 filter
  gamma: Float32Array;  // [4] batch-norm scale
  beta: Float32Array;   // [4] batch-norm shift
  dense: Float32Array;  // [6,5] projection
}

function randomInputs(seed: number): Inputs {
  const rng = new Rng(seed);
  const fill = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => rng.normal() * scale);
  return {
    x: fill(2 * 8 * 8 * 3, 1),
    w1: fill(3 * 3 * 3 * 4, 0.3),
    w2: fill(3 * 3 * 4 * 6, 0.2),
    gamma: Float32Array.from({ length: 4 }, () => rng.uniform(0.5, 1.5)),
    beta: fill(4, 0.1),
    dense: fill(6 * 5, 0.4),
  };
}

/**
 * A scalar built from conv2d (stride 1 and 2, same padding), moments, rsqrt,
 * relu, mean, matMul, concat, gather, exp, log and logSumExp, so that its
 * gradient runs both conv2d gradients and the backward of every other op.
 */
function opSoup(x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, gamma: tf.Tensor,
  beta: tf.Tensor, dense: tf.Tensor): tf.Scalar {
  const h1 = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, "same"); // [2,8,8,4]
  const { mean, variance } = tf.moments(h1, [0, 1, 2]);                 // [4]
  const normed = tf.add(tf.mul(tf.mul(tf.sub(h1, mean),
    tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
  const h2 = tf.relu(tf.conv2d(tf.relu(normed) as tf.Tensor4D,
    w2 as tf.Tensor4D, 2, "same"));                                     // [2,4,4,6]
  const pooled = tf.mean(h2, [1, 2]) as tf.Tensor2D;                    // [2,6]
  const z = tf.matMul(pooled, dense as tf.Tensor2D);                    // [2,5]
  const stacked = tf.concat([z, tf.mul(z, 0.5)], 0);                    // [4,5]
  const picked = tf.gather(stacked, tf.tensor1d([3, 0, 2], "int32"));   // [3,5]
  const viaExp = tf.log(tf.sum(tf.exp(picked), 1));                     // [3]
  return tf.mean(tf.add(tf.logSumExp(picked, 1), viaExp)) as tf.Scalar;
}

/** The op soup's value and its gradients, computed on one backend. */
async function valueAndGradients(backend: string, inputs: Inputs) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const tensors = [
      tf.tensor4d(inputs.x, [2, 8, 8, 3]),
      tf.tensor4d(inputs.w1, [3, 3, 3, 4]),
      tf.tensor4d(inputs.w2, [3, 3, 4, 6]),
      tf.tensor1d(inputs.gamma),
      tf.tensor1d(inputs.beta),
      tf.tensor2d(inputs.dense, [6, 5]),
    ];
    const { value, grads } = tf.valueAndGrads(
      (x, w1, w2, g, b, d) => opSoup(x, w1, w2, g, b, d))(tensors);
    return { value: value.dataSync()[0], grads: grads.map((g) => g.dataSync()) };
  });
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Registers tfjs-core's gradients unless something else in the project has. */
function ensureGradients(): void {
  if (tf.getGradient(tf.Conv2D) === undefined) {
    createRequire(import.meta.url)(join(NATIVE_BUILD_DIR, "js", "gradients.cjs"));
  }
}

test("native backend matches cpu on the training ops", { skip }, async () => {
  await loadNative("native");
  ensureGradients();
  const inputs = randomInputs(7);

  const reference = await valueAndGradients("cpu", inputs);
  const native = await valueAndGradients(NATIVE_BACKEND_NAME, inputs);

  assert.equal(tf.getBackend(), NATIVE_BACKEND_NAME);
  const names = ["x", "w1", "w2", "gamma", "beta", "dense"];
  assert.ok(relativeError([native.value], [reference.value]) < TOLERANCE,
    `loss: native ${native.value} vs cpu ${reference.value}`);
  names.forEach((name, i) => {
    const error = relativeError(native.grads[i], reference.grads[i]);
    assert.ok(error < TOLERANCE, `gradient of ${name}: relative error ${error}`);
  });
});

test("a tiny conv net trains with Adam on the native backend", { skip }, async () => {
  await loadNative("native");
  ensureGradients();
  await tf.setBackend(NATIVE_BACKEND_NAME);
  const rng = new Rng(11);
  const normal = (shape: number[], scale: number) => tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) },
      () => rng.normal() * scale), shape);

  // 16 random 8x8 RGB images, each its own class out of 4: memorisable
  const images = normal([16, 8, 8, 3], 1) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(
    Int32Array.from({ length: 16 }, (_, i) => i % 4), "int32"), 4);
  const conv1 = tf.variable(normal([3, 3, 3, 8], 0.3));
  const conv2 = tf.variable(normal([3, 3, 8, 8], 0.2));
  const head = tf.variable(normal([8, 4], 0.3));
  const optimizer = tf.train.adam(0.01);

  const loss = () => tf.tidy(() => {
    const h1 = tf.relu(tf.conv2d(images, conv1 as tf.Tensor4D, 1, "same"));
    const h2 = tf.relu(tf.conv2d(h1, conv2 as tf.Tensor4D, 2, "same")); // [16,4,4,8]
    const logits = tf.matMul(tf.mean(h2, [1, 2]) as tf.Tensor2D,
      head as tf.Tensor2D);                                            // [16,4]
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  });

  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    const { value, grads } = tf.variableGrads(loss);
    optimizer.applyGradients(
      Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    losses.push(value.dataSync()[0]);
    tf.dispose([value, ...Object.values(grads)]);
  }

  assert.ok(losses.every(Number.isFinite), `non-finite loss in ${losses}`);
  assert.ok(losses[29] < 0.8 * losses[0],
    `loss did not decrease: ${losses[0]} -> ${losses[29]}`);
});
