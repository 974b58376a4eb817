/**
 * Weighted k-nearest-neighbour monitor (the official code's kNN test): every
 * query votes with its k most similar memory-bank features, each neighbour
 * weighted by exp(cosine similarity / t), and the class with the largest
 * summed weight is the prediction.
 */
import * as tf from "@tensorflow/tfjs-core";
import { labelRank } from "./topk.js";

/** How the similarities and neighbours are computed. */
export type KnnEngine = "tfjs" | "js" | "auto";

/** Settings of the kNN monitor (official: k = 200, temperature = 0.5). */
export interface KnnOptions {
  /** Neighbours per query; clamped to the bank size. */
  k: number;
  /** Temperature t of the neighbour weights exp(sim / t). */
  temperature: number;
  /** Number of classes; every label must lie in 0..classes-1. */
  classes: number;
  /** Queries per block; default keeps one block of similarities near 64 MB. */
  chunkSize?: number;
  /**
   * "tfjs": matMul + topk on the active tfjs backend; "js": a plain loop.
   * "auto" (default) uses tfjs on every backend except the pure-JS "cpu" one,
   * where the plain loop measured faster. CPU seconds measured for 10k queries
   * x 50k bank x 512-d, k 200, one core: wasm tfjs 48, plain loop 363, cpu tfjs
   * about 930 (scaled from 200 queries).
   */
  engine?: KnnEngine;
}

/** Top-1 and top-5 accuracy in percent. */
export interface KnnResult {
  top1: number;
  top5: number;
}

/** Bytes of float32 similarities one query block may hold. */
const BLOCK_BYTES = 64 * 1024 * 1024;

/**
 * Weighted kNN accuracy of `queries` [nq, dim] against the memory bank
 * `bank` [nb, dim] (both row-major; L2-normalised here, inputs untouched).
 */
export function knnAccuracy(
  bank: Float32Array,
  bankLabels: Int32Array,
  queries: Float32Array,
  queryLabels: Int32Array,
  dim: number,
  options: KnnOptions,
): KnnResult {
  checkInputs(bank, bankLabels, queries, queryLabels, dim, options);
  const bankSize = bankLabels.length;
  const querySize = queryLabels.length;
  const k = Math.min(options.k, bankSize);
  const chunk =
    options.chunkSize ?? Math.max(1, Math.floor(BLOCK_BYTES / (4 * bankSize)));
  const finder = createFinder(
    l2Normalise(bank, bankSize, dim),
    bankSize,
    dim,
    k,
    resolveEngine(options.engine ?? "auto"),
  );

  // vote block by block: neighbours [rows, k] -> class scores -> hits
  const normQueries = l2Normalise(queries, querySize, dim);
  const vote = new Float64Array(options.classes);
  let top1 = 0;
  let top5 = 0;
  try {
    for (let start = 0; start < querySize; start += chunk) {
      const rows = Math.min(chunk, querySize - start);
      const block = normQueries.subarray(start * dim, (start + rows) * dim);
      const { sims, indices } = finder.neighbours(block, rows);
      for (let r = 0; r < rows; r++) {
        weightedVote(sims, indices, r * k, k, bankLabels, options.temperature, vote);
        const rank = labelRank(vote, 0, options.classes, queryLabels[start + r]);
        if (rank < 1) top1++;
        if (rank < 5) top5++;
      }
    }
  } finally {
    finder.dispose();
  }
  return { top1: (100 * top1) / querySize, top5: (100 * top5) / querySize };
}

/** Row-wise L2-normalised copy of `x` [rows, dim]; zero rows stay zero. */
export function l2Normalise(x: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += x[base + d] * x[base + d];
    // same floor as torch's F.normalize, so an all-zero feature never divides by 0
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let d = 0; d < dim; d++) out[base + d] = x[base + d] * inv;
  }
  return out;
}

/** The engine "auto" stands for on the active backend. */
export function resolveEngine(engine: KnnEngine): "tfjs" | "js" {
  if (engine !== "auto") return engine;
  return tf.getBackend() === "cpu" ? "js" : "tfjs";
}

