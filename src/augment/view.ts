/**
 * One augmented view at a time, with reusable scratch buffers: crop and
 * resize, flip, colour jitter in a random order, grayscale, blur, normalise.
 * Known shortcoming: the official pipeline works on PIL images, rounding to
 * uint8 after every step and using PIL's own enhancement formulas; this one
 * stays in float with torchvision's tensor formulas, so pixel values differ
 * from the official ones by a few 1/255, while the distribution of views is
 * the same.
 */
import type { ImageSplit } from "../data/types.js";
import type { Rng } from "../util/rng.js";
import { gaussianBlur, gaussianKernel1d } from "./blur.js";
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  flipHorizontal,
  toGrayscale,
} from "./color.js";
import {
  type AugmentOptions,
  type ChannelTriple,
  validateAugmentOptions,
} from "./options.js";
import { emptyViewParams, Jitter, sampleViewParams, type ViewParams } from "./params.js";
import { createResampler, resampleCrop, type Resampler } from "./resample.js";

/**
 * Augments single images with reusable scratch buffers; one instance serves
 * any number of views at one output size.
 */
export class ViewAugmenter {
  readonly options: AugmentOptions;
  private readonly params: ViewParams = emptyViewParams();
  private readonly view: Float32Array;
  private readonly scratch: Float32Array;
  private readonly kernel: Float64Array;
  private resampler: Resampler | null = null;
  private resamplerHeight = 0;
  private resamplerWidth = 0;

  constructor(options: AugmentOptions) {
    validateAugmentOptions(options);
    this.options = options;
    const pixels = options.outSize * options.outSize;
    this.view = new Float32Array(pixels * 3);
    this.scratch = new Float32Array(pixels * 3);
    this.kernel = new Float64Array(options.blurKernel);
  }

  /** Writes one view of image `index` to out[offset ...], [outSize, outSize, 3]. */
  augment(
    split: ImageSplit,
    index: number,
    rng: Rng,
    out: Float32Array,
    offset: number,
  ): void {
    const { options, view, params } = this;
    const size = options.outSize;
    const pixels = size * size;
    sampleViewParams(split.height, split.width, rng, options, params);

    // random resized crop (the image's bytes are used at once, as a paged
    // store allows), then the mirror
    const image = split.pixels.image(index);
    const resampler = this.resamplerFor(split.height, split.width);
    resampleCrop(image.bytes, image.offset, split.width, params.crop, resampler, view);
    if (params.flip) flipHorizontal(view, size, size);

    // colour jitter, its four steps in the drawn order
    if (params.jitter) {
      for (let i = 0; i < 4; i++) {
        const step = params.jitterOrder[i];
        if (step === Jitter.Brightness && params.brightness !== 1) {
          adjustBrightness(view, pixels, params.brightness);
        } else if (step === Jitter.Contrast && params.contrast !== 1) {
          adjustContrast(view, pixels, params.contrast);
        } else if (step === Jitter.Saturation && params.saturation !== 1) {
          adjustSaturation(view, pixels, params.saturation);
        } else if (step === Jitter.Hue && params.hue !== 0) {
          adjustHue(view, pixels, params.hue);
        }
      }
    }

    // grayscale, blur, normalisation
    if (params.grayscale) toGrayscale(view, pixels);
    if (params.blur) {
      gaussianKernel1d(options.blurKernel, params.blurSigma, this.kernel);
      gaussianBlur(view, size, size, this.kernel, this.scratch);
    }
    normaliseInto(view, pixels, options.mean, options.std, out, offset);
  }

  /** The resampler for this image size, reallocated only when it grows. */
  private resamplerFor(height: number, width: number): Resampler {
    if (
      this.resampler === null ||
      height > this.resamplerHeight ||
      width > this.resamplerWidth
    ) {
      this.resampler = createResampler(this.options.outSize, height, width);
      this.resamplerHeight = height;
      this.resamplerWidth = width;
    }
    return this.resampler;
  }
}

/** (value - mean) / std per channel, from a [pixels, 3] view into out[offset ...]. */
export function normaliseInto(
  view: Float32Array,
  pixels: number,
  mean: ChannelTriple,
  std: ChannelTriple,
  out: Float32Array,
  offset: number,
): void {
  const [m0, m1, m2] = mean;
  const [s0, s1, s2] = std;
  for (let p = 0; p < pixels * 3; p += 3) {
    out[offset + p] = (view[p] - m0) / s0;
    out[offset + p + 1] = (view[p + 1] - m1) / s1;
    out[offset + p + 2] = (view[p + 2] - m2) / s2;
  }
}
