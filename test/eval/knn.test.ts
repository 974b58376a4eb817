import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { knnAccuracy, l2Normalise, type KnnOptions } from "../../src/eval/knn.js";
import { Rng } from "../../src/util/rng.js";

await tf.setBackend("cpu");

/**
 * Hand-checked 2-D bank: unit vectors at known angles.
 * Query (1, 0) has similarities A = 1, C = 0.8, B = 0.6, D = -1.
 */
const bank2d = new Float32Array([
  1, 0, // A, class 0
  0.6, 0.8, // B, class 1
  0.8, 0.6, // C, class 1
  -1, 0, // D, class 2
]);
const bankLabels2d = new Int32Array([0, 1, 1, 2]);

function classify2d(query: number[], label: number, options: KnnOptions): number {
  return knnAccuracy(bank2d, bankLabels2d, new Float32Array(query), new Int32Array([label]), 2, options)
    .top1;
}

for (const engine of ["js", "tfjs"] as const) {
  test(`kNN (${engine}): hand-computed 2-D neighbours and weights`, () => {
    const base = { temperature: 0.5, classes: 3, engine };
    // k = 1: only A votes
    assert.equal(classify2d([1, 0], 0, { ...base, k: 1 }), 100);
    // k = 2: A weighs e^2 = 7.39 against C's e^1.6 = 4.95 -> class 0
    assert.equal(classify2d([1, 0], 0, { ...base, k: 2 }), 100);
    // k = 3: C + B weigh e^1.6 + e^1.2 = 8.27 > 7.39 -> class 1
    assert.equal(classify2d([1, 0], 1, { ...base, k: 3 }), 100);
    assert.equal(classify2d([1, 0], 0, { ...base, k: 3 }), 0);
    // a sharper temperature 0.1: e^10 beats e^8 + e^6 -> class 0 again
    assert.equal(classify2d([1, 0], 0, { ...base, k: 3, temperature: 0.1 }), 100);
    // features are normalised first: the query's length does not matter
    assert.equal(classify2d([50, 0], 1, { ...base, k: 3 }), 100);
    // the far side: (-1, 0.1) is nearest to D
    assert.equal(classify2d([-1, 0.1], 2, { ...base, k: 1 }), 100);
  });

  test(`kNN (${engine}): k above the bank size is clamped`, () => {
    // with all four neighbours voting, (1,0) goes to class 1 (e^1.6 + e^1.2 > e^2 + e^-2)
    assert.equal(classify2d([1, 0], 1, { k: 1000, temperature: 0.5, classes: 3, engine }), 100);
    const bank = randomSet(40, 7, 5, 11);
    const queries = randomSet(9, 7, 5, 12);
    const options = { temperature: 0.5, classes: 5, engine };
    assert.deepEqual(
      knnAccuracy(bank.x, bank.y, queries.x, queries.y, 7, { ...options, k: 1000 }),
      knnAccuracy(bank.x, bank.y, queries.x, queries.y, 7, { ...options, k: 40 }),
    );
  });
}

test("kNN: top-5 with fewer than 5 classes counts every query", () => {
  const result = knnAccuracy(bank2d, bankLabels2d, new Float32Array([1, 0, -1, 0]),
    new Int32Array([2, 1]), 2, { k: 2, temperature: 0.5, classes: 3 });
  assert.equal(result.top1, 0);
  assert.equal(result.top5, 100);
});

/** Features with a class signal: coordinate `label` is raised. */
function randomSet(rows: number, dim: number, classes: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * dim);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = rng.int(classes);
    for (let d = 0; d < dim; d++) x[r * dim + d] = rng.normal();
    x[r * dim + (y[r] % dim)] += 1.2;
  }
  return { x, y };
}

