/**
 * augmentBatch / evalBatch end to end: determinism, shapes, the identity
 * setting, exact mirroring and grayscale, and the resampler against Pillow.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { residentSplit } from "../../src/data/pixels.js";
import type { ImageSplit } from "../../src/data/types.js";
import { type CropBox } from "../../src/augment/crop.js";
import { createResampler, resampleCrop } from "../../src/augment/resample.js";
import {
  type AugmentOptions,
  augmentBatch,
  augmentOptionsFor,
  defaultAugmentOptions,
  evalBatch,
} from "../../src/augment/simclr.js";
import { Rng } from "../../src/util/rng.js";
import { downscaled4x4, source10x10, source6x5, upscaled7x7 } from "./pil-reference.js";

/** `count` images of seeded random bytes with smooth gradients mixed in. */
function makeSplit(count: number, size: number, seed = 5): ImageSplit {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(count * size * size * 3);
  for (let i = 0; i < pixels.length; i++) {
    const x = Math.floor(i / 3) % size;
    pixels[i] = (rng.int(128) + x * 4) & 255;
  }
  return residentSplit({
    dataset: "cifar10",
    split: "test",
    count,
    height: size,
    width: size,
    pixels,
    labels: Int32Array.from({ length: count }, (_, i) => i % 10),
    classes: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
    checksum: "test",
  });
}

/** Settings with every random operation switched off. */
const noAugmentation: AugmentOptions = {
  ...defaultAugmentOptions,
  cropScale: [1, 1],
  cropRatio: [1, 1],
  flipProbability: 0,
  jitterProbability: 0,
  grayscaleProbability: 0,
  blurProbability: 0,
};

const viewSize = 32 * 32 * 3;

test("the same seed gives identical views, another seed different ones", () => {
  const split = makeSplit(6, 32);
  const indices = [0, 3, 5, 1];
  const run = (seed: number): Float32Array => {
    const out = new Float32Array(indices.length * viewSize);
    augmentBatch(split, indices, new Rng(seed), out, defaultAugmentOptions);
    return out;
  };
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));

  // two calls on one stream: two different views of the same images
  const rng = new Rng(9);
  const first = new Float32Array(indices.length * viewSize);
  const second = new Float32Array(indices.length * viewSize);
  augmentBatch(split, indices, rng, first, defaultAugmentOptions);
  augmentBatch(split, indices, rng, second, defaultAugmentOptions);
  for (let k = 0; k < indices.length; k++) {
    const a = first.subarray(k * viewSize, (k + 1) * viewSize);
    const b = second.subarray(k * viewSize, (k + 1) * viewSize);
    assert.notDeepEqual(a, b, `image ${k}: both views are equal`);
  }
});

test("views have the NHWC shape, finite values and plausible ranges", () => {
  for (const size of [32, 96]) {
    const split = makeSplit(8, size);
    const indices = Int32Array.from([7, 0, 2, 2, 5]);
    // one extra view's worth at the end must stay untouched
    const out = new Float32Array((indices.length + 1) * viewSize).fill(123);
    augmentBatch(split, indices, new Rng(4), out, defaultAugmentOptions);
    const written = out.subarray(0, indices.length * viewSize);
    assert.ok(written.every(Number.isFinite));
    // [0, 1] values normalised by the CIFAR statistics land in about [-2.5, 2.8]
    assert.ok(written.every((x) => x >= -2.5 && x <= 2.8));
    assert.ok(out.subarray(indices.length * viewSize).every((x) => x === 123));
  }
});

test("with every operation off the output is the normalised input, exactly", () => {
  const split = makeSplit(3, 32);
  const out = new Float32Array(3 * viewSize);
  augmentBatch(split, [2, 0, 1], new Rng(1), out, noAugmentation);
  const { mean, std } = noAugmentation;
  [2, 0, 1].forEach((image, k) => {
    for (let i = 0; i < viewSize; i++) {
      const c = i % 3;
      const unit = Math.fround(split.pixels.whole()[image * viewSize + i] / 255);
      const expected = Math.fround((unit - mean[c]) / std[c]);
      assert.equal(out[k * viewSize + i], expected, `image ${image} value ${i}`);
    }
  });
});

test("flip with p = 1 mirrors the view it would otherwise give, exactly", () => {
  const split = makeSplit(4, 32);
  const indices = [0, 1, 2, 3];
  const cropsOnly: AugmentOptions = {
    ...defaultAugmentOptions,
    jitterProbability: 0,
    grayscaleProbability: 0,
    blurProbability: 0,
  };
  const render = (options: AugmentOptions): Float32Array => {
    const out = new Float32Array(indices.length * viewSize);
    augmentBatch(split, indices, new Rng(77), out, options);
    return out;
  };
  const mirror = (views: Float32Array): Float32Array => {
    const result = new Float32Array(views.length);
    for (let row = 0; row < views.length / 96; row++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          result[row * 96 + x * 3 + c] = views[row * 96 + (31 - x) * 3 + c];
        }
      }
    }
    return result;
  };
  const plain = render({ ...cropsOnly, flipProbability: 0 });
  const flipped = render({ ...cropsOnly, flipProbability: 1 });
  assert.deepEqual(flipped, mirror(plain));

  // with the colour operations on, mirroring still holds up to float rounding
  const plainAll = render({ ...defaultAugmentOptions, flipProbability: 0 });
  const mirroredAll = mirror(render({ ...defaultAugmentOptions, flipProbability: 1 }));
  for (let i = 0; i < plainAll.length; i++) {
    assert.ok(Math.abs(plainAll[i] - mirroredAll[i]) < 1e-5, `value ${i}`);
  }
});

