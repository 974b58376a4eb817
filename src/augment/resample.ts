/**
 * Separable bilinear resampling of a crop of a uint8 image into a float
 * buffer, with Pillow's definition of "bilinear": pixel centres at half
 * integers and, when shrinking, a triangle filter widened by the scale
 * factor (antialiasing), as torchvision's resize of a PIL image does.
 */
import type { CropBox } from "./crop.js";

/** Precomputed filter taps of one 1-D resampling. */
export interface ResampleTaps {
  outSize: number;
  /** Most taps any output sample uses (row stride of `weights`). */
  maxTaps: number;
  /** First input index (relative to the crop) read by each output sample. */
  first: Int32Array;
  /** Number of taps of each output sample. */
  count: Int32Array;
  /** [outSize, maxTaps] normalised weights. */
  weights: Float64Array;
}

/** Allocates taps big enough for any input length up to `maxInput`. */
export function allocateTaps(outSize: number, maxInput: number): ResampleTaps {
  const maxTaps = Math.ceil(Math.max(maxInput / outSize, 1)) * 2 + 1;
  return {
    outSize,
    maxTaps,
    first: new Int32Array(outSize),
    count: new Int32Array(outSize),
    weights: new Float64Array(outSize * maxTaps),
  };
}

/** Fills `taps` for resampling `inLength` input samples to `taps.outSize`. */
export function computeTaps(inLength: number, taps: ResampleTaps): void {
  const outSize = taps.outSize;
  const scale = inLength / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support is 1 at unit scale
  const needed = Math.ceil(support) * 2 + 1;
  if (needed > taps.maxTaps) {
    throw new Error(`resample: ${needed} taps needed but only ${taps.maxTaps} allocated`);
  }
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    // Math.trunc matches the C cast Pillow uses for the window bounds
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inLength);
    const row = o * taps.maxTaps;
    let total = 0;
    for (let t = 0; t < hi - lo; t++) {
      const d = Math.abs((t + lo - centre + 0.5) / filterScale);
      const w = d < 1 ? 1 - d : 0;
      taps.weights[row + t] = w;
      total += w;
    }
    for (let t = 0; t < hi - lo; t++) {
      if (total !== 0) taps.weights[row + t] /= total;
    }
    taps.first[o] = lo;
    taps.count[o] = hi - lo;
  }
}

/** Reusable buffers of one resampler, sized for a maximum input. */
export interface Resampler {
  outSize: number;
  columns: ResampleTaps;
  rows: ResampleTaps;
  /** [cropHeight, outSize, 3] after the horizontal pass. */
  rowPass: Float32Array;
  /** [outSize * 3] sums of one output row. */
  line: Float64Array;
}

/** A resampler to `outSize` x `outSize` for images up to maxHeight x maxWidth. */
export function createResampler(
  outSize: number,
  maxHeight: number,
  maxWidth: number,
): Resampler {
  return {
    outSize,
    columns: allocateTaps(outSize, maxWidth),
    rows: allocateTaps(outSize, maxHeight),
    rowPass: new Float32Array(maxHeight * outSize * 3),
    line: new Float64Array(outSize * 3),
  };
}

/**
 * Resamples `box` of the HWC uint8 image starting at `pixels[offset]`
 * (image width `imageWidth`) to [outSize, outSize, 3] values in [0, 1],
 * written to `dest` from index 0.
 */
export function resampleCrop(
  pixels: Uint8Array,
  offset: number,
  imageWidth: number,
  box: CropBox,
  resampler: Resampler,
  dest: Float32Array,
): void {
  const size = resampler.outSize;
  const { columns, rows, rowPass } = resampler;
  computeTaps(box.width, columns);
  computeTaps(box.height, rows);

  // horizontal pass: every crop row to `size` columns, [box.height, size, 3]
  const rowStride = imageWidth * 3;
  for (let y = 0; y < box.height; y++) {
    const rowStart = offset + (box.top + y) * rowStride + box.left * 3;
    const outRow = y * size * 3;
    for (let x = 0; x < size; x++) {
      const wBase = x * columns.maxTaps;
      let src = rowStart + columns.first[x] * 3;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = 0, n = columns.count[x]; t < n; t++, src += 3) {
        const w = columns.weights[wBase + t];
        r += w * pixels[src];
        g += w * pixels[src + 1];
        b += w * pixels[src + 2];
      }
      const o = outRow + x * 3;
      rowPass[o] = r;
      rowPass[o + 1] = g;
      rowPass[o + 2] = b;
    }
  }

  // vertical pass: `size` rows, then bytes to [0, 1]; upscaling (the common
  // case) needs at most three taps, written out because it is the hot loop
  const line = size * 3;
  const accumulator = resampler.line;
  for (let y = 0; y < size; y++) {
    const wBase = y * rows.maxTaps;
    const n = rows.count[y];
    const s0 = rows.first[y] * line;
    const outRow = y * line;
    if (n <= 3) {
      const w0 = rows.weights[wBase];
      const w1 = n > 1 ? rows.weights[wBase + 1] : 0;
      const w2 = n > 2 ? rows.weights[wBase + 2] : 0;
      const s1 = n > 1 ? s0 + line : s0;
      const s2 = n > 2 ? s0 + 2 * line : s0;
      for (let i = 0; i < line; i++) {
        const v = w0 * rowPass[s0 + i] + w1 * rowPass[s1 + i] + w2 * rowPass[s2 + i];
        dest[outRow + i] = v / 255;
      }
      continue;
    }
    accumulator.fill(0);
    for (let t = 0; t < n; t++) {
      const w = rows.weights[wBase + t];
      const src = s0 + t * line;
      for (let i = 0; i < line; i++) accumulator[i] += w * rowPass[src + i];
    }
    for (let i = 0; i < line; i++) dest[outRow + i] = accumulator[i] / 255;
  }
}
