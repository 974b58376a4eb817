/**
 * The random choices: crop boxes like RandomResizedCrop, and the rates of
 * flip, jitter, grayscale and blur near their probabilities.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { roundHalfEven, sampleCrop } from "../../src/augment/crop.js";
import { defaultAugmentOptions } from "../../src/augment/options.js";
import { sampleViewParams } from "../../src/augment/params.js";
import { Rng } from "../../src/util/rng.js";

test("crop area fractions stay within the scale range over many draws", () => {
  const rng = new Rng(11);
  const { cropScale, cropRatio } = defaultAugmentOptions;

  // a large image, where rounding to whole pixels barely matters
  let small = 0;
  let large = 0;
  for (let i = 0; i < 20000; i++) {
    const box = sampleCrop(1000, 1000, rng, cropScale, cropRatio);
    const fraction = (box.height * box.width) / 1e6;
    assert.ok(fraction >= 0.0795 && fraction <= 1, `area fraction ${fraction}`);
    const aspect = box.width / box.height;
    // whole pixels (sides of 245 or more) move the ratio by under 0.5 %
    assert.ok(aspect >= 0.75 / 1.005 && aspect <= (4 / 3) * 1.005, `aspect ${aspect}`);
    assert.ok(box.top >= 0 && box.top + box.height <= 1000);
    assert.ok(box.left >= 0 && box.left + box.width <= 1000);
    if (fraction < 0.3) small++;
    if (fraction > 0.6) large++;
  }
  // the fractions spread over the range rather than piling up at one end
  assert.ok(small > 4000 && large > 3000, `small ${small}, large ${large}`);

  // CIFAR-sized: whole pixels shift the fraction a little below 0.08 at most
  for (let i = 0; i < 20000; i++) {
    const box = sampleCrop(32, 32, rng, cropScale, cropRatio);
    const fraction = (box.height * box.width) / 1024;
    assert.ok(fraction >= 0.07 && fraction <= 1, `area fraction ${fraction}`);
    assert.ok(box.top + box.height <= 32 && box.left + box.width <= 32);
  }
});

test("crops that never fit fall back to the centred box of the nearest ratio", () => {
  // ratios 2..3 on a square image: every attempt is too wide at full area
  const box = sampleCrop(32, 32, new Rng(1), [1, 1], [2, 3]);
  assert.deepEqual(box, { top: 8, left: 0, height: 16, width: 32 });
  const tall = sampleCrop(40, 20, new Rng(1), [1, 1], [1, 1]);
  assert.deepEqual(tall, { top: 10, left: 0, height: 20, width: 20 });
  // a ratio range that holds the image's own ratio gives the whole image
  const whole = sampleCrop(30, 40, new Rng(1), [1, 1], [1.2, 1.4]);
  assert.deepEqual(whole, { top: 0, left: 0, height: 30, width: 40 });
});

test("whole-image scale and unit ratio give the whole image", () => {
  const rng = new Rng(3);
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(sampleCrop(32, 32, rng, [1, 1], [1, 1]), {
      top: 0,
      left: 0,
      height: 32,
      width: 32,
    });
  }
});

test("rounding follows Python's round (halves to even)", () => {
  assert.deepEqual(
    [0.5, 1.5, 2.5, 3.49, 3.5, 7.2].map(roundHalfEven),
    [0, 2, 2, 3, 4, 7],
  );
});

test("flip, jitter, grayscale and blur happen at their probabilities", () => {
  const rng = new Rng(2024);
  const draws = 20000;
  const counts = { flip: 0, jitter: 0, grayscale: 0, blur: 0 };
  const orders = new Set<string>();
  for (let i = 0; i < draws; i++) {
    const p = sampleViewParams(32, 32, rng, defaultAugmentOptions);
    if (p.flip) counts.flip++;
    if (p.jitter) counts.jitter++;
    if (p.grayscale) counts.grayscale++;
    if (p.blur) counts.blur++;
    orders.add(Array.from(p.jitterOrder).join(""));

    // every factor inside its ColorJitter range, sigma inside [0.1, 2]
    assert.ok(p.brightness >= 0.6 && p.brightness <= 1.4);
    assert.ok(p.contrast >= 0.6 && p.contrast <= 1.4);
    assert.ok(p.saturation >= 0.6 && p.saturation <= 1.4);
    assert.ok(p.hue >= -0.1 && p.hue <= 0.1);
    assert.ok(p.blurSigma >= 0.1 && p.blurSigma <= 2);
    assert.deepEqual(Array.from(p.jitterOrder).sort(), [0, 1, 2, 3]);
  }

  // binomial standard deviation at n = 20000 is at most 0.0036; allow 5 of them
  const near = (name: string, count: number, p: number): void => {
    const rate = count / draws;
    assert.ok(Math.abs(rate - p) < 0.018, `${name} rate ${rate}, expected about ${p}`);
  };
  near("flip", counts.flip, 0.5);
  near("jitter", counts.jitter, 0.8);
  near("grayscale", counts.grayscale, 0.2);
  near("blur", counts.blur, 0.5);
  // the jitter order is a random permutation: all 24 appear
  assert.equal(orders.size, 24);
});
