/**
 * The contrastive objectives of Debiased Contrastive Learning (Chuang et al.,
 * NeurIPS 2020) and its hard-negative extension (Robinson et al., ICLR 2021).
 *
 * Two views of B images give 2B anchor rows. For anchor i, with s(i, j) the
 * cosine similarity and t the temperature:
 *   pos_i = exp(s(i, i+) / t)                       (i+ = the other view)
 *   neg_ij = exp(s(i, j) / t), j not in {i, i+}     (N = 2B - 2 negatives)
 *   loss   = mean_i -log( pos_i / (pos_i + Ng_i) )
 * and the objectives differ only in Ng_i:
 *   biased    Ng = sum_j neg_ij                                  (SimCLR)
 *   debiased  Ng = max( (sum_j neg_ij - tau+ N pos~_i) / (1 - tau+), N e^(-1/t) )
 *   hard      as debiased, with sum_j neg_ij replaced by
 *             sum_j w_ij neg_ij / mean_j w_ij,  w_ij = exp(beta s(i, j) / t)
 *   unbiased  Ng = N * mean of neg_ij over the j whose true label differs
 * where pos~_i averages exp(s(i, v)/t) over the M positive views v of anchor i
 * (the paper's general estimator; M = 1 in the official code, pos~ = pos).
 */
import * as tf from "@tensorflow/tfjs-core";
import "./util/gradients.js";

/**
 * Smallest temperature accepted. The floor N e^(-1/t) and negatives at
 * similarity -1 are e^(-2/t) times the largest term; at t = 0.05 that is
 * 4e-18, comfortably inside float32, while below about 0.03 it underflows.
 */
export const minTemperature = 0.05;

/** Which objective contrastiveLoss computes. */
export type ContrastiveKind = "biased" | "debiased" | "unbiased" | "hard";

/** Options of contrastiveLoss; the paper's values are temperature 0.5, tauPlus 0.1. */
export interface ContrastiveLossOptions {
  kind: ContrastiveKind;
  /** Softmax temperature t > 0. */
  temperature: number;
  /** Class prior tau+ in [0, 1), used by "debiased" and "hard" (default 0.1). */
  tauPlus?: number;
  /** Hardness beta >= 0, used by "hard" (default 1). beta = 0 is "debiased". */
  beta?: number;
  /** True class of each of the B images; required by "unbiased". */
  labels?: ArrayLike<number>;
  /**
   * Extra positive views beyond the pair (z1, z2), each [B, D] and L2-normalised.
   * With k extra views the correction uses M = k + 1 positives per anchor.
   */
  extraPositives?: tf.Tensor2D[];
}

/**
 * Mean contrastive loss over the 2B anchors of two L2-normalised batches of
 * projections z1, z2 of shape [B, D]. Returns a scalar that can be
 * differentiated with respect to z1, z2 and the extra positives.
 */
export function contrastiveLoss(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: ContrastiveLossOptions,
): tf.Scalar {
  const settings = validate(z1, z2, options);
  return tf.tidy(() => lossFromProjections(z1, z2, settings));
}

/** Options after validation, with every default filled in. */
interface Settings {
  kind: ContrastiveKind;
  t: number;
  tauPlus: number;
  beta: number;
  labels: Int32Array | null;
  extra: tf.Tensor2D[];
  batch: number;
}

function validate(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: ContrastiveLossOptions,
): Settings {
  if (z1.rank !== 2 || z2.rank !== 2) {
    throw new Error(`contrastiveLoss: z1 and z2 must be [B, D]; got ranks ${z1.rank}, ${z2.rank}`);
  }
  if (z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
    throw new Error(
      `contrastiveLoss: z1 ${shapeText(z1)} and z2 ${shapeText(z2)} must have the same shape`,
    );
  }
  const batch = z1.shape[0];
  if (batch < 2) {
    throw new Error(`contrastiveLoss: a batch needs B >= 2 images to have negatives; got B = ${batch}`);
  }
  const kinds: ContrastiveKind[] = ["biased", "debiased", "unbiased", "hard"];
  if (!kinds.includes(options.kind)) {
    throw new Error(`contrastiveLoss: unknown kind "${options.kind}"; use one of ${kinds.join(", ")}`);
  }
  const t = options.temperature;
  if (!(Number.isFinite(t) && t >= minTemperature)) {
    throw new Error(
      `contrastiveLoss: temperature must be a number >= ${minTemperature}; got ${t} ` +
        "(below it the terms exp(-2/t) of the debiased estimate underflow float32)",
    );
  }
  const tauPlus = options.tauPlus ?? 0.1;
  if (!(Number.isFinite(tauPlus) && tauPlus >= 0 && tauPlus < 1)) {
    throw new Error(`contrastiveLoss: tauPlus must lie in [0, 1); got ${tauPlus}`);
  }
  const beta = options.beta ?? 1;
  if (!(Number.isFinite(beta) && beta >= 0)) {
    throw new Error(`contrastiveLoss: beta must be a finite number >= 0; got ${beta}`);
  }
  const extra = options.extraPositives ?? [];
  for (const view of extra) {
    if (view.rank !== 2 || view.shape[0] !== batch || view.shape[1] !== z1.shape[1]) {
      throw new Error(
        `contrastiveLoss: every extra positive must be ${shapeText(z1)}; got ${shapeText(view)}`,
      );
    }
  }

  let labels: Int32Array | null = null;
  if (options.kind === "unbiased") {
    if (options.labels === undefined) {
      throw new Error('contrastiveLoss: kind "unbiased" needs the true labels (options.labels)');
    }
    if (options.labels.length !== batch) {
      throw new Error(
        `contrastiveLoss: got ${options.labels.length} labels for a batch of ${batch} images`,
      );
    }
    labels = Int32Array.from(options.labels);
  }
  return { kind: options.kind, t, tauPlus, beta, labels, extra, batch };
}

