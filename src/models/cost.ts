/**
 * Analytic cost of an encoder: multiply-accumulates of the forward pass
 * (convolutions and linear layers only) and parameter counts, from the
 * architecture alone. The benchmark charges both of its sides this work, and
 * the grid's time estimate scales its rate by it.
 *
 * Training FLOPs per image = forward MACs x 2 (a MAC is two FLOPs) x 3 (the
 * backward pass costs about twice the forward: one product for the input
 * gradient and one for the weight gradient). Batch norm, activations, pooling,
 * the loss and the optimiser are left out; together they are a few percent.
 */
import type { EncoderConfig } from "../config.js";

/** Forward MACs and parameter count of one encoder on one square image. */
export interface EncoderCost {
  /** Multiply-accumulates of one image through backbone and projection head. */
  forwardMacs: number;
  /** Of which in the projection head. */
  headMacs: number;
  /** Trainable parameters (weights, biases, batch-norm scales and shifts). */
  parameters: number;
  /** Dimension of the pooled backbone features. */
  featureDim: number;
  /**
   * Output elements of every convolution for one image. A training step keeps
   * about a fixed multiple of this alive per image (batch-norm and ReLU
   * outputs, their gradients), so memory per image scales with it.
   */
  activations: number;
}

/** FLOPs of one image in one training step (forward and backward). */
export function trainFlopsPerImage(config: EncoderConfig, imageSize = 32): number {
  return encoderCost(config, imageSize).forwardMacs * 2 * 3;
}

/** Stage widths and block counts of an architecture, as the encoder builds it. */
export function stagePlan(config: EncoderConfig): { widths: number[]; blocks: number[] } {
  if (config.arch === "small") return { widths: config.widths, blocks: config.blocks };
  const blocks = config.arch === "resnet18" ? [2, 2, 2, 2] : [3, 4, 6, 3];
  return { widths: [64, 128, 256, 512], blocks };
}

/** Count MACs and parameters layer by layer for a ResNet with either stem. */
export function encoderCost(config: EncoderConfig, imageSize = 32): EncoderCost {
  const { widths, blocks } = stagePlan(config);
  const bottleneck = config.arch === "resnet50";
  const tally: Tally = { macs: 0, parameters: 0, activations: 0 };
  let side = imageSize;

  // stem: CIFAR 3x3 conv stride 1; ImageNet 7x7 conv stride 2, then a
  // stride-2 max-pool (no MACs); batch norm after the convolution
  if (config.stem === "imagenet") {
    side = Math.ceil(side / 2);
    conv(tally, side, 3, widths[0], 7);
    side = Math.ceil(side / 2);
  } else {
    conv(tally, side, 3, widths[0], 3);
  }
  norm(tally, widths[0]);

  // residual stages; the first block of every stage after the first has stride 2
  let channels = widths[0];
  widths.forEach((width, stage) => {
    for (let b = 0; b < blocks[stage]; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const outSide = Math.ceil(side / stride);
      const out = bottleneck ? width * 4 : width;
      if (bottleneck) {
        conv(tally, side, channels, width, 1);
        conv(tally, outSide, width, width, 3);
        conv(tally, outSide, width, out, 1);
        norm(tally, width + width + out);
      } else {
        conv(tally, outSide, channels, width, 3);
        conv(tally, outSide, width, width, 3);
        norm(tally, width + width);
      }
      if (stride !== 1 || channels !== out) {
        conv(tally, outSide, channels, out, 1);
        norm(tally, out);
      }
      channels = out;
      side = outSide;
    }
  });
  const backboneMacs = tally.macs;

  // head: Linear(d -> hidden, no bias), batch norm, ReLU, Linear(hidden -> proj)
  tally.macs += channels * config.headHidden + config.headHidden * config.projectionDim;
  tally.parameters += channels * config.headHidden;
  norm(tally, config.headHidden);
  tally.parameters += config.headHidden * config.projectionDim + config.projectionDim;

  return {
    forwardMacs: tally.macs,
    headMacs: tally.macs - backboneMacs,
    parameters: tally.parameters,
    featureDim: channels,
    activations: tally.activations,
  };
}

/** Running totals of the layer-by-layer count. */
interface Tally {
  macs: number;
  parameters: number;
  activations: number;
}

/** A bias-free k x k convolution producing an outSide x outSide map. */
function conv(
  tally: Tally,
  outSide: number,
  inChannels: number,
  outChannels: number,
  kernel: number,
): void {
  const weights = kernel * kernel * inChannels * outChannels;
  tally.macs += outSide * outSide * weights;
  tally.parameters += weights;
  tally.activations += outSide * outSide * outChannels;
}

/** Batch norm over `channels`: a scale and a shift each. */
function norm(tally: Tally, channels: number): void {
  tally.parameters += 2 * channels;
}
