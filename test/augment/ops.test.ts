/**
 * Each pixel operation against values worked out by hand from torchvision's
 * definitions (float images in [0, 1], results clamped to [0, 1]).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gaussianBlur, gaussianKernel1d, reflectIndex } from "../../src/augment/blur.js";
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  flipHorizontal,
  toGrayscale,
} from "../../src/augment/color.js";

/** A 2x2 image: orange, sky blue, pure gray and a bright red-magenta. */
const tiny = [0.8, 0.4, 0.2, 0.1, 0.5, 0.9, 0.5, 0.5, 0.5, 0.9, 0.2, 0.7];

function luma(r: number, g: number, b: number): number {
  return 0.2989 * r + 0.587 * g + 0.114 * b;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `index ${i}: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`,
    );
  }
}

test("brightness multiplies by the factor and clamps at 1", () => {
  const view = Float32Array.from(tiny);
  adjustBrightness(view, 4, 1.3);
  // blend with black: 1.3 * x, e.g. 0.8 -> 1.04 -> 1
  assertClose(
    view,
    tiny.map((x) => clamp01(1.3 * x)),
    1e-6,
  );
  assert.equal(view[0], 1);
  assert.ok(Math.abs(view[1] - 0.52) < 1e-6);
});

test("contrast blends with the mean luma of the whole image", () => {
  const view = Float32Array.from(tiny);
  adjustContrast(view, 4, 0.6);
  // mean luma of the four pixels, then 0.6 * x + 0.4 * mean
  const mean =
    (luma(0.8, 0.4, 0.2) +
      luma(0.1, 0.5, 0.9) +
      luma(0.5, 0.5, 0.5) +
      luma(0.9, 0.2, 0.7)) /
    4;
  assertClose(
    view,
    tiny.map((x) => clamp01(0.6 * x + 0.4 * mean)),
    1e-6,
  );

  // a contrast of 1.4 pushes values out of range, which must be clamped
  const strong = Float32Array.from(tiny);
  adjustContrast(strong, 4, 1.4);
  assertClose(
    strong,
    tiny.map((x) => clamp01(1.4 * x - 0.4 * mean)),
    1e-6,
  );
  assert.ok(strong.some((x) => x === 1) || strong.some((x) => x === 0));
});

test("saturation blends every pixel with its own luma", () => {
  const view = Float32Array.from(tiny);
  adjustSaturation(view, 4, 1.4);
  const expected: number[] = [];
  for (let p = 0; p < 12; p += 3) {
    const gray = luma(tiny[p], tiny[p + 1], tiny[p + 2]);
    for (let c = 0; c < 3; c++) expected.push(clamp01(1.4 * tiny[p + c] - 0.4 * gray));
  }
  assertClose(view, expected, 1e-6);
  // a gray pixel has (almost: the weights sum to 0.9999) nothing to saturate
  assertClose(view.subarray(6, 9), [0.5, 0.5, 0.5], 1e-4);
});

test("hue rotates H in HSV and keeps S and V", () => {
  // expected values from hand-worked HSV conversions (checked with Python colorsys);
  // the cases land in all six hue sectors after the shift
  const cases: Array<[number[], number, number[]]> = [
    // orange: h = 1/18, + 0.1 -> sector 0, f = 0.933: (v, v(1 - s(1 - f)), v(1 - s))
    [[0.8, 0.4, 0.2], 0.1, [0.8, 0.76, 0.2]],
    [[0.1, 0.5, 0.9], -0.1, [0.1, 0.9, 0.82]],
    [[0.3, 0.9, 0.3], 0.25, [0.3, 0.6, 0.9]],
    [[0.6, 0.2, 0.5], 0.07, [0.6, 0.2, 0.332]],
    [[0.8, 0.4, 0.2], 0.15, [0.66, 0.8, 0.2]],
    [[0.1, 0.5, 0.9], 0.1, [0.18, 0.1, 0.9]],
    // a negative shift across 0 wraps around the colour wheel: red -> magenta side
    [[0.9, 0.1, 0.1], -0.05, [0.9, 0.1, 0.34]],
  ];
  for (const [rgb, shift, expected] of cases) {
    const view = Float32Array.from(rgb);
    adjustHue(view, 1, shift);
    assertClose(view, expected, 1e-6);
  }

  // gray pixels are unchanged, and a full turn of shifts is the identity
  const gray = Float32Array.from([0.5, 0.5, 0.5]);
  adjustHue(gray, 1, 0.3);
  assertClose(gray, [0.5, 0.5, 0.5], 0);
  const view = Float32Array.from(tiny);
  adjustHue(view, 4, 0.5);
  adjustHue(view, 4, 0.5);
  assertClose(view, tiny, 1e-6);
});

