/**
 * The custom wasm kernels against the pure-JS cpu backend: convolution
 * gradients over many shapes, reductions, Identity.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../src/util/gradients.js";
import { setupBackend } from "../../src/backend/index.js";

/** Values of fixed pseudo-random normals, identical on every backend. */
function normals(size: number, seed: number): Float32Array {
  return tf.tidy(() =>
    (tf.randomNormal([size], 0, 1, "float32", seed).dataSync() as Float32Array).slice());
}

/** Largest absolute difference, relative to the largest reference value. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, "result sizes differ");
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/** Run `compute` on a backend and read every output. */
async function on(backend: string, compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outputs = compute();
  const values = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outputs);
  return values;
}

interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: "same" | "valid" | number | tf.backend_util.ExplicitPadding;
}

const convCases: ConvCase[] = [
  { x: [1, 5, 5, 1], filter: [1, 1, 1, 1], strides: 1, pad: "valid" },
  { x: [2, 6, 6, 3], filter: [1, 1, 3, 4], strides: 1, pad: "same" },
  { x: [2, 8, 8, 4], filter: [1, 1, 4, 5], strides: 2, pad: "same" },
  { x: [3, 7, 9, 2], filter: [1, 1, 2, 3], strides: 2, pad: "valid" },
  { x: [2, 7, 7, 3], filter: [1, 1, 3, 2], strides: 3, pad: "same" },
  { x: [2, 6, 6, 1], filter: [2, 2, 1, 3], strides: 2, pad: "valid" },
  { x: [1, 7, 5, 2], filter: [2, 2, 2, 2], strides: 1, pad: "same" },
  { x: [2, 9, 9, 3], filter: [2, 2, 3, 4], strides: 3, pad: "valid" },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: "same" },
  { x: [1, 5, 5, 1], filter: [3, 3, 1, 1], strides: 1, pad: "valid" },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: "same" },
  { x: [3, 9, 7, 5], filter: [3, 3, 5, 2], strides: 2, pad: "same" },
  { x: [2, 9, 9, 2], filter: [3, 3, 2, 3], strides: 2, pad: "valid" },
  { x: [2, 10, 11, 2], filter: [3, 3, 2, 2], strides: 3, pad: "same" },
  { x: [1, 11, 11, 3], filter: [3, 3, 3, 2], strides: 3, pad: "valid" },
  { x: [2, 8, 8, 4], filter: [3, 3, 4, 4], strides: 1, pad: 1 },
  { x: [3, 7, 7, 2], filter: [3, 3, 2, 2], strides: 2,
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 6, 7, 2], filter: [3, 3, 2, 3], strides: [1, 2],
    pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { x: [1, 9, 7, 2], filter: [5, 5, 2, 3], strides: 1, pad: "same" },
  { x: [2, 9, 7, 2], filter: [5, 5, 2, 3], strides: 3, pad: "valid" },
  { x: [2, 12, 12, 3], filter: [5, 5, 3, 2], strides: 2, pad: "same" },
  { x: [1, 8, 8, 1], filter: [5, 5, 1, 1], strides: 2, pad: 2 },
  { x: [4, 16, 16, 8], filter: [3, 3, 8, 16], strides: 2, pad: "same" },
  { x: [4, 8, 8, 16], filter: [3, 3, 16, 16], strides: 1, pad: "same" },
  // the ImageNet stem
  { x: [2, 16, 16, 3], filter: [7, 7, 3, 4], strides: 2, pad: "same" },
];

/** Forward output, input gradient and filter gradient of sum(conv * weights). */
function convGradients(c: ConvCase): () => tf.Tensor[] {
  const xValues = normals(tf.util.sizeFromShape(c.x), 1);
  const filterValues = normals(tf.util.sizeFromShape(c.filter), 2);
  return () => {
    const x = tf.tensor4d(xValues, c.x);
    const filter = tf.tensor4d(filterValues, c.filter);
    const forward = tf.conv2d(x, filter, c.strides, c.pad);
    // Distinct weights per output element so that no gradient is uniform.
    const weights = tf.tensor(normals(forward.size, 3), forward.shape);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), weights));
    const [dx, dFilter] = tf.grads(loss)([x, filter]);
    return [forward, dx, dFilter];
  };
}

describe("custom wasm kernels match the cpu backend", () => {
  before(async () => {
    await setupBackend({ force: "wasm", threads: 1, log: () => undefined });
  });

  for (const c of convCases) {
    const pad = JSON.stringify(c.pad);
    const name = `conv ${c.x} * ${c.filter} strides ${c.strides} pad ${pad}`;
    test(name, async () => {
      const compute = convGradients(c);
      const actual = await on("wasm", compute);
      const expected = await on("cpu", compute);
      const labels = ["forward", "input gradient", "filter gradient"];
      for (let i = 0; i < labels.length; i++) {
        const error = relativeError(actual[i], expected[i]);
        assert.ok(error < 1e-5, `${labels[i]}: relative error ${error}`);
      }
    });
  }

  test("gradients through a conv, batch-norm and relu composite", async () => {
    const xValues = normals(2 * 9 * 9 * 3, 4);
    const w1Values = normals(3 * 3 * 3 * 8, 5);
    const w2Values = normals(1 * 1 * 8 * 4, 6);
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor4d(xValues, [2, 9, 9, 3]);
      const w1 = tf.tensor4d(w1Values, [3, 3, 3, 8]);
      const w2 = tf.tensor4d(w2Values, [1, 1, 8, 4]);
      const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const h = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same");
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        const normed = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5)));
        const y = tf.conv2d(tf.relu(normed) as tf.Tensor4D, c as tf.Tensor4D, 1, "valid");
        return tf.sum(tf.square(tf.mean(y, [1, 2])));
      };
      return tf.grads(loss)([x, w1, w2]);
    };
    const actual = await on("wasm", compute);
    const expected = await on("cpu", compute);
    for (let i = 0; i < expected.length; i++) {
      const error = relativeError(actual[i], expected[i]);
      assert.ok(error < 1e-4, `gradient ${i}: relative error ${error}`);
    }
  });

  const reductions: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
    { shape: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: true },
    { shape: [4, 5, 6, 7], axis: [1, 2], keepDims: false },
    { shape: [3, 300, 2], axis: [0], keepDims: false },
    { shape: [3, 4, 5], axis: [1], keepDims: true },
    { shape: [6, 5], axis: [1], keepDims: false },
    { shape: [2, 3, 4], axis: [0, 2], keepDims: false },
  ];
  for (const r of reductions) {
    test(`sum and mean over ${r.axis} of ${r.shape} (keepDims ${r.keepDims})`, async () => {
      const values = normals(tf.util.sizeFromShape(r.shape), 7);
      const compute = (): tf.Tensor[] => {
        const x = tf.tensor(values, r.shape);
        return [tf.sum(x, r.axis, r.keepDims), tf.mean(x, r.axis, r.keepDims)];
      };
      await tf.setBackend("wasm");
      const shapes = tf.tidy(() => compute().map((t) => t.shape));
      const actual = await on("wasm", compute);
      const expected = await on("cpu", compute);
      const cpuShapes = tf.tidy(() => compute().map((t) => t.shape));
      assert.deepEqual(shapes, cpuShapes);
      for (let i = 0; i < expected.length; i++) {
        const error = relativeError(actual[i], expected[i]);
        assert.ok(error < 1e-5, `output ${i}: relative error ${error}`);
      }
    });
  }

  test("identity shares data yet survives disposal of its source", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const copy = tf.clone(x);
    x.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1, 2, 3, 4]);
    copy.dispose();
  });
});