/** Straightforward float64 reference: full sort of every similarity. */
function referenceKnn(
  bank: Float32Array, bankLabels: Int32Array, queries: Float32Array, queryLabels: Int32Array,
  dim: number, k: number, t: number, classes: number,
): { top1: number; top5: number } {
  const b = l2Normalise(bank, bankLabels.length, dim);
  const q = l2Normalise(queries, queryLabels.length, dim);
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < queryLabels.length; i++) {
    const sims = Array.from(bankLabels, (_, j) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[i * dim + d] * b[j * dim + d];
      return { s, j };
    }).sort((u, v) => v.s - u.s);
    const score = new Array<number>(classes).fill(0);
    for (const { s, j } of sims.slice(0, k)) score[bankLabels[j]] += Math.exp(s / t);
    const order = score.map((s, c) => ({ s, c })).sort((u, v) => v.s - u.s || u.c - v.c);
    const rank = order.findIndex(({ c }) => c === queryLabels[i]);
    if (rank < 1) top1++;
    if (rank < 5) top5++;
  }
  const n = queryLabels.length;
  return { top1: (100 * top1) / n, top5: (100 * top5) / n };
}

test("kNN matches a brute-force reference on random data, both engines, ragged blocks", () => {
  const dim = 16;
  const classes = 8;
  const bank = randomSet(300, dim, classes, 1);
  const queries = randomSet(50, dim, classes, 2);
  for (const k of [1, 5, 17, 200]) {
    for (const temperature of [0.5, 0.07]) {
      const expected = referenceKnn(bank.x, bank.y, queries.x, queries.y, dim, k, temperature, classes);
      for (const engine of ["js", "tfjs"] as const) {
        for (const chunkSize of [7, 50, undefined]) {
          const got = knnAccuracy(bank.x, bank.y, queries.x, queries.y, dim,
            { k, temperature, classes, engine, chunkSize });
          assert.deepEqual(got, expected, `k ${k} t ${temperature} ${engine} chunk ${chunkSize}`);
        }
      }
    }
  }
  // the class signal makes this clearly better than chance (12.5 %)
  const monitor = knnAccuracy(bank.x, bank.y, queries.x, queries.y, dim,
    { k: 200, temperature: 0.5, classes });
  assert.ok(monitor.top1 > 25, `top-1 ${monitor.top1}`);
});

test("kNN leaves its inputs untouched and leaks no tensors", () => {
  const bank = randomSet(60, 5, 3, 3);
  const queries = randomSet(20, 5, 3, 4);
  const bankCopy = bank.x.slice();
  const queryCopy = queries.x.slice();
  const before = tf.memory().numTensors;
  knnAccuracy(bank.x, bank.y, queries.x, queries.y, 5,
    { k: 10, temperature: 0.5, classes: 3, engine: "tfjs", chunkSize: 6 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(bank.x, bankCopy);
  assert.deepEqual(queries.x, queryCopy);
});

test("kNN rejects malformed input with a clear message", () => {
  const options = { k: 1, temperature: 0.5, classes: 3 };
  const q = new Float32Array([1, 0]);
  const ql = new Int32Array([0]);
  assert.throws(() => knnAccuracy(bank2d, bankLabels2d, q, ql, 3, options), /bank holds 8 values/);
  assert.throws(() => knnAccuracy(bank2d, bankLabels2d, q, new Int32Array([5]), 2, options),
    /query label 5 at row 0 is outside 0..2/);
  assert.throws(() => knnAccuracy(new Float32Array(0), new Int32Array(0), q, ql, 2, options),
    /memory bank is empty/);
  assert.throws(() => knnAccuracy(bank2d, bankLabels2d, q, ql, 2, { ...options, k: 0 }),
    /k must be a positive integer/);
  assert.throws(() => knnAccuracy(bank2d, bankLabels2d, q, ql, 2, { ...options, temperature: 0 }),
    /temperature must be > 0/);
});

test("kNN on the wasm backend agrees with the cpu backend", async () => {
  const bank = randomSet(120, 12, 4, 5);
  const queries = randomSet(30, 12, 4, 6);
  const options = { k: 20, temperature: 0.5, classes: 4, engine: "tfjs" as const };
  const onCpu = knnAccuracy(bank.x, bank.y, queries.x, queries.y, 12, options);
  await tf.setBackend("wasm");
  try {
    const before = tf.memory().numTensors;
    const onWasm = knnAccuracy(bank.x, bank.y, queries.x, queries.y, 12, options);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(onWasm, onCpu);
  } finally {
    await tf.setBackend("cpu");
  }
});
