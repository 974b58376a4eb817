/**
 * ResNet encoders with the CIFAR stem and the SimCLR projection head of the
 * official code: f (backbone, pooled features) followed by
 * g = Linear(d -> 512, no bias), BatchNorm, ReLU, Linear(512 -> 128).
 *
 * Architectures:
 *   resnet18  basic blocks [2, 2, 2, 2], widths 64..512, d = 512
 *   resnet50  bottleneck blocks [3, 4, 6, 3], widths 64..512 (x4), d = 2048
 *   small     basic blocks and widths from the configuration, for CPU runs
 * Stems: CIFAR (the default: one 3x3 conv, stride 1, no max-pool) or
 * ImageNet (7x7 conv, stride 2, 3x3 max-pool, stride 2); stages after the
 * first halve the resolution.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { EncoderConfig, EncoderStem } from "../config.js";
import { Rng } from "../util/rng.js";
import {
  BatchNorm,
  Conv2d,
  Linear,
  ParameterStore,
  type Pass,
} from "./layers.js";

/** An encoder f with its projection head g. */
export interface Encoder {
  readonly config: EncoderConfig;
  /** Dimension of the pooled backbone features h = f(x). */
  readonly featureDim: number;
  /** Parameters updated by the optimiser. */
  readonly trainableVariables: tf.Variable[];
  /** Every variable, running statistics included, for checkpoints. */
  readonly allVariables: tf.Variable[];
  /** Checkpoint name of a variable (stable across processes). */
  nameOf(v: tf.Variable): string;
  /** Pooled features h = f(x): [B, H, W, 3] -> [B, featureDim]. */
  backbone(x: tf.Tensor4D, pass: Pass): tf.Tensor2D;
  /** Projection z = g(h): [B, featureDim] -> [B, projectionDim], not normalised. */
  project(h: tf.Tensor2D, pass: Pass): tf.Tensor2D;
  /** Backbone features of a batch in evaluation mode (running statistics). */
  features(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** Standard configurations; "small" is the quick profile's CPU encoder. */
export const encoderPresets: Record<string, EncoderConfig> = {
  resnet18: { arch: "resnet18", widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2], headHidden: 512, projectionDim: 128 },
  resnet50: { arch: "resnet50", widths: [64, 128, 256, 512], blocks: [3, 4, 6, 3], headHidden: 512, projectionDim: 128 },
  small: { arch: "small", widths: [32, 64, 128], blocks: [2, 2, 2], headHidden: 512, projectionDim: 128 },
};

/** Build an encoder whose initial weights depend only on the seed. */
export function createEncoder(config: EncoderConfig, seed: number): Encoder {
  validateConfig(config);
  return new ResNetEncoder(config, seed);
}

/**
 * `encoder` with the given stem. The CIFAR stem is the default and is left
 * out of the configuration, so configurations from before stems were
 * selectable keep their hashes.
 */
export function withStem(encoder: EncoderConfig, stem: EncoderStem): EncoderConfig {
  const { stem: _previous, ...rest } = encoder;
  return stem === "cifar" ? rest : { ...rest, stem };
}

function validateConfig(config: EncoderConfig): void {
  if (config.arch === "small") {
    if (config.widths.length === 0 || config.widths.length !== config.blocks.length) {
      throw new Error(
        `encoder "small" needs as many widths as block counts; got widths ` +
          `[${config.widths}] and blocks [${config.blocks}]`,
      );
    }
    const bad = [...config.widths, ...config.blocks].find((v) => !Number.isInteger(v) || v < 1);
    if (bad !== undefined) throw new Error(`encoder widths and blocks must be positive integers; got ${bad}`);
  } else if (config.arch !== "resnet18" && config.arch !== "resnet50") {
    throw new Error(`unknown encoder architecture "${String(config.arch)}"; use resnet18, resnet50 or small`);
  }
  if (config.stem !== undefined && config.stem !== "cifar" && config.stem !== "imagenet") {
    throw new Error(`unknown encoder stem "${String(config.stem)}"; use cifar or imagenet`);
  }
  if (config.headHidden < 1 || config.projectionDim < 1) {
    throw new Error("encoder head sizes must be positive");
  }
}

/** A residual block: basic (two 3x3 convs) or bottleneck (1x1, 3x3, 1x1). */
class Block {
  private readonly convs: Conv2d[] = [];
  private readonly norms: BatchNorm[] = [];
  private readonly shortcut: { conv: Conv2d; norm: BatchNorm } | null;