test("grayscale writes the ITU-R 601-2 luma into all three channels", () => {
  const view = Float32Array.from(tiny);
  toGrayscale(view, 4);
  for (let p = 0; p < 12; p += 3) {
    const y = luma(tiny[p], tiny[p + 1], tiny[p + 2]);
    assertClose(view.subarray(p, p + 3), [y, y, y], 1e-6);
  }
});

test("flip mirrors each row", () => {
  // 2 rows x 3 columns, pixel value = 10 * row + column in every channel
  const view = new Float32Array(18);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++)
      view.fill(10 * y + x, (y * 3 + x) * 3, (y * 3 + x) * 3 + 3);
  }
  flipHorizontal(view, 2, 3);
  const firstChannel = Array.from({ length: 6 }, (_, p) => view[p * 3]);
  assert.deepEqual(firstChannel, [2, 1, 0, 12, 11, 10]);
});

test("reflect padding skips the edge sample, as torchvision's 'reflect'", () => {
  assert.deepEqual(
    [-2, -1, 0, 1, 4, 5, 6].map((i) => reflectIndex(i, 5)),
    [2, 1, 0, 1, 4, 3, 2],
  );
});

test("Gaussian blur equals a direct 3x3 convolution with reflect padding", () => {
  // a 4x5 image (height 4, width 5) with distinct values per channel
  const height = 4;
  const width = 5;
  const image = new Float32Array(height * width * 3);
  for (let i = 0; i < image.length; i++) image[i] = ((i * 37) % 101) / 100;

  // the 3x3 kernel by hand for sigma 0.7: e = exp(-0.5 / 0.49), k1 = [e, 1, e] / (1 + 2e)
  const sigma = 0.7;
  const e = Math.exp(-0.5 / (sigma * sigma));
  const k1 = [e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)];
  assertClose(gaussianKernel1d(3, sigma), k1, 1e-12);
  const reflect = (i: number, n: number): number =>
    i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
  const expected = new Float32Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const src =
              (reflect(y + dy, height) * width + reflect(x + dx, width)) * 3 + c;
            sum += k1[dy + 1] * k1[dx + 1] * image[src];
          }
        }
        expected[(y * width + x) * 3 + c] = sum;
      }
    }
  }

  const view = Float32Array.from(image);
  gaussianBlur(
    view,
    height,
    width,
    gaussianKernel1d(3, sigma),
    new Float32Array(image.length),
  );
  assertClose(view, expected, 1e-6);

  // the generic path (5 taps) against the same direct sum
  const k5 = gaussianKernel1d(5, 1.3);
  const expected5 = new Float32Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) {
            const src =
              (reflect(y + dy, height) * width + reflect(x + dx, width)) * 3 + c;
            sum += k5[dy + 2] * k5[dx + 2] * image[src];
          }
        }
        expected5[(y * width + x) * 3 + c] = sum;
      }
    }
  }
  const view5 = Float32Array.from(image);
  gaussianBlur(view5, height, width, k5, new Float32Array(image.length));
  assertClose(view5, expected5, 1e-6);
});
