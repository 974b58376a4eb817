/**
 * Crop boxes of a random resized crop, drawn the way torchvision's
 * RandomResizedCrop.get_params draws them.
 */
import type { Rng } from "../util/rng.js";

/** A rectangle of whole pixels inside an image. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Attempts at a box inside the image before falling back to a centre crop. */
const cropAttempts = 10;

/**
 * Draws a box whose area is a uniform fraction `scale` of the image and whose
 * log aspect ratio is uniform in log(`ratio`); after ten boxes that do not
 * fit, returns the largest centred box whose aspect ratio is within `ratio`.
 */
export function sampleCrop(
  height: number,
  width: number,
  rng: Rng,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  into: CropBox = { top: 0, left: 0, height: 0, width: 0 },
): CropBox {
  const area = height * width;
  const logRatioLo = Math.log(ratio[0]);
  const logRatioHi = Math.log(ratio[1]);

  // rejection sampling of a box that fits inside the image
  for (let attempt = 0; attempt < cropAttempts; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatioLo, logRatioHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      into.top = rng.int(height - h + 1);
      into.left = rng.int(width - w + 1);
      into.height = h;
      into.width = w;
      return into;
    }
  }

  // centre-crop fallback: the whole image, clipped to the allowed ratio
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) {
    h = roundHalfEven(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    w = roundHalfEven(h * ratio[1]);
  }
  into.top = Math.floor((height - h) / 2);
  into.left = Math.floor((width - w) / 2);
  into.height = h;
  into.width = w;
  return into;
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