  constructor(
    store: ParameterStore,
    name: string,
    inChannels: number,
    width: number,
    stride: number,
    bottleneck: boolean,
  ) {
    const outChannels = bottleneck ? width * 4 : width;
    // (kernel, in, out, stride) of each conv in the block
    const plan: [number, number, number, number][] = bottleneck
      ? [
          [1, inChannels, width, 1],
          [3, width, width, stride],
          [1, width, outChannels, 1],
        ]
      : [
          [3, inChannels, width, stride],
          [3, width, width, 1],
        ];
    plan.forEach(([k, cin, cout, s], i) => {
      this.convs.push(new Conv2d(store, `${name}.conv${i + 1}`, cin, cout, k, s));
      this.norms.push(new BatchNorm(store, `${name}.bn${i + 1}`, cout));
    });
    this.shortcut =
      stride !== 1 || inChannels !== outChannels
        ? {
            conv: new Conv2d(store, `${name}.shortcut.conv`, inChannels, outChannels, 1, stride),
            norm: new BatchNorm(store, `${name}.shortcut.bn`, outChannels),
          }
        : null;
  }

  apply(x: tf.Tensor4D, pass: Pass): tf.Tensor4D {
    let y = x;
    const last = this.convs.length - 1;
    this.convs.forEach((conv, i) => {
      y = this.norms[i].apply(conv.apply(y), pass);
      if (i < last) y = tf.relu(y);
    });
    const identity = this.shortcut === null ? x : this.shortcut.norm.apply(this.shortcut.conv.apply(x), pass);
    return tf.relu(tf.add(y, identity)) as tf.Tensor4D;
  }
}

class ResNetEncoder implements Encoder {
  readonly featureDim: number;
  private readonly store: ParameterStore;
  private readonly stem: Conv2d;
  private readonly stemNorm: BatchNorm;
  private readonly stemPool: boolean;
  private readonly blocks: Block[] = [];
  private readonly headIn: Linear;
  private readonly headNorm: BatchNorm;
  private readonly headOut: Linear;

  constructor(
    readonly config: EncoderConfig,
    seed: number,
  ) {
    const store = new ParameterStore(new Rng(seed), config.arch);
    this.store = store;
    const bottleneck = config.arch === "resnet50";
    const expansion = bottleneck ? 4 : 1;

    // stem: the CIFAR one keeps the resolution, the ImageNet one divides it by 4
    const stemWidth = config.widths[0];
    const imagenetStem = config.stem === "imagenet";
    this.stem = imagenetStem
      ? new Conv2d(store, "stem.conv", 3, stemWidth, 7, 2)
      : new Conv2d(store, "stem.conv", 3, stemWidth, 3, 1);
    this.stemNorm = new BatchNorm(store, "stem.bn", stemWidth);
    this.stemPool = imagenetStem;

    // residual stages; every stage after the first halves the resolution
    let channels = stemWidth;
    config.widths.forEach((width, stage) => {
      for (let b = 0; b < config.blocks[stage]; b++) {
        const stride = stage > 0 && b === 0 ? 2 : 1;
        this.blocks.push(new Block(store, `layer${stage + 1}.${b}`, channels, width, stride, bottleneck));
        channels = width * expansion;
      }
    });
    this.featureDim = channels;

    // projection head g
    this.headIn = new Linear(store, "head.fc1", channels, config.headHidden, false);
    this.headNorm = new BatchNorm(store, "head.bn", config.headHidden);
    this.headOut = new Linear(store, "head.fc2", config.headHidden, config.projectionDim, true);
  }

  get trainableVariables(): tf.Variable[] {
    return this.store.trainable;
  }

  get allVariables(): tf.Variable[] {
    return [...this.store.trainable, ...this.store.buffers];
  }

  nameOf(v: tf.Variable): string {
    return this.store.localName(v);
  }

  backbone(x: tf.Tensor4D, pass: Pass): tf.Tensor2D {
    let y = tf.relu(this.stemNorm.apply(this.stem.apply(x), pass)); // [B, H, W, w0] (CIFAR stem)
    if (this.stemPool) y = tf.maxPool(y, 3, 2, "same"); // [B, H/4, W/4, w0] (ImageNet stem)
    for (const block of this.blocks) y = block.apply(y, pass);
    return tf.mean(y, [1, 2]) as tf.Tensor2D; // global average pool: [B, featureDim]
  }

  project(h: tf.Tensor2D, pass: Pass): tf.Tensor2D {
    const hidden = tf.relu(this.headNorm.apply(this.headIn.apply(h), pass)); // [B, 512]
    return this.headOut.apply(hidden); // [B, projectionDim]
  }

  features(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.backbone(x, { training: false, updates: [] }));
  }

  dispose(): void {
    this.store.dispose();
  }
}
