/**
 * The few layers the encoders need, written directly on tfjs-core ops so that
 * every parameter is a plain tf.Variable we can name, save and update.
 * Tensors are NHWC float32 throughout.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../util/rng.js";

/** Owns the variables of one model and gives them unique, stable names. */
export class ParameterStore {
  /** Trainable parameters in creation order. */
  readonly trainable: tf.Variable[] = [];
  /** Non-trainable state (BatchNorm running statistics). */
  readonly buffers: tf.Variable[] = [];
  private readonly prefix: string;

  constructor(
    readonly rng: Rng,
    scope: string,
  ) {
    // variable names are global in tfjs: a per-model scope keeps them unique
    this.prefix = `${scope}#${nextScopeId++}/`;
  }

  /** A trainable variable initialised from the given values. */
  param(name: string, values: Float32Array, shape: number[]): tf.Variable {
    // variables outlive tidy; the temporary tensor they copy does not
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), true, this.prefix + name));
    this.trainable.push(v);
    return v;
  }

  /** A non-trainable variable (running statistics). */
  buffer(name: string, values: Float32Array, shape: number[]): tf.Variable {
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), false, this.prefix + name));
    this.buffers.push(v);
    return v;
  }

  /** Name of a variable without the per-model prefix (used in checkpoints). */
  localName(v: tf.Variable): string {
    return v.name.startsWith(this.prefix) ? v.name.slice(this.prefix.length) : v.name;
  }

  dispose(): void {
    for (const v of [...this.trainable, ...this.buffers]) v.dispose();
    this.trainable.length = 0;
    this.buffers.length = 0;
  }
}

let nextScopeId = 0;

/**
 * A batch statistic gathered during a training-mode forward pass, blended
 * into its running statistic when the step commits: running <- (1 - m)
 * running + m batch, applied in the order of the forward passes as PyTorch
 * does when a batch goes through the network several times.
 */
export interface StatUpdate {
  target: tf.Variable;
  batch: tf.Tensor;
}

/** Context of one forward pass. */
export interface Pass {
  /** Batch statistics (true) or running statistics (false) in BatchNorm. */
  training: boolean;
  /** Where training-mode BatchNorm leaves its running-statistics updates. */
  updates: StatUpdate[];
}

/** 2-D convolution without bias (every conv is followed by BatchNorm). */
export class Conv2d {
  readonly filter: tf.Variable; // [k, k, in, out]

  constructor(
    store: ParameterStore,
    name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly stride: number,
  ) {
    // He-normal with fan-out, as torchvision initialises ResNet convolutions
    const fanOut = kernel * kernel * outChannels;
    const std = Math.sqrt(2 / fanOut);
    const values = new Float32Array(kernel * kernel * inChannels * outChannels);
    for (let i = 0; i < values.length; i++) values[i] = std * store.rng.normal();
    this.filter = store.param(`${name}.weight`, values, [kernel, kernel, inChannels, outChannels]);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    // "same" padding runs on every backend (native TensorFlow rejects explicit
    // pads in its gradients). With stride 2 it pads one pixel at the bottom and
    // right only, where PyTorch pads one on every side: a one-pixel shift of
    // the sampling grid that leaves the output size unchanged.
    return tf.conv2d(x, this.filter as tf.Tensor4D, this.stride, "same");
  }
}

/** Fully connected layer, PyTorch's default uniform(-1/sqrt(in), 1/sqrt(in)) init. */
export class Linear {
  readonly weight: tf.Variable; // [in, out]
  readonly bias: tf.Variable | null; // [out]

  constructor(store: ParameterStore, name: string, inputs: number, outputs: number, bias: boolean) {
    const bound = 1 / Math.sqrt(inputs);
    const w = new Float32Array(inputs * outputs);
    for (let i = 0; i < w.length; i++) w[i] = store.rng.uniform(-bound, bound);
    this.weight = store.param(`${name}.weight`, w, [inputs, outputs]);
    if (bias) {
      const b = new Float32Array(outputs);
      for (let i = 0; i < b.length; i++) b[i] = store.rng.uniform(-bound, bound);
      this.bias = store.param(`${name}.bias`, b, [outputs]);
    } else {
      this.bias = null;
    }
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const y = tf.matMul(x, this.weight) as tf.Tensor2D; // [B, out]
    return this.bias === null ? y : (tf.add(y, this.bias) as tf.Tensor2D);
  }
}

