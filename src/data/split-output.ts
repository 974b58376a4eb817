/**
 * Where a split goes while it decodes: a split of up to `residentLimit`
 * pixel bytes is decoded into memory (and cached afterwards); a larger one
 * is streamed image by image into its cache file and then paged from it, so
 * decoding ImageNet-100 at 224 px needs a few MB, not 19 GB.
 */
import { CacheStream, type CacheKey } from "./cache.js";
import { checkImagePut, PagedPixels, ResidentPixels, type PixelStore } from "./pixels.js";
import { checkSplitBytes, type ImageTarget } from "./source.js";
import type { DatasetName } from "./types.js";

/** Default largest split held in memory: 2 GiB of pixels. */
export const DEFAULT_RESIDENT_LIMIT = 2 ** 31;

/** Largest residentLimit: Node 20 caps one typed array at 4 GiB. */
export const MAX_RESIDENT_LIMIT = 2 ** 32;

/** What the output needs to know about the split being decoded. */
export interface SplitOutputOptions {
  dataset: DatasetName;
  split: string;
  classes: readonly string[];
  cacheDir: string;
  key: CacheKey;
  residentLimit: number;
}

/** The decoded pixels and, for a streamed split, the cache file now holding them. */
export interface FinishedPixels {
  pixels: PixelStore;
  /** Set when the split was streamed: the entry is already in the cache. */
  cachedFile?: string;
}

/** Collects one split's decoded images in memory or in its cache file. */
export class SplitOutput {
  private memory: MemoryTarget | undefined;
  private stream: CacheStream | undefined;

  constructor(private readonly options: SplitOutputOptions) {}

  /** The OpenTarget handed to a reader; call at most once per split. */
  readonly open = (count: number, height: number, width: number): ImageTarget => {
    if (this.memory !== undefined || this.stream !== undefined) {
      throw new Error(`${this.describe()}: the reader opened its output twice`);
    }
    const { dataset, split, classes, cacheDir, key, residentLimit } = this.options;
    if (count * height * width * 3 <= residentLimit) {
      this.memory = new MemoryTarget(count, height, width, this.describe());
      return this.memory;
    }
    const shape = { dataset, split, count, height, width, classes };
    this.stream = new CacheStream(cacheDir, key, shape);
    return this.stream;
  };

  /**
   * The pixels once the reader is done: the in-memory array, or the
   * committed cache file opened for paging.
   */
  async finish(
    count: number,
    height: number,
    width: number,
    labels: Int32Array,
    checksum: string,
  ): Promise<FinishedPixels> {
    // a reader that found no images never opened its output
    if (this.memory === undefined && this.stream === undefined) {
      this.open(count, height, width);
    }
    const imageBytes = height * width * 3;
    if (this.memory !== undefined) {
      this.memory.checkShape(count, imageBytes);
      return { pixels: new ResidentPixels(this.memory.bytes, imageBytes) };
    }
    const stream = this.stream as CacheStream;
    const file = await stream.commit(labels, checksum);
    const layout = {
      file,
      start: stream.start,
      count,
      imageBytes,
      fileSize: stream.totalBytes,
    };
    return { pixels: new PagedPixels(layout), cachedFile: file };
  }

  /** Drops a half-written cache file after a failure; safe to call always. */
  abort(): void {
    this.stream?.abort();
  }

  private describe(): string {
    return `${this.options.dataset}/${this.options.split}`;
  }
}

/** A whole split in one array, [count, height, width, 3]. */
class MemoryTarget implements ImageTarget {
  readonly bytes: Uint8Array;
  private readonly imageBytes: number;

  constructor(
    private readonly count: number,
    height: number,
    width: number,
    what: string,
  ) {
    if (height !== width) throw new Error(`${what}: images must be square`);
    this.bytes = new Uint8Array(checkSplitBytes(count, height, what));
    this.imageBytes = height * width * 3;
  }

  put(index: number, image: Uint8Array): void {
    checkImagePut(index, image, this.count, this.imageBytes);
    this.bytes.set(image, index * this.imageBytes);
  }

  checkShape(count: number, imageBytes: number): void {
    if (count !== this.count || imageBytes !== this.imageBytes) {
      throw new Error(
        `the reader opened ${this.count} images of ${this.imageBytes} bytes ` +
          `but reported ${count} of ${imageBytes}`,
      );
    }
  }
}
