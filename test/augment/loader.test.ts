/**
 * TwoViewLoader: seeded shuffles per epoch, dropped remainder, batches that
 * depend only on (seed, epoch, batch), and prefetching that changes nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { residentSplit } from "../../src/data/pixels.js";
import type { ImageSplit } from "../../src/data/types.js";
import { defaultAugmentOptions, TwoViewLoader } from "../../src/augment/simclr.js";
import { Rng } from "../../src/util/rng.js";

function makeSplit(count: number, labelOffset: number, name: string): ImageSplit {
  const rng = new Rng(count + labelOffset);
  const pixels = new Uint8Array(count * 32 * 32 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  return residentSplit({
    dataset: "stl10",
    split: name,
    count,
    height: 32,
    width: 32,
    pixels,
    labels: Int32Array.from({ length: count }, (_, i) => labelOffset + i),
    classes: [],
    checksum: name,
  });
}

const augment = defaultAugmentOptions;

test("an epoch is a seeded shuffle in full batches, the remainder dropped", () => {
  const split = makeSplit(10, 0, "train");
  const loader = new TwoViewLoader(split, { batchSize: 4, seed: 3, augment });
  assert.equal(loader.poolSize, 10);
  assert.equal(loader.batchesPerEpoch, 2);

  // a permutation, the same for the same epoch, different across epochs
  const order = loader.epochOrder(0);
  assert.deepEqual(
    Array.from(order).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(loader.epochOrder(0), order);
  assert.notDeepEqual(loader.epochOrder(1), order);

  // the two batches take the first 8 positions of the order, labels follow
  const b0 = loader.makeBatch(0, 0);
  const b1 = loader.makeBatch(0, 1);
  assert.deepEqual(Array.from(b0.indices), Array.from(order.subarray(0, 4)));
  assert.deepEqual(Array.from(b1.indices), Array.from(order.subarray(4, 8)));
  assert.deepEqual(Array.from(b0.labels), Array.from(b0.indices));
  assert.equal(b0.count, 4);
  assert.equal(b0.view1.length, 4 * 32 * 32 * 3);
  assert.equal(b0.view2.length, 4 * 32 * 32 * 3);
  assert.notDeepEqual(b0.view1, b0.view2);
});

test("batches depend only on seed, epoch and batch; prefetch changes nothing", async () => {
  const split = makeSplit(12, 0, "train");
  const options = { batchSize: 5, seed: 21, augment };
  const loader = new TwoViewLoader(split, options);
  const streamed = [];
  for await (const batch of loader.epoch(2)) streamed.push(batch);
  assert.equal(streamed.length, 2);
  assert.deepEqual(
    streamed.map((b) => b.batch),
    [0, 1],
  );

  // a fresh loader building batch 1 directly gives the same data
  const direct = new TwoViewLoader(split, options).makeBatch(2, 1);
  assert.deepEqual(direct.view1, streamed[1].view1);
  assert.deepEqual(direct.view2, streamed[1].view2);
  assert.deepEqual(direct.indices, streamed[1].indices);

  // another seed gives other views
  const other = new TwoViewLoader(split, { ...options, seed: 22 }).makeBatch(2, 1);
  assert.notDeepEqual(other.view1, direct.view1);
});

test("several sources, a subset of positions and extra views", () => {
  const train = makeSplit(4, 100, "train");
  const unlabeled = makeSplit(6, 200, "unlabeled");
  const loader = new TwoViewLoader([train, unlabeled], {
    batchSize: 3,
    seed: 1,
    augment,
    indices: [1, 3, 4, 9, 7, 8],
    views: 3,
  });
  assert.equal(loader.batchesPerEpoch, 2);
  const seen: number[] = [];
  for (const b of [0, 1]) {
    const batch = loader.makeBatch(0, b);
    assert.equal(batch.views.length, 3);
    assert.equal(batch.views[0], batch.view1);
    assert.equal(batch.views[1], batch.view2);
    batch.indices.forEach((position, k) => {
      seen.push(position);
      // positions 0..3 are train images, 4..9 the unlabeled ones
      const expected = position < 4 ? 100 + position : 200 + position - 4;
      assert.equal(batch.labels[k], expected);
    });
  }
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [1, 3, 4, 7, 8, 9],
  );
});

test("a loader that cannot fill one batch, or bad indices, is refused", () => {
  const split = makeSplit(3, 0, "train");
  assert.throws(
    () => new TwoViewLoader(split, { batchSize: 4, seed: 1, augment }),
    /cannot fill one batch of 4/,
  );
  assert.throws(
    () => new TwoViewLoader(split, { batchSize: 1, seed: 1, augment, indices: [0, 5] }),
    /index 5 is outside the 3 source images/,
  );
});