/**
 * Batch normalisation over every axis but the last (channels), for both
 * [B, H, W, C] and [B, C] inputs. Running statistics follow PyTorch: momentum
 * 0.1, unbiased variance, eps 1e-5.
 */
export class BatchNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  static readonly momentum = 0.1;
  static readonly eps = 1e-5;

  constructor(store: ParameterStore, name: string, channels: number) {
    this.gamma = store.param(`${name}.weight`, new Float32Array(channels).fill(1), [channels]);
    this.beta = store.param(`${name}.bias`, new Float32Array(channels), [channels]);
    this.runningMean = store.buffer(`${name}.running_mean`, new Float32Array(channels), [channels]);
    this.runningVar = store.buffer(
      `${name}.running_var`,
      new Float32Array(channels).fill(1),
      [channels],
    );
  }

  apply<T extends tf.Tensor>(x: T, pass: Pass): T {
    if (!pass.training) {
      return tf.batchNorm(
        x,
        this.runningMean,
        this.runningVar,
        this.beta,
        this.gamma,
        BatchNorm.eps,
      ) as T;
    }

    // normalise with the statistics of this batch
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const count = x.size / x.shape[x.shape.length - 1];
    const { y, mean, unbiasedVariance } = batchNormTraining(x, this.gamma, this.beta, axes, count);
    pass.updates.push(
      { target: this.runningMean, batch: mean },
      { target: this.runningVar, batch: unbiasedVariance },
    );
    return y as T;
  }
}

/**
 * Training-mode batch normalisation with a hand-written backward pass:
 * with x^ = (x - mean) * r, r = 1 / sqrt(var + eps) and n values per channel,
 *   dbeta = sum(dy),  dgamma = sum(dy * x^),
 *   dx = gamma * r * (dy - dbeta / n - x^ * dgamma / n).
 * Automatic differentiation of the same forward pass takes about twice as
 * many full-size element-wise ops, which dominate a small ResNet's step.
 * Also returns the batch mean and the unbiased variance (kept: the caller
 * owns them) for the running statistics, as PyTorch keeps them.
 */
function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  axes: number[],
  count: number,
): { y: tf.Tensor; mean: tf.Tensor; unbiasedVariance: tf.Tensor } {
  let mean: tf.Tensor | undefined;
  let unbiased: tf.Tensor | undefined;
  const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, shift] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const moments = tf.moments(input, axes); // [C], [C]
    mean = tf.keep(moments.mean);
    unbiased = tf.keep(tf.mul(moments.variance, count / Math.max(count - 1, 1)));
    const r = tf.rsqrt(tf.add(moments.variance, BatchNorm.eps)); // [C]
    const xHat = tf.mul(tf.sub(input, moments.mean), r); // like x
    save([xHat, r, scale]);
    return {
      value: tf.add(tf.mul(xHat, scale), shift),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xh, rs, g] = saved;
        const grad = dy as tf.Tensor;
        const dBeta = tf.sum(grad, axes); // [C]
        const dGamma = tf.sum(tf.mul(grad, xh), axes); // [C]
        const centred = tf.sub(tf.sub(grad, tf.div(dBeta, count)), tf.mul(xh, tf.div(dGamma, count)));
        return [tf.mul(centred, tf.mul(g, rs)), dGamma, dBeta];
      },
    };
  });
  const y = normalise(x, gamma, beta);
  return { y, mean: mean as tf.Tensor, unbiasedVariance: unbiased as tf.Tensor };
}

/** Blend the gathered batch statistics into the running ones, then release them. */
export function commitUpdates(updates: StatUpdate[]): void {
  const m = BatchNorm.momentum;
  for (const { target, batch } of updates) {
    tf.tidy(() => target.assign(tf.add(tf.mul(target, 1 - m), tf.mul(batch, m))));
    batch.dispose();
  }
  updates.length = 0;
}

/** Release gathered statistics that should not be applied. */
export function discardUpdates(updates: StatUpdate[]): void {
  for (const { batch } of updates) batch.dispose();
  updates.length = 0;
}