function shapeText(x: tf.Tensor): string {
  return `[${x.shape.join(", ")}]`;
}

function lossFromProjections(z1: tf.Tensor2D, z2: tf.Tensor2D, s: Settings): tf.Scalar {
  const { batch, t } = s;
  const rows = 2 * batch;
  const negatives = rows - 2; // N

  // Every exponential is scaled by exp(-1/t): since s(i, j) <= 1 each term
  // lies in (0, 1], so nothing overflows, and the ratio inside the log (floor
  // included) is unchanged because all terms carry the same factor.
  const shift = 1 / t;

  // all similarities between the 2B rows
  const z = tf.concat([z1, z2], 0); // [2B, D]
  const logits = tf.sub(tf.div(tf.matMul(z, z, false, true), t), shift); // [2B, 2B]
  const mask = negativeMask(batch, s.labels); // [2B, 2B], 1 where j is a negative of i
  const neg = tf.mul(tf.exp(logits), mask); // [2B, 2B]

  // positive pair: row i of view 1 with row i of view 2, and back
  const posLogit1 = tf.sub(tf.div(tf.sum(tf.mul(z1, z2), 1), t), shift); // [B]
  const posLogit = tf.concat([posLogit1, posLogit1], 0); // [2B]
  const pos = tf.exp(posLogit); // [2B]

  // the negative term Ng of the chosen objective
  let ng: tf.Tensor; // [2B]
  if (s.kind === "biased") {
    ng = tf.sum(neg, 1);
  } else if (s.kind === "unbiased") {
    // N times the mean over different-label negatives; an anchor whose batch
    // holds no other class has no negative at all and contributes loss 0.
    const count = tf.maximum(tf.sum(mask, 1), 1);
    ng = tf.mul(tf.div(tf.sum(neg, 1), count), negatives);
  } else {
    const sumNeg = s.kind === "hard" ? reweighted(logits, neg, mask, s.beta, negatives) : tf.sum(neg, 1);
    const posTilde = averagePositives(z1, z2, s.extra, pos, t, shift); // [2B]
    const estimate = tf.div(
      tf.sub(sumNeg, tf.mul(posTilde, s.tauPlus * negatives)),
      1 - s.tauPlus,
    );
    // the floor N * exp(-1/t), scaled by exp(-1/t) like every other term
    const floor = negatives * Math.exp(-1 / t - shift);
    ng = tf.maximum(estimate, floor);
  }

  // -log(pos / (pos + Ng)) = log(pos + Ng) - log(pos), with log(pos) = posLogit
  return tf.mean(tf.sub(tf.log(tf.add(pos, ng)), posLogit));
}

/**
 * 1 where column j is a negative of anchor row i: j differs from i and from
 * its other view i+, and (with labels, for the unbiased objective) the two
 * images have different true classes.
 */
function negativeMask(batch: number, labels: Int32Array | null): tf.Tensor2D {
  const rows = 2 * batch;
  const values = new Float32Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const image = i % batch;
    for (let j = 0; j < rows; j++) {
      const other = j % batch;
      let negative = other !== image;
      if (negative && labels !== null) negative = labels[other] !== labels[image];
      values[i * rows + j] = negative ? 1 : 0;
    }
  }
  return tf.tensor2d(values, [rows, rows]);
}

/**
 * The hard-negative sum: sum_j w_ij neg_ij / mean_j w_ij over the N negatives,
 * with importance weights w_ij = exp(beta * s(i, j) / t). Each row's weights
 * are divided by their largest one to stay finite; the factor cancels in the ratio.
 */
function reweighted(
  logits: tf.Tensor,
  neg: tf.Tensor,
  mask: tf.Tensor,
  beta: number,
  negatives: number,
): tf.Tensor {
  // shift each row by its largest negative logit so the largest weight is 1
  const masked = tf.add(logits, tf.mul(tf.sub(mask, 1), 1e9)); // non-negatives -> -1e9
  const rowMax = tf.max(masked, 1, true); // [2B, 1]
  const weights = tf.mul(tf.exp(tf.mul(tf.sub(logits, rowMax), beta)), mask); // [2B, 2B]
  const meanWeight = tf.div(tf.sum(weights, 1), negatives); // [2B]
  return tf.div(tf.sum(tf.mul(weights, neg), 1), meanWeight);
}

/**
 * pos~_i: the mean of exp(s(i, v)/t) over the M positive views v of anchor i
 * (the other view of the pair plus the extra views), scaled like every term.
 */
function averagePositives(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  extra: tf.Tensor2D[],
  pos: tf.Tensor,
  t: number,
  shift: number,
): tf.Tensor {
  if (extra.length === 0) return pos;
  const similarity = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor =>
    tf.exp(tf.sub(tf.div(tf.sum(tf.mul(a, b), 1), t), shift));

  // anchors of view 1 and of view 2 each see every extra view
  let total = pos;
  for (const view of extra) {
    total = tf.add(total, tf.concat([similarity(z1, view), similarity(z2, view)], 0));
  }
  return tf.div(total, extra.length + 1);
}
