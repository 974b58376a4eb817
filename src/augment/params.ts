/**
 * The random decisions behind one augmented view, drawn separately from the
 * pixel work so that they can be inspected and tested on their own.
 */
import type { Rng } from "../util/rng.js";
import { type CropBox, sampleCrop } from "./crop.js";
import type { AugmentOptions } from "./options.js";

/** Colour adjustments in the order ColorJitter may apply them. */
export const Jitter = { Brightness: 0, Contrast: 1, Saturation: 2, Hue: 3 } as const;

/** Every random choice of one view. */
export interface ViewParams {
  crop: CropBox;
  flip: boolean;
  jitter: boolean;
  /** A permutation of the four Jitter steps, applied first to last. */
  jitterOrder: Int32Array;
  brightness: number;
  contrast: number;
  saturation: number;
  /** Hue shift in turns. */
  hue: number;
  grayscale: boolean;
  blur: boolean;
  blurSigma: number;
}

/** A ViewParams record to be filled by sampleViewParams. */
export function emptyViewParams(): ViewParams {
  return {
    crop: { top: 0, left: 0, height: 0, width: 0 },
    flip: false,
    jitter: false,
    jitterOrder: new Int32Array([0, 1, 2, 3]),
    brightness: 1,
    contrast: 1,
    saturation: 1,
    hue: 0,
    grayscale: false,
    blur: false,
    blurSigma: 1,
  };
}

/**
 * Draws the choices for one view of a height x width image. Every draw is
 * made whatever the probabilities are, so that two option sets differing
 * only in a probability see the same crop and the same factors (the tests
 * rely on this).
 */
export function sampleViewParams(
  height: number,
  width: number,
  rng: Rng,
  options: AugmentOptions,
  into: ViewParams = emptyViewParams(),
): ViewParams {
  sampleCrop(height, width, rng, options.cropScale, options.cropRatio, into.crop);
  into.flip = rng.next() < options.flipProbability;

  // colour jitter: whether, in which order, and by how much
  into.jitter = rng.next() < options.jitterProbability;
  const order = into.jitterOrder;
  for (let i = 0; i < 4; i++) order[i] = i;
  rng.shuffle(order);
  into.brightness = factorAround1(rng, options.brightness);
  into.contrast = factorAround1(rng, options.contrast);
  into.saturation = factorAround1(rng, options.saturation);
  into.hue = rng.uniform(-options.hue, options.hue);

  into.grayscale = rng.next() < options.grayscaleProbability;
  into.blur = rng.next() < options.blurProbability;
  into.blurSigma = rng.uniform(options.blurSigma[0], options.blurSigma[1]);
  return into;
}

/** A factor uniform in [max(0, 1 - spread), 1 + spread], as ColorJitter draws. */
function factorAround1(rng: Rng, spread: number): number {
  return rng.uniform(Math.max(0, 1 - spread), 1 + spread);
}
