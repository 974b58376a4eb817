/**
 * Settings of the SimCLR view augmentation. The defaults are the official
 * DCL training transform (RandomResizedCrop(32), flip, colour jitter,
 * grayscale, 3x3 Gaussian blur, CIFAR-10 normalisation).
 */
import type { DatasetInfo } from "../data/types.js";

/** Three per-channel numbers, in R, G, B order. */
export type ChannelTriple = readonly [number, number, number];

/** Everything that decides how one augmented view is drawn and rendered. */
export interface AugmentOptions {
  /** Side of the square output view (official: 32, for CIFAR-10 and STL-10). */
  outSize: number;
  /** Range of the crop's area as a fraction of the image (official: 0.08-1). */
  cropScale: readonly [number, number];
  /** Range of the crop's width / height (official: 3/4-4/3). */
  cropRatio: readonly [number, number];
  /** Probability of a horizontal mirror (official: 0.5). */
  flipProbability: number;
  /** Probability that colour jitter is applied at all (official: 0.8). */
  jitterProbability: number;
  /** Brightness factor drawn from [1 - b, 1 + b] (official: 0.4). */
  brightness: number;
  /** Contrast factor drawn from [1 - c, 1 + c] (official: 0.4). */
  contrast: number;
  /** Saturation factor drawn from [1 - s, 1 + s] (official: 0.4). */
  saturation: number;
  /** Hue shift drawn from [-h, h], in turns of the colour wheel (official: 0.1). */
  hue: number;
  /** Probability of converting the view to gray (official: 0.2). */
  grayscaleProbability: number;
  /** Probability of a Gaussian blur (official: 0.5). */
  blurProbability: number;
  /** Odd side of the blur kernel (official: int(0.1 * 32) = 3). */
  blurKernel: number;
  /** Range of the blur's standard deviation in pixels (official: 0.1-2). */
  blurSigma: readonly [number, number];
  /** Per-channel mean subtracted after augmentation (values in [0, 1]). */
  mean: ChannelTriple;
  /** Per-channel standard deviation divided out after augmentation. */
  std: ChannelTriple;
}

/** Settings of the deterministic evaluation transform (resize + normalise). */
export interface EvalTransformOptions {
  /** Side of the square output image. */
  outSize: number;
  mean: ChannelTriple;
  std: ChannelTriple;
}

/** The official CIFAR-10 normalisation, also used by the official STL-10 code. */
export const cifarMean: ChannelTriple = [0.4914, 0.4822, 0.4465];
export const cifarStd: ChannelTriple = [0.2023, 0.1994, 0.201];

/** The official training transform of the DCL code, CIFAR-10 normalisation. */
export const defaultAugmentOptions: AugmentOptions = {
  outSize: 32,
  cropScale: [0.08, 1],
  cropRatio: [3 / 4, 4 / 3],
  flipProbability: 0.5,
  jitterProbability: 0.8,
  brightness: 0.4,
  contrast: 0.4,
  saturation: 0.4,
  hue: 0.1,
  grayscaleProbability: 0.2,
  blurProbability: 0.5,
  blurKernel: 3,
  blurSigma: [0.1, 2.0],
  mean: cifarMean,
  std: cifarStd,
};

/**
 * The official training transform for a dataset: its pretraining size, a
 * blur kernel of a tenth of that size (made odd: 3 at 32 px as in the
 * official code, 23 at 224 px) and its normalisation, with any explicit
 * overrides on top.
 */
export function augmentOptionsFor(
  info: Pick<DatasetInfo, "pretrainSize" | "mean" | "std">,
  overrides: Partial<AugmentOptions> = {},
): AugmentOptions {
  const options: AugmentOptions = {
    ...defaultAugmentOptions,
    outSize: info.pretrainSize,
    blurKernel: Math.floor(info.pretrainSize / 10) | 1,
    mean: info.mean,
    std: info.std,
    ...overrides,
  };
  validateAugmentOptions(options);
  return options;
}

/** Throws a descriptive error when a setting is out of its valid range. */
export function validateAugmentOptions(options: AugmentOptions): void {
  const fail = (what: string): never => {
    throw new Error(`augmentation options: ${what}`);
  };
  if (!Number.isInteger(options.outSize) || options.outSize < 1) {
    fail(`outSize must be a positive integer, got ${options.outSize}`);
  }
  const [s0, s1] = options.cropScale;
  if (!(s0 > 0 && s0 <= s1 && s1 <= 1)) {
    fail(`cropScale must satisfy 0 < lo <= hi <= 1, got [${s0}, ${s1}]`);
  }
  const [r0, r1] = options.cropRatio;
  if (!(r0 > 0 && r0 <= r1))
    fail(`cropRatio must satisfy 0 < lo <= hi, got [${r0}, ${r1}]`);
  const probabilities: Array<[string, number]> = [
    ["flipProbability", options.flipProbability],
    ["jitterProbability", options.jitterProbability],
    ["grayscaleProbability", options.grayscaleProbability],
    ["blurProbability", options.blurProbability],
  ];
  for (const [name, p] of probabilities) {
    if (!(p >= 0 && p <= 1)) fail(`${name} must lie in [0, 1], got ${p}`);
  }
  for (const name of ["brightness", "contrast", "saturation"] as const) {
    if (!(options[name] >= 0)) fail(`${name} must be >= 0, got ${options[name]}`);
  }
  if (!(options.hue >= 0 && options.hue <= 0.5)) {
    fail(`hue must lie in [0, 0.5], got ${options.hue}`);
  }
  const k = options.blurKernel;
  if (!(Number.isInteger(k) && k >= 1 && k % 2 === 1)) {
    fail(`blurKernel must be a positive odd integer, got ${k}`);
  }
  const [g0, g1] = options.blurSigma;
  if (!(g0 > 0 && g0 <= g1))
    fail(`blurSigma must satisfy 0 < lo <= hi, got [${g0}, ${g1}]`);
  validateNormalisation(options);
}

/** Throws when mean/std are not three finite numbers with a positive std. */
export function validateNormalisation(options: {
  mean: ChannelTriple;
  std: ChannelTriple;
}): void {
  const ok =
    options.mean.length === 3 &&
    options.std.length === 3 &&
    options.mean.every(Number.isFinite) &&
    options.std.every((s) => Number.isFinite(s) && s > 0);
  if (!ok) {
    throw new Error(
      `augmentation options: mean/std must be three finite numbers (std > 0), ` +
        `got mean ${JSON.stringify(options.mean)} std ${JSON.stringify(options.std)}`,
    );
  }
}