/** Class scores of one query: sum of exp(sim / t) per neighbour label. */
function weightedVote(
  sims: Float32Array,
  indices: Int32Array,
  offset: number,
  k: number,
  bankLabels: Int32Array,
  temperature: number,
  vote: Float64Array,
): void {
  vote.fill(0);
  // shifting by the best similarity rescales all weights alike (same argmax)
  // and keeps exp() finite at very small temperatures
  let best = -Infinity;
  for (let j = 0; j < k; j++) best = Math.max(best, sims[offset + j]);
  for (let j = 0; j < k; j++) {
    const weight = Math.exp((sims[offset + j] - best) / temperature);
    vote[bankLabels[indices[offset + j]]] += weight;
  }
}

/** Finds the k most similar bank rows of a block of normalised queries. */
interface NeighbourFinder {
  /** sims and indices are [rows, k], row-major, in no particular order. */
  neighbours(block: Float32Array, rows: number): { sims: Float32Array; indices: Int32Array };
  dispose(): void;
}

function createFinder(
  bank: Float32Array,
  bankSize: number,
  dim: number,
  k: number,
  engine: "tfjs" | "js",
): NeighbourFinder {
  return engine === "tfjs"
    ? tfjsFinder(bank, bankSize, dim, k)
    : loopFinder(bank, bankSize, dim, k);
}

/** matMul + topk on the active tfjs backend; the bank tensor lives until dispose. */
function tfjsFinder(
  bank: Float32Array,
  bankSize: number,
  dim: number,
  k: number,
): NeighbourFinder {
  // the wasm matMul ran 5-10x slower with transposeB than on a [dim, nb] operand
  const bankTensor = tf.tensor2d(transpose(bank, bankSize, dim), [dim, bankSize]);
  return {
    neighbours(block, rows) {
      const best = tf.tidy(() => {
        const queries = tf.tensor2d(block, [rows, dim]); // [rows, dim]
        const sims = tf.matMul(queries, bankTensor); // [rows, nb]
        return tf.topk(sims, k); // values, indices: [rows, k]
      });
      // read outside tidy: tidy would walk a returned typed array element-wise
      const sims = best.values.dataSync() as Float32Array;
      const indices = best.indices.dataSync() as Int32Array;
      best.values.dispose();
      best.indices.dispose();
      return { sims, indices };
    },
    dispose() {
      bankTensor.dispose();
    },
  };
}

/** Column-major copy [dim, rows] of a row-major [rows, dim] matrix. */
function transpose(x: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < dim; d++) out[d * rows + r] = x[r * dim + d];
  }
  return out;
}

/** Plain loops: four queries share each pass over a bank row, then a heap select. */
function loopFinder(
  bank: Float32Array,
  bankSize: number,
  dim: number,
  k: number,
): NeighbourFinder {
  let simBuffer = new Float32Array(0);
  return {
    neighbours(block, rows) {
      if (simBuffer.length < rows * bankSize) {
        simBuffer = new Float32Array(rows * bankSize);
      }
      similarities(block, rows, bank, bankSize, dim, simBuffer); // [rows, nb]
      const sims = new Float32Array(rows * k);
      const indices = new Int32Array(rows * k);
      for (let r = 0; r < rows; r++) {
        selectTopK(simBuffer, r * bankSize, bankSize, k, sims, indices, r * k);
      }
      return { sims, indices };
    },
    dispose() {
      simBuffer = new Float32Array(0);
    },
  };
}

