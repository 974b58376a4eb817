import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { linearProbe, type LinearProbeOptions } from "../../src/eval/linear.js";
import { topKAccuracy } from "../../src/eval/topk.js";
import { Rng } from "../../src/util/rng.js";

await tf.setBackend("cpu");

const DIM = 12;
const CLASSES = 4;

/** Linearly separable clusters: class c sits at +4 on coordinate c, unit noise elsewhere. */
function clusters(rows: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * DIM);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = rng.int(CLASSES);
    for (let d = 0; d < DIM; d++) x[r * DIM + d] = 0.5 * rng.normal();
    x[r * DIM + y[r]] += 4;
  }
  return { x, y };
}

const train = clusters(600, 1);
const held = clusters(200, 2);
const options: LinearProbeOptions = {
  epochs: 8,
  batchSize: 64,
  lr: 1e-2,
  weightDecay: 1e-6,
  classes: CLASSES,
  seed: 7,
};

function probe(overrides: Partial<LinearProbeOptions> = {}) {
  return linearProbe(train.x, train.y, held.x, held.y, DIM, { ...options, ...overrides });
}

test("linear probe separates separable clusters and its loss falls", async () => {
  const lines: string[] = [];
  const before = tf.memory().numTensors;
  const result = await probe({ log: (line) => lines.push(line) });
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.ok(result.top1 > 90, `top-1 ${result.top1}`);
  assert.equal(result.top5, 100); // 4 classes: every label is within the top 5
  assert.equal(result.trainLoss.length, options.epochs);
  assert.ok(result.trainLoss.every(Number.isFinite));
  assert.ok(result.trainLoss[options.epochs - 1] < 0.5 * result.trainLoss[0],
    `loss ${result.trainLoss.join(", ")}`);
  assert.equal(lines.length, options.epochs);
  assert.match(lines[0], /^linear epoch 1\/8 loss \d+\.\d{4} \(.+ s, cpu\)$/);
});

test("linear probe is deterministic for a seed and differs across seeds", async () => {
  const first = await probe({ epochs: 2 });
  const again = await probe({ epochs: 2 });
  const other = await probe({ epochs: 2, seed: 8 });
  assert.deepEqual(again, first);
  assert.notDeepEqual(other.trainLoss, first.trainLoss);
});

test("weight decay enters the update and a strong one holds the loss up", async () => {
  const plain = await probe({ epochs: 3, weightDecay: 0 });
  const decayed = await probe({ epochs: 3, weightDecay: 1 });
  assert.ok(decayed.trainLoss[2] > plain.trainLoss[2],
    `decayed ${decayed.trainLoss[2]} vs plain ${plain.trainLoss[2]}`);
});

test("linear probe with zero epochs scores its seeded initial weights", async () => {
  const result = await probe({ epochs: 0 });
  assert.deepEqual(result.trainLoss, []);
  assert.deepEqual(await probe({ epochs: 0 }), result);
});

test("linear probe rejects malformed input", async () => {
  await assert.rejects(
    linearProbe(train.x, train.y, held.x, held.y, DIM + 1, options),
    /train features hold 7200 values, expected 600 x 13/,
  );
  await assert.rejects(probe({ classes: 3 }), /label 3 at row \d+ is outside 0..2/);
  await assert.rejects(probe({ batchSize: 0 }), /batchSize must be a positive integer/);
});

test("topKAccuracy: hand cases, ties towards the lower class, few classes", () => {
  // rows: [0.1, 0.7, 0.2], [0.5, 0.5, 0], [0, 0.1, 0.9]
  const scores = new Float32Array([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0.1, 0.9]);
  assert.equal(topKAccuracy(scores, new Int32Array([1, 0, 2]), 1), 100);
  // the tie in row 2 ranks class 0 first, so label 1 is a top-1 miss
  assert.equal(topKAccuracy(scores, new Int32Array([1, 1, 2]), 1), (100 * 2) / 3);
  // top-2: row 1's label 0 and row 3's label 0 rank last; row 2's label 1 ranks second
  assert.equal(topKAccuracy(scores, new Int32Array([0, 1, 0]), 2), 100 / 3);
  assert.equal(topKAccuracy(scores, new Int32Array([0, 2, 0]), 5), 100);
  assert.throws(() => topKAccuracy(scores, new Int32Array([0, 1]), 1), /do not split into 2 rows/);
  assert.throws(() => topKAccuracy(scores, new Int32Array([0, 1, 3]), 1), /label 3 of row 2/);
  assert.throws(() => topKAccuracy(scores, new Int32Array(0), 1), /no rows/);
});
