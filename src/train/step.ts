/**
 * One optimisation step of contrastive pretraining: each view goes through
 * the encoder in its own forward pass (BatchNorm statistics per view, as the
 * official code does), the projections are L2-normalised, the chosen loss is
 * computed over the whole batch, and Adam updates every parameter.
 *
 * Large steps can be split into chunks so that activations of at most
 * `chunkSize` images are alive at once (the wasm backend has 4 GB):
 *   1. embed every chunk without keeping activations;
 *   2. take the gradient of the loss of the whole batch with respect to the
 *      embeddings, dL/dz (so the loss is exact over all 2B anchors);
 *   3. run each chunk again and backpropagate sum(z_chunk * dL/dz_chunk).
 * This costs one extra forward pass, and BatchNorm then normalises each chunk
 * with its own statistics rather than those of the whole view (a chunk at
 * least as large as a view changes nothing there: every view is one chunk).
 *
 * Without a chunk size the step is whole, except on wasm when it would not
 * fit in 4 GiB: it is then split into the largest chunks that fit (see
 * automaticChunkSize), and the step says so once.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { LossConfig } from "../config.js";
import { contrastiveLoss } from "../loss.js";
import type { Encoder } from "../models/encoder.js";
import { commitUpdates, discardUpdates, type Pass } from "../models/layers.js";
import { automaticChunkSize } from "../backend/wasm-memory.js";
import { Adam } from "./adam.js";

export interface StepOptions {
  lr: number;
  weightDecay: number;
  /**
   * Largest number of images whose activations are kept at once (null = the
   * whole step, split automatically only where the backend cannot hold it).
   */
  chunkSize: number | null;
  /** Receives the one notice of an automatic split. */
  log?: (line: string) => void;
}

/** A training step bound to one encoder and its optimiser. */
export interface TrainStep {
  /**
   * Train on one batch: view1 and view2 are [B, H, W, 3]; extra views (for
   * M > 1 positives) have the same shape; labels (B) feed the unbiased loss.
   * Resolves to the loss before the update.
   */
  step(
    view1: tf.Tensor4D,
    view2: tf.Tensor4D,
    labels?: ArrayLike<number>,
    extraViews?: tf.Tensor4D[],
  ): Promise<number>;
  readonly optimizer: Adam;
  /** Chunk size the last step ran with (null: in one piece). */
  readonly lastChunkSize: number | null;
}

/** Bind the loss configuration, optimiser and chunking policy to an encoder. */
export function createTrainStep(encoder: Encoder, loss: LossConfig, options: StepOptions): TrainStep {
  if (options.chunkSize !== null && !(Number.isInteger(options.chunkSize) && options.chunkSize >= 1)) {
    throw new Error(`chunkSize must be a positive integer or null; got ${options.chunkSize}`);
  }
  const optimizer = new Adam({ lr: options.lr, weightDecay: options.weightDecay });
  let lastChunkSize: number | null = null;
  let announced = false;

  return {
    optimizer,
    get lastChunkSize() {
      return lastChunkSize;
    },
    async step(view1, view2, labels, extraViews = []) {
      const views = [view1, view2, ...extraViews];
      const batch = view1.shape[0];
      const total = batch * views.length;
      const chunkSize = options.chunkSize ??
        automaticChunkSize(tf.getBackend(), encoder.config, view1.shape[1], total);
      if (options.chunkSize === null && chunkSize !== null && !announced) {
        announced = true;
        const norm = chunkSize < batch
          ? `; batch norm then sees ${chunkSize} images instead of a view of ${batch}, ` +
            "which a native backend avoids"
          : "";
        options.log?.(`warning: a step of ${total} images does not fit in wasm's 4 GiB; ` +
          `it runs in chunks of ${chunkSize} (exact loss over the batch, one extra ` +
          `forward pass${norm}); --chunk-size sets the size`);
      }
      const lossOptions = {
        kind: loss.kind,
        temperature: loss.temperature,
        tauPlus: loss.tauPlus,
        beta: loss.beta,
        labels,
      };

      const whole = chunkSize === null || total <= chunkSize;
      lastChunkSize = whole ? null : chunkSize;
      const { value, grads, updates } = whole
        ? wholeStep(encoder, views, lossOptions)
        : chunkedStep(encoder, views, lossOptions, chunkSize);

      // a NaN loss or gradient must never reach the weights
      const lossValue = (await value.data())[0];
      value.dispose();
      if (!Number.isFinite(lossValue)) {
        disposeGrads(grads);
        discardUpdates(updates);
        throw new NonFiniteLossError(lossValue);
      }

      optimizer.apply(
        encoder.trainableVariables.map((variable) => ({
          name: encoder.nameOf(variable),
          variable,
          grad: grads[variable.name],
        })),
      );
      disposeGrads(grads);
      commitUpdates(updates);
      return lossValue;
    },
  };
}

