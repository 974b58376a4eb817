/**
 * Linear evaluation on frozen features: a single Linear(dim -> classes) layer
 * trained with cross-entropy and Adam, then scored by top-1 / top-5 accuracy.
 *
 * The official evaluation recomputes the features of training-augmented images
 * every epoch; this probe trains on fixed features of un-augmented images,
 * which is far cheaper on a CPU but usually scores a little differently.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Adam } from "../train/adam.js";
import "../util/gradients.js";
import { Rng } from "../util/rng.js";
import { topKAccuracy } from "./topk.js";

/** Settings of the probe (official: 100 epochs, batch 512, Adam 1e-3, wd 1e-6). */
export interface LinearProbeOptions {
  epochs: number;
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** L2 weight decay added to the gradient (grad += wd * w), as torch.optim.Adam does. */
  weightDecay: number;
  classes: number;
  /** Seeds the initial weights and the per-epoch shuffles. */
  seed: number;
  /** Receives one line per epoch. */
  log?: (line: string) => void;
}

/** Test accuracy (%) of the trained probe and its mean cross-entropy per epoch. */
export interface LinearProbeResult {
  top1: number;
  top5: number;
  /** Mean training cross-entropy of each epoch (weight decay not included). */
  trainLoss: number[];
}

/** Rows of test features scored per matMul. */
const SCORE_ROWS = 4096;

/**
 * Trains Linear(dim -> classes) on `trainFeats` [nTrain, dim] and reports its
 * accuracy on `testFeats` [nTest, dim] (row-major, used as given: unnormalised).
 */
export async function linearProbe(
  trainFeats: Float32Array,
  trainLabels: Int32Array,
  testFeats: Float32Array,
  testLabels: Int32Array,
  dim: number,
  options: LinearProbeOptions,
): Promise<LinearProbeResult> {
  checkInputs(trainFeats, trainLabels, testFeats, testLabels, dim, options);
  const rng = new Rng(options.seed);
  const layer = createLinear(dim, options.classes, rng.fork());
  // torch.optim.Adam semantics: betas 0.9/0.999, eps 1e-8, grad += wd * w
  const optimizer = new Adam({ lr: options.lr, weightDecay: options.weightDecay });
  const shuffleRng = rng.fork();
  try {
    const trainLoss: number[] = [];
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const start = performance.now();
      const loss = await trainEpoch(
        layer, optimizer, trainFeats, trainLabels, dim, options, shuffleRng,
      );
      trainLoss.push(loss);
      const seconds = (performance.now() - start) / 1000;
      options.log?.(
        `linear epoch ${epoch}/${options.epochs} loss ${loss.toFixed(4)} ` +
          `(${seconds.toFixed(1)} s, ${tf.getBackend()})`,
      );
    }

    // score the test split: logits [nTest, classes] -> top-1 / top-5
    const logits = await scoreRows(layer, testFeats, testLabels.length, dim, options.classes);
    return {
      top1: topKAccuracy(logits, testLabels, 1),
      top5: topKAccuracy(logits, testLabels, 5),
      trainLoss,
    };
  } finally {
    optimizer.dispose();
    layer.weight.dispose();
    layer.bias.dispose();
  }
}

/** Weights [dim, classes] and bias [classes] of the probe. */
interface Linear {
  weight: tf.Variable<tf.Rank.R2>;
  bias: tf.Variable<tf.Rank.R1>;
}

/** torch.nn.Linear's default init: weight and bias uniform in +-1/sqrt(dim). */
function createLinear(dim: number, classes: number, rng: Rng): Linear {
  const bound = 1 / Math.sqrt(dim);
  const weights = new Float32Array(dim * classes);
  for (let i = 0; i < weights.length; i++) weights[i] = rng.uniform(-bound, bound);
  const bias = new Float32Array(classes);
  for (let i = 0; i < classes; i++) bias[i] = rng.uniform(-bound, bound);
  return {
    weight: variableFrom(tf.tensor2d(weights, [dim, classes])),
    bias: variableFrom(tf.tensor1d(bias)),
  };
}

/** A trainable variable holding `init`'s values; `init` itself is released. */
function variableFrom<R extends tf.Rank>(init: tf.Tensor<R>): tf.Variable<R> {
  // a variable shares its initial tensor's data but not its handle: free the handle
  const variable = tf.variable(init, true);
  init.dispose();
  return variable;
}

