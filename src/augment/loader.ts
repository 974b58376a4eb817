/**
 * Batches of augmented view pairs for contrastive pretraining: a seeded
 * shuffle per epoch, the last incomplete batch dropped (as the official
 * code's DataLoader does), and the next batch prepared ahead of time.
 */
import type { ImageSplit } from "../data/types.js";
import { Rng } from "../util/rng.js";
import { type AugmentOptions, validateAugmentOptions } from "./options.js";
import { ViewAugmenter } from "./view.js";

/** How a TwoViewLoader draws its batches. */
export interface TwoViewLoaderOptions {
  /** Images per batch B (each gives `views` rows). */
  batchSize: number;
  /** Seed of the shuffles and of the augmentation. */
  seed: number;
  augment: AugmentOptions;
  /**
   * Images to draw from, as positions in the concatenation of the sources
   * (default: all of them). Lets a run pretrain on a subset.
   */
  indices?: ArrayLike<number>;
  /** Augmented views per image (default 2; more for M > 1 positives). */
  views?: number;
}

/** One batch: `count` images, each as `views.length` augmented views. */
export interface TwoViewBatch {
  /** [count, outSize, outSize, 3] normalised first views. */
  view1: Float32Array;
  /** [count, outSize, outSize, 3] second views of the same images. */
  view2: Float32Array;
  /** Every view, views[0] === view1 and views[1] === view2. */
  views: Float32Array[];
  /** [count] class labels (-1 for unlabeled images). */
  labels: Int32Array;
  /** [count] positions of the images in the concatenated sources. */
  indices: Int32Array;
  count: number;
  epoch: number;
  /** Position of the batch within its epoch. */
  batch: number;
}

/** Salt that separates the shuffle's stream from the batches' streams. */
const shuffleStream = 0x5f3759df;

/**
 * Deterministic batches of view pairs: batch b of epoch e depends only on
 * (seed, e, b), so a run can resume at any batch and get identical data.
 */
export class TwoViewLoader {
  /** Number of images the loader draws from. */
  readonly poolSize: number;
  /** Full batches per epoch; the incomplete remainder is dropped. */
  readonly batchesPerEpoch: number;
  private readonly sources: readonly ImageSplit[];
  private readonly starts: number[];
  private readonly pool: Int32Array;
  private readonly options: Required<Omit<TwoViewLoaderOptions, "indices">>;
  private readonly augmenter: ViewAugmenter;

  constructor(
    sources: ImageSplit | readonly ImageSplit[],
    options: TwoViewLoaderOptions,
  ) {
    this.sources = Array.isArray(sources) ? sources : [sources as ImageSplit];
    validateAugmentOptions(options.augment);
    const views = options.views ?? 2;
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(
        `TwoViewLoader: batchSize must be a positive integer, got ${options.batchSize}`,
      );
    }
    if (!Number.isInteger(views) || views < 2) {
      throw new Error(`TwoViewLoader: views must be an integer >= 2, got ${views}`);
    }
    this.options = {
      batchSize: options.batchSize,
      seed: options.seed,
      augment: options.augment,
      views,
    };
    this.augmenter = new ViewAugmenter(options.augment);

    // where each source starts in the concatenated numbering
    this.starts = [];
    let total = 0;
    for (const source of this.sources) {
      this.starts.push(total);
      total += source.count;
    }
    this.pool = buildPool(options.indices, total);
    this.poolSize = this.pool.length;
    this.batchesPerEpoch = Math.floor(this.poolSize / options.batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new Error(
        `TwoViewLoader: ${this.poolSize} images cannot fill one batch of ` +
          `${options.batchSize}; lower the batch size or use more images`,
      );
    }
  }

  /** The image order of an epoch: a permutation of the pool drawn from (seed, epoch). */
  epochOrder(epoch: number): Int32Array {
    const order = Int32Array.from(this.pool);
    return new Rng(mixSeed(this.options.seed, epoch, shuffleStream)).shuffle(order);
  }

  /** Builds batch `batch` of `epoch` now, synchronously. */
  makeBatch(
    epoch: number,
    batch: number,
    order: Int32Array = this.epochOrder(epoch),
  ): TwoViewBatch {
    const { batchSize, views } = this.options;
    if (!(batch >= 0 && batch < this.batchesPerEpoch)) {
      throw new Error(
        `TwoViewLoader: batch ${batch} is outside 0..${this.batchesPerEpoch - 1}`,
      );
    }
    const size = this.options.augment.outSize;
    const stride = size * size * 3;
    const indices = order.slice(batch * batchSize, (batch + 1) * batchSize);
    const labels = new Int32Array(batchSize);
    const rng = new Rng(mixSeed(this.options.seed, epoch, batch));

    // all first views, then all second views, ... from one stream per batch
    const outputs: Float32Array[] = [];
    for (let v = 0; v < views; v++) {
      const out = new Float32Array(batchSize * stride);
      for (let k = 0; k < batchSize; k++) {
        const [source, local] = this.locate(indices[k]);
        if (v === 0) labels[k] = source.labels[local];
        this.augmenter.augment(source, local, rng, out, k * stride);
      }
      outputs.push(out);
    }
    return {
      view1: outputs[0],
      view2: outputs[1],
      views: outputs,
      labels,
      indices,
      count: batchSize,
      epoch,
      batch,
    };
  }

  /**
   * The batches of one epoch, in order. While the caller works on batch b,
   * batch b + 1 is built as soon as the event loop is free.
   */
  async *epoch(epoch: number): AsyncGenerator<TwoViewBatch, void, undefined> {
    const order = this.epochOrder(epoch);
    let pending = this.prepare(epoch, 0, order);
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      const current = await pending;
      if (b + 1 < this.batchesPerEpoch) pending = this.prepare(epoch, b + 1, order);
      yield current;
    }
  }

  /** Schedules a batch on the event loop; errors surface where it is awaited. */
  private prepare(
    epoch: number,
    batch: number,
    order: Int32Array,
  ): Promise<TwoViewBatch> {
    const promise = new Promise<TwoViewBatch>((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(this.makeBatch(epoch, batch, order));
        } catch (error) {
          reject(error);
        }
      });
    });
    // a consumer that stops early never awaits the last prefetch
    promise.catch(() => undefined);
    return promise;
  }

  /** The source split and local index of a position in the concatenation. */
  private locate(position: number): [ImageSplit, number] {
    for (let s = this.sources.length - 1; s >= 0; s--) {
      if (position >= this.starts[s]) return [this.sources[s], position - this.starts[s]];
    }
    throw new Error(`TwoViewLoader: position ${position} is negative`);
  }
}

/** The pool of positions: the given ones (checked) or 0..total-1. */
function buildPool(indices: ArrayLike<number> | undefined, total: number): Int32Array {
  if (indices === undefined) {
    const all = new Int32Array(total);
    for (let i = 0; i < total; i++) all[i] = i;
    return all;
  }
  const pool = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const position = indices[i];
    if (!Number.isInteger(position) || position < 0 || position >= total) {
      throw new Error(
        `TwoViewLoader: index ${position} is outside the ${total} source images; ` +
          `pass indices in [0, ${total})`,
      );
    }
    pool[i] = position;
  }
  return pool;
}

/** A 32-bit seed mixing several integers (a murmur-style finaliser per part). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
