/**
 * Where the decoded bytes of a split live: in one array in memory (a
 * resident store), or in the split's decoded-cache file on disk, read image
 * by image into a few slot buffers (a paged store). A paged split costs a
 * few MB of memory whatever its size, and leans on the operating system's
 * page cache for speed.
 */
import fs from "node:fs";
import type { ImageSplit } from "./types.js";

/** Where the HWC bytes of one image start: bytes[offset .. offset + imageBytes). */
export interface ImageBytes {
  bytes: Uint8Array;
  offset: number;
}

/**
 * The pixels of a split, one image at a time. Synchronous, because the
 * augmentation loop that reads them is.
 *
 * Validity: bytes from a resident store stay valid for the store's lifetime;
 * bytes from a paged store stay valid for the next `slots - 1` calls to
 * image() on the same store (64 slots by default), so several images may be
 * alive at once but none should be kept.
 */
export interface PixelStore {
  /** Number of images. */
  readonly count: number;
  /** Bytes of one image: height * width * 3. */
  readonly imageBytes: number;
  /** True when the whole split is in memory. */
  readonly resident: boolean;
  /** Image `index`, [height, width, 3] uint8 RGB starting at the returned offset. */
  image(index: number): ImageBytes;
  /**
   * The whole split, [count, height, width, 3], without a copy. Only a
   * resident store has it; a paged one throws an error naming its file.
   */
  whole(): Uint8Array;
  /** Releases the cache file of a paged store (image() fails afterwards). */
  close(): void;
}

/** Slot buffers of a paged store: 64 images of 224 px are 9.6 MB. */
export const PAGE_SLOTS = 64;

/** A split held in one array, image after image (zero-copy views). */
export class ResidentPixels implements PixelStore {
  readonly resident = true;
  readonly count: number;

  constructor(
    private readonly bytes: Uint8Array,
    readonly imageBytes: number,
  ) {
    if (imageBytes <= 0 || bytes.length % imageBytes !== 0) {
      throw new Error(
        `pixel array of ${bytes.length} bytes is not a whole number of ` +
          `${imageBytes}-byte images; pass count * height * width * 3 bytes`,
      );
    }
    this.count = bytes.length / imageBytes;
  }

  image(index: number): ImageBytes {
    checkImageIndex(index, this.count);
    return { bytes: this.bytes, offset: index * this.imageBytes };
  }

  whole(): Uint8Array {
    return this.bytes;
  }

  close(): void {
    // nothing to release: the array goes with its last reference
  }
}

/** Where a paged store finds its images inside a cache file. */
export interface PagedLayout {
  file: string;
  /** Byte position of image 0. */
  start: number;
  count: number;
  imageBytes: number;
  /** Size the file must have; a different one means it was replaced or cut. */
  fileSize: number;
}

// a store that is dropped without close() still gives its descriptor back
const descriptors = new FinalizationRegistry<number>((fd) => {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
});

/**
 * Images read on demand from a decoded-cache file with positional reads,
 * kept in `slots` buffers evicted least recently used first.
 */
export class PagedPixels implements PixelStore {
  readonly resident = false;
  readonly file: string;
  readonly count: number;
  readonly imageBytes: number;
  private readonly start: number;
  private fd: number | undefined;
  private readonly slab: Uint8Array; // [slots, imageBytes]
  private readonly slots: number;
  // image -> slot; Map order is the recency order, oldest first
  private readonly slotOf = new Map<number, number>();

  constructor(layout: PagedLayout, slots = PAGE_SLOTS) {
    this.file = layout.file;
    this.count = layout.count;
    this.imageBytes = layout.imageBytes;
    this.start = layout.start;
    this.slots = Math.max(1, Math.min(slots, layout.count));
    const fd = fs.openSync(layout.file, "r");
    const size = fs.fstatSync(fd).size;
    if (size !== layout.fileSize) {
      fs.closeSync(fd);
      throw new Error(
        `${layout.file} has ${size} bytes, ${layout.fileSize} expected: the cache ` +
          "file changed while it was opened; load the split again",
      );
    }
    this.fd = fd;
    descriptors.register(this, fd, this);
    this.slab = new Uint8Array(this.slots * this.imageBytes);
  }

  image(index: number): ImageBytes {
    checkImageIndex(index, this.count);
    const known = this.slotOf.get(index);
    if (known !== undefined) {
      // a hit becomes the most recent entry
      this.slotOf.delete(index);
      this.slotOf.set(index, known);
      return { bytes: this.slab, offset: known * this.imageBytes };
    }

    // a free slot while the ring fills, then the least recently used one
    let slot = this.slotOf.size;
    if (slot >= this.slots) {
      const [oldest, freed] = this.slotOf.entries().next().value as [number, number];
      this.slotOf.delete(oldest);
      slot = freed;
    }
    this.readInto(index, slot * this.imageBytes);
    this.slotOf.set(index, slot);
    return { bytes: this.slab, offset: slot * this.imageBytes };
  }

  whole(): Uint8Array {
    throw new Error(
      `the split is paged from ${this.file} and has no single in-memory array; ` +
        "read it image by image with image(i), or load it with a residentLimit " +
        "above its size",
    );
  }

  close(): void {
    if (this.fd === undefined) return;
    descriptors.unregister(this);
    fs.closeSync(this.fd);
    this.fd = undefined;
    this.slotOf.clear();
  }

  private readInto(index: number, at: number): void {
    if (this.fd === undefined) {
      throw new Error(`the paged split of ${this.file} was closed; load it again`);
    }
    const position = this.start + index * this.imageBytes;
    let filled = 0;
    while (filled < this.imageBytes) {
      const read = fs.readSync(
        this.fd,
        this.slab,
        at + filled,
        this.imageBytes - filled,
        position + filled,
      );
      if (read === 0) {
        throw new Error(
          `${this.file} ended inside image ${index}: the cache file was cut short ` +
            "while in use; delete it and load the split again",
        );
      }
      filled += read;
    }
  }
}

/** The fields of an ImageSplit with its pixels as one plain array. */
export type ResidentSplitFields = Omit<ImageSplit, "pixels"> & { pixels: Uint8Array };

/**
 * An ImageSplit over one in-memory array [count, height, width, 3], e.g. for
 * synthetic images and test fixtures.
 */
export function residentSplit(fields: ResidentSplitFields): ImageSplit {
  const imageBytes = fields.height * fields.width * 3;
  if (fields.pixels.length !== fields.count * imageBytes) {
    throw new Error(
      `${fields.dataset}/${fields.split}: ${fields.pixels.length} pixel bytes for ` +
        `${fields.count} images of ${fields.width}x${fields.height} ` +
        `(${fields.count * imageBytes} expected)`,
    );
  }
  return { ...fields, pixels: new ResidentPixels(fields.pixels, imageBytes) };
}

function checkImageIndex(index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`image index ${index} is outside [0, ${count})`);
  }
}

/** Checks an image handed to a target: its index in [0, count), its length imageBytes. */
export function checkImagePut(
  index: number, image: Uint8Array, count: number, imageBytes: number,
): void {
  checkImageIndex(index, count);
  if (image.length !== imageBytes) {
    throw new Error(`image ${index} has ${image.length} bytes, ${imageBytes} expected`);
  }
}