test("grayscale with p = 1 gives three equal channels before normalisation", () => {
  const split = makeSplit(5, 32);
  const options: AugmentOptions = {
    ...defaultAugmentOptions,
    grayscaleProbability: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  };
  const out = new Float32Array(5 * viewSize);
  augmentBatch(split, [0, 1, 2, 3, 4], new Rng(8), out, options);
  for (let p = 0; p < out.length; p += 3) {
    assert.equal(out[p], out[p + 1]);
    assert.equal(out[p], out[p + 2]);
  }
  // and the values are real pixels, not a constant
  assert.ok(new Set(out).size > 100);
});

test("bilinear resampling matches Pillow's, up and down", () => {
  assert.equal(source6x5.length, 90);
  assert.equal(source10x10.length, 300);
  const check = (
    source: number[],
    width: number,
    box: CropBox,
    size: number,
    expected: number[],
  ): void => {
    assert.equal(expected.length, size * size * 3);
    const dest = new Float32Array(size * size * 3);
    const resampler = createResampler(size, box.top + box.height, width);
    resampleCrop(Uint8Array.from(source), 0, width, box, resampler, dest);
    for (let i = 0; i < expected.length; i++) {
      // Pillow rounds after each pass: allow one unit
      const diff = Math.abs(dest[i] * 255 - expected[i]);
      assert.ok(diff <= 1.01, `value ${i}: ${dest[i] * 255} vs Pillow ${expected[i]}`);
    }
  };
  check(source6x5, 6, { top: 1, left: 1, height: 3, width: 4 }, 7, upscaled7x7);
  check(source10x10, 10, { top: 1, left: 0, height: 9, width: 10 }, 4, downscaled4x4);
});

test("evalBatch normalises as is, or resizes 96 to 32 by area-weighted bilinear", () => {
  // same size: exactly the normalised pixels
  const split = makeSplit(2, 32);
  const out = new Float32Array(2 * viewSize);
  const options = {
    outSize: 32,
    mean: defaultAugmentOptions.mean,
    std: defaultAugmentOptions.std,
  };
  evalBatch(split, [1, 0], out, options);
  for (let i = 0; i < viewSize; i++) {
    const c = i % 3;
    const unit = Math.fround(split.pixels.whole()[viewSize + i] / 255);
    assert.equal(out[i], Math.fround((unit - options.mean[c]) / options.std[c]));
  }

  // 96 -> 32 on a ramp (value = column): interior columns average 3o..3o+2 to 3o + 1,
  // column 0 sees taps 0..3 with weights 1/4, 3/8, 1/4, 1/8 (triangle of half-width 3)
  const ramp = makeSplit(1, 96);
  const rampBytes = ramp.pixels.whole();
  for (let i = 0; i < rampBytes.length; i++) rampBytes[i] = Math.floor(i / 3) % 96;
  const plain = { outSize: 32, mean: [0, 0, 0] as const, std: [1, 1, 1] as const };
  const small = new Float32Array(viewSize);
  evalBatch(ramp, [0], small, plain);
  const at = (y: number, x: number): number => small[(y * 32 + x) * 3] * 255;
  assert.ok(Math.abs(at(5, 0) - 1.25) < 1e-4, `column 0: ${at(5, 0)}`);
  for (const x of [1, 10, 30]) assert.ok(Math.abs(at(17, x) - (3 * x + 1)) < 1e-4);
});

test("bad input is rejected with a message that says what to do", () => {
  const split = makeSplit(2, 32);
  assert.throws(
    () =>
      augmentBatch(
        split,
        [0, 1],
        new Rng(1),
        new Float32Array(10),
        defaultAugmentOptions,
      ),
    /allocate new Float32Array\(6144\)/,
  );
  assert.throws(
    () =>
      augmentBatch(
        split,
        [2],
        new Rng(1),
        new Float32Array(viewSize),
        defaultAugmentOptions,
      ),
    /index 2 is outside/,
  );
  assert.throws(
    () => augmentOptionsFor({ pretrainSize: 32, mean: [0, 0, 0], std: [1, 0, 1] }),
    /std > 0/,
  );
  assert.throws(
    () =>
      augmentOptionsFor(
        { pretrainSize: 32, mean: [0, 0, 0], std: [1, 1, 1] },
        { blurKernel: 4 },
      ),
    /blurKernel must be a positive odd integer/,
  );
});

test("the blur kernel is a tenth of the pretraining size, made odd", () => {
  const kernel = (pretrainSize: number) =>
    augmentOptionsFor({ pretrainSize, mean: [0, 0, 0], std: [1, 1, 1] }).blurKernel;
  assert.equal(kernel(32), 3); // the official CIFAR-10 / STL-10 value
  assert.equal(kernel(224), 23);
  assert.equal(kernel(8), 1);
});