/** One shuffled pass over the training features; returns the mean cross-entropy. */
async function trainEpoch(
  layer: Linear,
  optimizer: Adam,
  feats: Float32Array,
  labels: Int32Array,
  dim: number,
  options: LinearProbeOptions,
  rng: Rng,
): Promise<number> {
  const rows = labels.length;
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  rng.shuffle(order);

  const batchFeats = new Float32Array(options.batchSize * dim);
  const batchLabels = new Int32Array(options.batchSize);
  let lossSum = 0;
  for (let start = 0; start < rows; start += options.batchSize) {
    // gather one batch: features [b, dim], labels [b]; the last batch may be short
    const b = Math.min(options.batchSize, rows - start);
    for (let i = 0; i < b; i++) {
      const row = order[start + i];
      batchFeats.set(feats.subarray(row * dim, (row + 1) * dim), i * dim);
      batchLabels[i] = labels[row];
    }
    const x = tf.tensor2d(batchFeats.subarray(0, b * dim), [b, dim]);
    const y = tf.tensor1d(batchLabels.subarray(0, b), "int32");
    const loss = step(layer, optimizer, x, y, options.classes);
    lossSum += (await loss.data())[0] * b;
    tf.dispose([x, y, loss]);
  }
  return lossSum / rows;
}

/** One Adam step on a batch; returns the batch's mean cross-entropy (a scalar). */
function step(
  layer: Linear,
  optimizer: Adam,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  classes: number,
): tf.Scalar {
  const { value, grads } = tf.variableGrads(
    () => crossEntropy(logitsOf(layer, x), y, classes),
    [layer.weight, layer.bias],
  );
  // the optimiser adds the weight decay to both gradients, as torch does; tidy
  // frees the initial handles of the moments it creates lazily (variables survive)
  tf.tidy(() =>
    optimizer.apply([
      { name: "weight", variable: layer.weight, grad: grads[layer.weight.name] },
      { name: "bias", variable: layer.bias, grad: grads[layer.bias.name] },
    ]),
  );
  tf.dispose(grads);
  return value;
}

/** x [b, dim] -> logits [b, classes]. */
function logitsOf(layer: Linear, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, layer.weight), layer.bias);
}

/** Mean softmax cross-entropy of logits [b, classes] against labels [b]. */
function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, classes: number): tf.Scalar {
  const target = tf.oneHot(labels, classes); // [b, classes]
  const logProbs = tf.logSoftmax(logits); // [b, classes]
  return tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), 1))) as tf.Scalar;
}

/** Logits of every row of `feats` [rows, dim], as a row-major [rows, classes] array. */
async function scoreRows(
  layer: Linear,
  feats: Float32Array,
  rows: number,
  dim: number,
  classes: number,
): Promise<Float32Array> {
  const out = new Float32Array(rows * classes);
  for (let start = 0; start < rows; start += SCORE_ROWS) {
    const b = Math.min(SCORE_ROWS, rows - start);
    const logits = tf.tidy(() => {
      const x = tf.tensor2d(feats.subarray(start * dim, (start + b) * dim), [b, dim]);
      return logitsOf(layer, x);
    });
    // read outside tidy: tidy would walk a returned typed array element-wise
    out.set(await logits.data(), start * classes);
    logits.dispose();
  }
  return out;
}

function checkInputs(
  trainFeats: Float32Array,
  trainLabels: Int32Array,
  testFeats: Float32Array,
  testLabels: Int32Array,
  dim: number,
  options: LinearProbeOptions,
): void {
  const fail = (what: string): never => {
    throw new Error(`linearProbe: ${what}`);
  };
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) fail(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt("dim", dim);
  positiveInt("batchSize", options.batchSize);
  positiveInt("classes", options.classes);
  if (!Number.isInteger(options.epochs) || options.epochs < 0) {
    fail(`epochs must be a non-negative integer, got ${options.epochs}`);
  }
  if (!(options.lr > 0)) fail(`lr must be > 0, got ${options.lr}`);
  if (!(options.weightDecay >= 0)) {
    fail(`weightDecay must be >= 0, got ${options.weightDecay}`);
  }
  if (trainLabels.length === 0) fail("no training features; pass at least one row");
  if (testLabels.length === 0) fail("no test features; pass at least one row");
  if (trainFeats.length !== trainLabels.length * dim) {
    fail(
      `train features hold ${trainFeats.length} values, ` +
        `expected ${trainLabels.length} x ${dim}`,
    );
  }
  if (testFeats.length !== testLabels.length * dim) {
    fail(
      `test features hold ${testFeats.length} values, ` +
        `expected ${testLabels.length} x ${dim}`,
    );
  }
  for (const [which, labels] of [["train", trainLabels], ["test", testLabels]] as const) {
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= options.classes) {
        fail(`${which} label ${labels[i]} at row ${i} is outside 0..${options.classes - 1}`);
      }
    }
  }
}
