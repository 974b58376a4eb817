/**
 * Colour adjustments on a float RGB view ([pixels, 3] interleaved, values in
 * [0, 1]), in place, with torchvision's definitions for float tensors: each
 * one blends with a reference image and clamps the result to [0, 1].
 */

/** ITU-R 601-2 luma weights, as torchvision's rgb_to_grayscale uses them. */
export const lumaR = 0.2989;
export const lumaG = 0.587;
export const lumaB = 0.114;

/** Brightness: blend with black, i.e. every value times `factor`. */
export function adjustBrightness(
  view: Float32Array,
  pixels: number,
  factor: number,
): void {
  for (let i = 0, n = pixels * 3; i < n; i++) view[i] = clamp01(view[i] * factor);
}

/** Contrast: blend with the mean luma of the whole view. */
export function adjustContrast(view: Float32Array, pixels: number, factor: number): void {
  let sum = 0;
  for (let p = 0; p < pixels * 3; p += 3) {
    sum += lumaR * view[p] + lumaG * view[p + 1] + lumaB * view[p + 2];
  }
  const offset = (1 - factor) * (sum / pixels);
  for (let i = 0, n = pixels * 3; i < n; i++)
    view[i] = clamp01(factor * view[i] + offset);
}

/** Saturation: blend every pixel with its own luma. */
export function adjustSaturation(
  view: Float32Array,
  pixels: number,
  factor: number,
): void {
  const keep = 1 - factor;
  for (let p = 0; p < pixels * 3; p += 3) {
    const gray = keep * (lumaR * view[p] + lumaG * view[p + 1] + lumaB * view[p + 2]);
    view[p] = clamp01(factor * view[p] + gray);
    view[p + 1] = clamp01(factor * view[p + 1] + gray);
    view[p + 2] = clamp01(factor * view[p + 2] + gray);
  }
}

/**
 * Hue: shift H of the HSV representation by `shift` turns (in [-0.5, 0.5]),
 * keeping S and V; the conversion follows torchvision's _rgb2hsv/_hsv2rgb.
 */
export function adjustHue(view: Float32Array, pixels: number, shift: number): void {
  for (let p = 0; p < pixels * 3; p += 3) {
    const r = view[p];
    const g = view[p + 1];
    const b = view[p + 2];
    // comparisons instead of Math.max/min: this loop is the pipeline's hottest
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    const min = r < g ? (r < b ? r : b) : g < b ? g : b;
    const chroma = max - min;
    // gray pixels have no hue: any shift leaves them unchanged
    if (chroma === 0) continue;

    // to HSV: h in [0, 1) turns, s = chroma / v, v = max
    let h6: number;
    if (max === r) h6 = (g - b) / chroma;
    else if (max === g) h6 = 2 + (b - r) / chroma;
    else h6 = 4 + (r - g) / chroma;
    let h = h6 / 6 + 1; // in [5/6, 2)
    if (h >= 1) h -= 1;
    const s = chroma / max;

    // shift (|shift| <= 0.5, so one wrap suffices) and back to RGB
    h += shift;
    if (h < 0) h += 1;
    else if (h >= 1) h -= 1;
    const sector6 = h * 6;
    const sector = Math.floor(sector6);
    const f = sector6 - sector;
    const low = clamp01(max * (1 - s));
    const falling = clamp01(max * (1 - s * f));
    const rising = clamp01(max * (1 - s * (1 - f)));
    if (sector === 0 || sector === 6) {
      view[p] = max;
      view[p + 1] = rising;
      view[p + 2] = low;
    } else if (sector === 1) {
      view[p] = falling;
      view[p + 1] = max;
      view[p + 2] = low;
    } else if (sector === 2) {
      view[p] = low;
      view[p + 1] = max;
      view[p + 2] = rising;
    } else if (sector === 3) {
      view[p] = low;
      view[p + 1] = falling;
      view[p + 2] = max;
    } else if (sector === 4) {
      view[p] = rising;
      view[p + 1] = low;
      view[p + 2] = max;
    } else {
      view[p] = max;
      view[p + 1] = low;
      view[p + 2] = falling;
    }
  }
}

/** Grayscale: all three channels become the pixel's luma. */
export function toGrayscale(view: Float32Array, pixels: number): void {
  for (let p = 0; p < pixels * 3; p += 3) {
    const gray = lumaR * view[p] + lumaG * view[p + 1] + lumaB * view[p + 2];
    view[p] = gray;
    view[p + 1] = gray;
    view[p + 2] = gray;
  }
}

/** Horizontal mirror of a [height, width, 3] view. */
export function flipHorizontal(view: Float32Array, height: number, width: number): void {
  for (let y = 0; y < height; y++) {
    let a = y * width * 3;
    let b = a + (width - 1) * 3;
    for (; a < b; a += 3, b -= 3) {
      for (let c = 0; c < 3; c++) {
        const tmp = view[a + c];
        view[a + c] = view[b + c];
        view[b + c] = tmp;
      }
    }
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