/** out[r, j] = <queries[r], bank[j]> for a block of rows. */
function similarities(
  queries: Float32Array,
  rows: number,
  bank: Float32Array,
  bankSize: number,
  dim: number,
  out: Float32Array,
): void {
  let r = 0;
  // four queries at a time: each bank value is loaded once for four products
  for (; r + 4 <= rows; r += 4) {
    const q0 = r * dim;
    const q1 = q0 + dim;
    const q2 = q1 + dim;
    const q3 = q2 + dim;
    for (let j = 0; j < bankSize; j++) {
      const b = j * dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < dim; d++) {
        const v = bank[b + d];
        s0 += queries[q0 + d] * v;
        s1 += queries[q1 + d] * v;
        s2 += queries[q2 + d] * v;
        s3 += queries[q3 + d] * v;
      }
      out[r * bankSize + j] = s0;
      out[(r + 1) * bankSize + j] = s1;
      out[(r + 2) * bankSize + j] = s2;
      out[(r + 3) * bankSize + j] = s3;
    }
  }
  for (; r < rows; r++) {
    const q = r * dim;
    for (let j = 0; j < bankSize; j++) {
      const b = j * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += queries[q + d] * bank[b + d];
      out[r * bankSize + j] = s;
    }
  }
}

/** The k largest of row[offset .. offset+n) by a size-k min-heap. */
function selectTopK(
  row: Float32Array,
  offset: number,
  n: number,
  k: number,
  outValues: Float32Array,
  outIndices: Int32Array,
  outOffset: number,
): void {
  const values = outValues.subarray(outOffset, outOffset + k);
  const indices = outIndices.subarray(outOffset, outOffset + k);

  // fill the heap with the first k values, then heapify
  for (let j = 0; j < k; j++) {
    values[j] = row[offset + j];
    indices[j] = j;
  }
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(values, indices, i, k);

  // a later value enters only if it beats the smallest kept one (ties keep the earlier)
  for (let j = k; j < n; j++) {
    const v = row[offset + j];
    if (v > values[0]) {
      values[0] = v;
      indices[0] = j;
      siftDown(values, indices, 0, k);
    }
  }
}

function siftDown(
  values: Float32Array,
  indices: Int32Array,
  start: number,
  size: number,
): void {
  let i = start;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= size) return;
    const right = left + 1;
    const child = right < size && values[right] < values[left] ? right : left;
    if (values[child] >= values[i]) return;
    const v = values[i];
    values[i] = values[child];
    values[child] = v;
    const ix = indices[i];
    indices[i] = indices[child];
    indices[child] = ix;
    i = child;
  }
}

function checkInputs(
  bank: Float32Array,
  bankLabels: Int32Array,
  queries: Float32Array,
  queryLabels: Int32Array,
  dim: number,
  options: KnnOptions,
): void {
  const fail = (what: string): never => {
    throw new Error(`knnAccuracy: ${what}`);
  };
  if (!Number.isInteger(dim) || dim < 1) fail(`dim must be a positive integer, got ${dim}`);
  if (bankLabels.length === 0) {
    fail("the memory bank is empty; pass at least one train feature");
  }
  if (queryLabels.length === 0) fail("no queries; pass at least one test feature");
  if (bank.length !== bankLabels.length * dim) {
    fail(
      `bank holds ${bank.length} values, ` +
        `expected ${bankLabels.length} labels x ${dim} dims`,
    );
  }
  if (queries.length !== queryLabels.length * dim) {
    fail(
      `queries hold ${queries.length} values, ` +
        `expected ${queryLabels.length} labels x ${dim} dims`,
    );
  }
  if (!Number.isInteger(options.k) || options.k < 1) {
    fail(`k must be a positive integer, got ${options.k}`);
  }
  if (!(options.temperature > 0)) fail(`temperature must be > 0, got ${options.temperature}`);
  if (!Number.isInteger(options.classes) || options.classes < 1) {
    fail(`classes must be a positive integer, got ${options.classes}`);
  }
  const chunk = options.chunkSize;
  if (chunk !== undefined && !(Number.isInteger(chunk) && chunk > 0)) {
    fail(`chunkSize must be a positive integer, got ${options.chunkSize}`);
  }
  checkLabels(bankLabels, options.classes, "bank", fail);
  checkLabels(queryLabels, options.classes, "query", fail);
}

function checkLabels(
  labels: Int32Array,
  classes: number,
  which: string,
  fail: (what: string) => never,
): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0 || labels[i] >= classes) {
      fail(`${which} label ${labels[i]} at row ${i} is outside 0..${classes - 1}`);
    }
  }
}
