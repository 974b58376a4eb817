/**
 * Two-dimensional views of stored embeddings for the embeddings report: PCA
 * (deterministic, fast) and a small exact t-SNE as the paper's figure uses.
 * Both work on [count, dim] row-major Float32 data.
 */
import { Rng } from "../util/rng.js";

/** [count, 2] coordinates of the two leading principal components. */
export function pca2(values: Float32Array, count: number, dim: number): Float64Array {
  const centred = centre(values, count, dim);
  const out = new Float64Array(count * 2);
  const found: Float64Array[] = [];

  // power iteration on X^T X with deflation against components already found
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(dim).map((_, i) => Math.cos(i + c + 1));
    for (let iter = 0; iter < 200; iter++) {
      const xv = multiply(centred, count, dim, v);
      const next = multiplyTransposed(centred, count, dim, xv);
      for (const u of found) subtractProjection(next, u);
      const norm = Math.hypot(...next);
      if (norm === 0) break;
      v = next.map((x) => x / norm);
    }
    found.push(v);
    const scores = multiply(centred, count, dim, v);
    for (let i = 0; i < count; i++) out[i * 2 + c] = scores[i];
  }
  return out;
}

/**
 * [count, 2] t-SNE embedding (exact gradients, O(count^2) per iteration, so
 * meant for a few hundred to a couple of thousand points).
 */
export function tsne2(
  values: Float32Array, count: number, dim: number,
  options: { perplexity?: number; iterations?: number; seed?: number } = {},
): Float64Array {
  const perplexity = Math.min(options.perplexity ?? 30, (count - 1) / 3);
  const iterations = options.iterations ?? 500;
  const p = jointProbabilities(values, count, dim, perplexity);

  // start from a small random layout, then gradient descent with momentum
  const rng = new Rng(options.seed ?? 0);
  const y = new Float64Array(count * 2).map(() => rng.normal() * 1e-4);
  const velocity = new Float64Array(count * 2);
  const q = new Float64Array(count * count);
  for (let iter = 0; iter < iterations; iter++) {
    const exaggeration = iter < 100 ? 12 : 1;
    const momentum = iter < 250 ? 0.5 : 0.8;
    let qSum = 0;
    for (let i = 0; i < count; i++) {
      for (let j = i + 1; j < count; j++) {
        const dx = y[i * 2] - y[j * 2];
        const dy = y[i * 2 + 1] - y[j * 2 + 1];
        const w = 1 / (1 + dx * dx + dy * dy);
        q[i * count + j] = w;
        q[j * count + i] = w;
        qSum += 2 * w;
      }
    }
    for (let i = 0; i < count; i++) {
      let gx = 0;
      let gy = 0;
      for (let j = 0; j < count; j++) {
        if (i === j) continue;
        const w = q[i * count + j];
        const force = (exaggeration * p[i * count + j] - w / qSum) * w;
        gx += force * (y[i * 2] - y[j * 2]);
        gy += force * (y[i * 2 + 1] - y[j * 2 + 1]);
      }
      velocity[i * 2] = momentum * velocity[i * 2] - 200 * 4 * gx;
      velocity[i * 2 + 1] = momentum * velocity[i * 2 + 1] - 200 * 4 * gy;
    }
    for (let k = 0; k < y.length; k++) y[k] += velocity[k];
  }
  return y;
}

/** Symmetrised affinities p_ij with a per-point bandwidth matching the perplexity. */
function jointProbabilities(
  values: Float32Array, count: number, dim: number, perplexity: number,
): Float64Array {
  const distances = new Float64Array(count * count);
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      let d = 0;
      for (let k = 0; k < dim; k++) {
        const diff = values[i * dim + k] - values[j * dim + k];
        d += diff * diff;
      }
      distances[i * count + j] = d;
      distances[j * count + i] = d;
    }
  }

  // binary search of the precision of each row so its entropy is log(perplexity)
  const target = Math.log(perplexity);
  const conditional = new Float64Array(count * count);
  const row = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let low = 0;
    let high = Infinity;
    let precision = 1;
    for (let step = 0; step < 64; step++) {
      let sum = 0;
      let weighted = 0;
      for (let j = 0; j < count; j++) {
        row[j] = j === i ? 0 : Math.exp(-distances[i * count + j] * precision);
        sum += row[j];
        weighted += row[j] * distances[i * count + j];
      }
      const entropy = Math.log(sum) + (precision * weighted) / sum;
      if (Math.abs(entropy - target) < 1e-5) break;
      if (entropy > target) {
        low = precision;
        precision = high === Infinity ? precision * 2 : (precision + high) / 2;
      } else {
        high = precision;
        precision = (precision + low) / 2;
      }
    }
    const sum = row.reduce((a, b) => a + b, 0) || 1;
    for (let j = 0; j < count; j++) conditional[i * count + j] = row[j] / sum;
  }
  const joint = new Float64Array(count * count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < count; j++) {
      joint[i * count + j] = Math.max(
        (conditional[i * count + j] + conditional[j * count + i]) / (2 * count), 1e-12);
    }
  }
  return joint;
}

function centre(values: Float32Array, count: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let k = 0; k < dim; k++) mean[k] += values[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= count;
  const out = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < dim; k++) out[i * dim + k] = values[i * dim + k] - mean[k];
  }
  return out;
}

/** X v: [count, dim] x [dim] -> [count]. */
function multiply(x: Float64Array, count: number, dim: number, v: Float64Array): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += x[i * dim + k] * v[k];
    out[i] = s;
  }
  return out;
}

/** X^T u: [count, dim]^T x [count] -> [dim]. */
function multiplyTransposed(
  x: Float64Array, count: number, dim: number, u: Float64Array,
): Float64Array {
  const out = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < dim; k++) out[k] += x[i * dim + k] * u[i];
  }
  return out;
}

function subtractProjection(v: Float64Array, unit: Float64Array): void {
  let dot = 0;
  for (let k = 0; k < v.length; k++) dot += v[k] * unit[k];
  for (let k = 0; k < v.length; k++) v[k] -= dot * unit[k];
}
