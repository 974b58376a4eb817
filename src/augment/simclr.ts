/**
 * The SimCLR / DCL view augmentation on typed arrays: uint8 HWC images in,
 * normalised float32 NHWC views out, every random choice from a seeded Rng.
 * Pipeline per view: random resized crop (bilinear) -> horizontal flip ->
 * colour jitter (random order) with p 0.8 -> grayscale -> Gaussian blur ->
 * normalisation.
 */
import type { ImageSplit } from "../data/types.js";
import type { Rng } from "../util/rng.js";
import type { CropBox } from "./crop.js";
import {
  type AugmentOptions,
  type EvalTransformOptions,
  validateAugmentOptions,
  validateNormalisation,
} from "./options.js";
import { createResampler, resampleCrop } from "./resample.js";
import { normaliseInto, ViewAugmenter } from "./view.js";

export * from "./options.js";
export { TwoViewLoader, type TwoViewBatch, type TwoViewLoaderOptions } from "./loader.js";
export { ViewAugmenter } from "./view.js";

/**
 * Writes indices.length augmented views of split images to `out`, NHWC
 * float32 [n, outSize, outSize, 3], normalised by options.mean/std. Each
 * call consumes `rng`, so two calls give two independent views.
 */
export function augmentBatch(
  split: ImageSplit,
  indices: ArrayLike<number>,
  rng: Rng,
  out: Float32Array,
  options: AugmentOptions,
): void {
  validateAugmentOptions(options);
  checkOutput(out, indices.length, options.outSize, "augmentBatch");
  const augmenter = new ViewAugmenter(options);
  const stride = options.outSize * options.outSize * 3;
  for (let k = 0; k < indices.length; k++) {
    augmenter.augment(split, checkIndex(split, indices[k]), rng, out, k * stride);
  }
}

/**
 * Writes the un-augmented images, resized to outSize x outSize (bilinear,
 * only when the split's size differs) and normalised, for feature extraction.
 * Output: NHWC float32 [indices.length, outSize, outSize, 3].
 */
export function evalBatch(
  split: ImageSplit,
  indices: ArrayLike<number>,
  out: Float32Array,
  options: EvalTransformOptions,
): void {
  validateNormalisation(options);
  const size = options.outSize;
  checkOutput(out, indices.length, size, "evalBatch");
  const stride = size * size * 3;
  const same = split.height === size && split.width === size;
  const resampler = same ? null : createResampler(size, split.height, split.width);
  const view = new Float32Array(stride);
  const whole: CropBox = { top: 0, left: 0, height: split.height, width: split.width };

  // each image: resize (when needed) and normalise
  for (let k = 0; k < indices.length; k++) {
    const { bytes, offset } = split.pixels.image(checkIndex(split, indices[k]));
    if (resampler === null) {
      for (let i = 0; i < stride; i++) view[i] = bytes[offset + i] / 255;
    } else {
      resampleCrop(bytes, offset, split.width, whole, resampler, view);
    }
    normaliseInto(view, size * size, options.mean, options.std, out, k * stride);
  }
}

function checkOutput(
  out: Float32Array,
  count: number,
  size: number,
  caller: string,
): void {
  const needed = count * size * size * 3;
  if (out.length < needed) {
    throw new Error(
      `${caller}: output holds ${out.length} floats but ${count} views of ` +
        `${size}x${size}x3 need ${needed}; allocate new Float32Array(${needed})`,
    );
  }
}

function checkIndex(split: ImageSplit, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= split.count) {
    throw new Error(
      `augment: image index ${index} is outside ${split.dataset}/${split.split} ` +
        `(${split.count} images); pass indices in [0, ${split.count})`,
    );
  }
  return index;
}