/** Thrown when the loss of a step is NaN or infinite. */
export class NonFiniteLossError extends Error {
  constructor(readonly value: number) {
    super(
      `the loss became ${value}: training stopped before the weights were corrupted. ` +
        "Lower the learning rate, raise the temperature, or check the input data for NaNs.",
    );
    this.name = "NonFiniteLossError";
  }
}

type LossOptions = Parameters<typeof contrastiveLoss>[2];

interface StepGradients {
  value: tf.Scalar;
  grads: tf.NamedTensorMap;
  updates: Pass["updates"];
}

/** L2-normalised projection of one batch of images: [n, H, W, 3] -> [n, D]. */
function embed(encoder: Encoder, x: tf.Tensor4D, pass: Pass): tf.Tensor2D {
  const z = encoder.project(encoder.backbone(x, pass), pass); // [n, D]
  const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(z), 1, true), 1e-24)); // [n, 1]
  return tf.div(z, norm);
}

function lossOf(z: tf.Tensor2D[], options: LossOptions): tf.Scalar {
  return contrastiveLoss(z[0], z[1], { ...options, extraPositives: z.slice(2) });
}

function wholeStep(encoder: Encoder, views: tf.Tensor4D[], options: LossOptions): StepGradients {
  const pass: Pass = { training: true, updates: [] };
  const { value, grads } = tf.variableGrads(
    () => lossOf(views.map((v) => embed(encoder, v, pass)), options),
    encoder.trainableVariables,
  );
  return { value, grads, updates: pass.updates };
}

function chunkedStep(
  encoder: Encoder,
  views: tf.Tensor4D[],
  options: LossOptions,
  chunkSize: number,
): StepGradients {
  const batch = views[0].shape[0];
  const spans: [number, number][] = [];
  for (let start = 0; start < batch; start += chunkSize) {
    spans.push([start, Math.min(chunkSize, batch - start)]);
  }
  const rows = (x: tf.Tensor, [start, size]: [number, number]) =>
    tf.slice(x, start, size) as tf.Tensor4D;

  // 1. embeddings of every view, chunk by chunk, activations released at once
  const scratch: Pass = { training: true, updates: [] };
  const z = views.map((view) =>
    tf.tidy(() => tf.concat(spans.map((span) => embed(encoder, rows(view, span), scratch)), 0)),
  );
  discardUpdates(scratch.updates);

  // 2. exact loss of the whole batch and its gradient with respect to z
  const { value, grads: dz } = tf.valueAndGrads((...zs: tf.Tensor[]) =>
    lossOf(zs as tf.Tensor2D[], options),
  )(z);
  z.forEach((t) => t.dispose());

  // 3. backpropagate each chunk's share: d/dw sum(z_chunk * dL/dz_chunk)
  const pass: Pass = { training: true, updates: [] };
  const total: tf.NamedTensorMap = {};
  views.forEach((view, v) => {
    for (const span of spans) {
      const { value: surrogate, grads } = tf.variableGrads(() => {
        const zc = embed(encoder, rows(view, span), pass);
        return tf.sum(tf.mul(zc, rows(dz[v], span) as tf.Tensor)) as tf.Scalar;
      }, encoder.trainableVariables);
      surrogate.dispose();
      accumulate(total, grads);
    }
  });
  dz.forEach((t) => t.dispose());

  return { value, grads: total, updates: pass.updates };
}

function accumulate(total: tf.NamedTensorMap, grads: tf.NamedTensorMap): void {
  for (const [name, g] of Object.entries(grads)) {
    const previous = total[name];
    if (previous === undefined) {
      total[name] = g;
    } else {
      total[name] = tf.add(previous, g);
      previous.dispose();
      g.dispose();
    }
  }
}

function disposeGrads(grads: tf.NamedTensorMap): void {
  for (const g of Object.values(grads)) g.dispose();
}
