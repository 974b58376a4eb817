/**
 * The decoded-split cache: one binary file per (dataset, split, size,
 * source), so JPEG trees and archives are decoded once.
 *
 * Layout: 8 bytes magic "DCLSPLIT", uint32 LE header length, a JSON header
 * padded with spaces to a multiple of 8 bytes, int32 LE labels [count], then
 * uint8 pixels [count, height, width, 3]. Files are written under a temporary
 * name and renamed, so a reader sees a complete file or none. A split small
 * enough to decode in memory is written in one go (writeCache); a larger one
 * is written image by image as it decodes (CacheStream) and then paged from
 * the finished file.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { checkImagePut, PagedPixels, ResidentPixels } from "./pixels.js";
import type { ImageTarget } from "./source.js";
import type { DatasetName, ImageSplit } from "./types.js";

const MAGIC = "DCLSPLIT";
const FORMAT_VERSION = 1;
// large reads and writes go in pieces: one fs call moves at most 2 GiB
const CHUNK = 1 << 26;

/** What identifies one cache file. */
export interface CacheKey {
  dataset: DatasetName;
  split: string;
  size: number;
  /** Resolved folder or archive the split was read from. */
  location: string;
  /** Hex fingerprint of the source files (names, sizes, times, decoder). */
  fingerprint: string;
}

interface CacheHeader {
  version: number;
  dataset: DatasetName;
  split: string;
  count: number;
  height: number;
  width: number;
  classes: string[];
  checksum: string;
  fingerprint: string;
  location: string;
}

/**
 * File name of a cache entry: <dataset>-<split>-<size>-<where>-<source>.u8,
 * where <where> tells apart copies of a dataset kept in different folders
 * and <source> changes whenever the source files do.
 */
export function cacheFileName(key: CacheKey): string {
  const where = shortHash(path.resolve(key.location));
  return `${cachePrefix(key)}${where}-${key.fingerprint.slice(0, 16)}.u8`;
}

/**
 * Read a cache entry; undefined when absent, an Error when it is damaged.
 * Pixels of up to `residentLimit` bytes are read into memory; a larger
 * split is returned paged from the file.
 */
export async function readCache(
  cacheDir: string,
  key: CacheKey,
  residentLimit: number,
): Promise<ImageSplit | Error | undefined> {
  const file = path.join(cacheDir, cacheFileName(key));
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return err as Error;
  }
  try {
    return await readOpenCache(handle, file, key, residentLimit);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    await handle.close();
  }
}

async function readOpenCache(
  handle: fs.promises.FileHandle,
  file: string,
  key: CacheKey,
  residentLimit: number,
): Promise<ImageSplit | Error> {
  const { size: fileSize } = await handle.stat();

  // fixed prefix: magic and header length
  const prefix = Buffer.alloc(12);
  await handle.read(prefix, 0, 12, 0);
  if (prefix.toString("latin1", 0, 8) !== MAGIC) {
    return new Error(`${file} is not a split cache file (bad magic)`);
  }
  const headerLength = prefix.readUInt32LE(8);
  if (headerLength > 1 << 24 || 12 + headerLength > fileSize) {
    return new Error(`${file} has a damaged header`);
  }
  const headerBytes = Buffer.alloc(headerLength);
  await handle.read(headerBytes, 0, headerLength, 12);
  const header = parseHeader(headerBytes.toString("utf8"), file);
  if (header instanceof Error) return header;

  // the header must describe exactly what was asked for, and the length agree
  const mismatch = describeMismatch(header, key);
  if (mismatch) return new Error(`${file} belongs to ${mismatch}`);
  const labelBytes = header.count * 4;
  const pixelBytes = header.count * header.height * header.width * 3;
  const expected = 12 + headerLength + labelBytes + pixelBytes;
  if (fileSize !== expected) {
    return new Error(`${file} has ${fileSize} bytes, its header promises ${expected}`);
  }

  const labelBuffer = Buffer.alloc(labelBytes);
  await readFully(handle, labelBuffer, 12 + headerLength);
  const labels = new Int32Array(header.count);
  for (let i = 0; i < header.count; i++) labels[i] = labelBuffer.readInt32LE(i * 4);

  // pixels: into memory when small enough, otherwise paged from this file
  const imageBytes = header.height * header.width * 3;
  const start = 12 + headerLength + labelBytes;
  let pixels: ResidentPixels | PagedPixels;
  if (pixelBytes <= residentLimit) {
    const bytes = new Uint8Array(pixelBytes);
    await readFully(handle, bytes, start);
    pixels = new ResidentPixels(bytes, imageBytes);
  } else {
    const layout = { file, start, count: header.count, imageBytes, fileSize };
    pixels = new PagedPixels(layout);
  }

  return {
    dataset: header.dataset,
    split: header.split,
    count: header.count,
    height: header.height,
    width: header.width,
    pixels,
    labels,
    classes: Object.freeze([...header.classes]),
    checksum: header.checksum,
  };
}

/**
 * Write a resident `split` to the cache atomically and delete older entries
 * of the same dataset, split, size and location. On any failure (a full disk
 * included) the temporary file is removed and the error is thrown.
 */
export async function writeCache(
  cacheDir: string,
  key: CacheKey,
  split: ImageSplit,
): Promise<string> {
  await fs.promises.mkdir(cacheDir, { recursive: true });
  const file = path.join(cacheDir, cacheFileName(key));
  const temp = temporaryName(file);
  const head = encodeHead(headerOf(split, split.checksum, key));
  const labels = encodeLabels(split.labels);

  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(temp, "wx");
    for (const part of [head, labels]) await writeAll(handle, part);
    await writeAll(handle, split.pixels.whole());
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(temp, file);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
  await removeStale(cacheDir, key, path.basename(file));
  return file;
}

/** What a split's cache header says besides its checksum and key. */
export type SplitShape = Pick<
  ImageSplit,
  "dataset" | "split" | "count" | "height" | "width" | "classes"
>;

// stands in for the checksum until the stream is complete: same length
const PENDING_CHECKSUM = "0".repeat(64);

/**
 * A cache entry written image by image while a split decodes: images go to
 * their final positions in a temporary file (in any order), the header and
 * labels follow once every image is there, then the file is renamed into
 * place. Memory use is the labels plus one image at a time.
 */
export class CacheStream implements ImageTarget {
  /** Final name of the entry. */
  readonly file: string;
  /** Name while it is written. */
  readonly temp: string;
  private fd: number | undefined;
  private readonly imageBytes: number;
  /** Byte position of image 0 in the file. */
  readonly start: number;
  private readonly headLength: number;
  private readonly stored: Uint8Array; // 1 per image once written
  private storedCount = 0;

  constructor(
    private readonly cacheDir: string,
    private readonly key: CacheKey,
    private readonly shape: SplitShape,
  ) {
    this.file = path.join(cacheDir, cacheFileName(key));
    this.temp = temporaryName(this.file);
    this.imageBytes = shape.height * shape.width * 3;
    this.headLength = encodeHead(headerOf(shape, PENDING_CHECKSUM, key)).length;
    this.start = this.headLength + shape.count * 4;
    this.stored = new Uint8Array(shape.count);
    fs.mkdirSync(cacheDir, { recursive: true });
    removeOrphans(cacheDir, key);
    checkFreeSpace(cacheDir, this.start + shape.count * this.imageBytes, shape);
    this.fd = fs.openSync(this.temp, "wx");
  }

  /** Bytes the finished file will have. */
  get totalBytes(): number {
    return this.start + this.shape.count * this.imageBytes;
  }

  /** Writes image `index` at its place in the file. */
  put(index: number, image: Uint8Array): void {
    checkImagePut(index, image, this.shape.count, this.imageBytes);
    this.writeAt(image, this.start + index * this.imageBytes, `image ${index}`);
    if (this.stored[index] === 0) {
      this.stored[index] = 1;
      this.storedCount++;
    }
  }

  /**
   * Writes header and labels, flushes and renames the entry into place, then
   * deletes older entries of the same split. Returns the final file name.
   */
  async commit(labels: Int32Array, checksum: string): Promise<string> {
    const { count } = this.shape;
    if (this.storedCount !== count) {
      const missing = this.stored.indexOf(0);
      throw new Error(
        `${this.temp}: ${count - this.storedCount} of ${count} images were never ` +
          `written (the first is image ${missing}); the decoder stopped early`,
      );
    }
    if (labels.length !== count) {
      throw new Error(`${this.temp}: ${labels.length} labels for ${count} images`);
    }
    const head = encodeHead(headerOf(this.shape, checksum, this.key));
    if (head.length !== this.headLength) {
      throw new Error(`${this.temp}: the header changed length; checksum ${checksum}`);
    }
    this.writeAt(head, 0, "the header");
    this.writeAt(encodeLabels(labels), head.length, "the labels");
    const fd = this.fd as number;
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    this.fd = undefined;
    fs.renameSync(this.temp, this.file);
    await removeStale(this.cacheDir, this.key, path.basename(this.file));
    return this.file;
  }

  /** Closes and deletes the temporary file; safe to call more than once. */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already unusable: the file is removed below either way
      }
      this.fd = undefined;
    }
    fs.rmSync(this.temp, { force: true });
  }

  private writeAt(bytes: Uint8Array, position: number, what: string): void {
    if (this.fd === undefined) throw new Error(`${this.temp} is already closed`);
    try {
      let written = 0;
      while (written < bytes.length) {
        const length = Math.min(CHUNK, bytes.length - written);
        written += fs.writeSync(this.fd, bytes, written, length, position + written);
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const gib = (this.totalBytes / 2 ** 30).toFixed(2);
      throw new Error(
        `could not write ${what} to the cache file ${this.temp} (${reason}); the ` +
          `decoded ${this.shape.dataset}/${this.shape.split} needs ${gib} GiB in ` +
          `${this.cacheDir}: free space there (or make that folder a link to a ` +
          "larger disk) and load the split again",
      );
    }
  }
}

/**
 * Deletes temporary files of this split left by writers that no longer run
 * (killed mid-decode): at ImageNet scale each may hold gigabytes.
 */
function removeOrphans(cacheDir: string, key: CacheKey): void {
  const stem = `${cachePrefix(key)}${shortHash(path.resolve(key.location))}-`;
  for (const name of fs.readdirSync(cacheDir)) {
    const match = /\.u8\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
    if (!name.startsWith(stem) || match === null) continue;
    if (!processRuns(Number(match[1]))) {
      fs.rmSync(path.join(cacheDir, name), { force: true });
    }
  }
}

function processRuns(pid: number): boolean {
  try {
    // signal 0 only asks whether the process exists
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function checkFreeSpace(cacheDir: string, bytes: number, shape: SplitShape): void {
  // a stream of many GB should fail now, not after an hour of decoding
  const stats = fs.statfsSync(cacheDir);
  const free = stats.bavail * stats.bsize;
  if (free < bytes) {
    const gib = (n: number): string => (n / 2 ** 30).toFixed(2);
    throw new Error(
      `${cacheDir} has ${gib(free)} GiB free, the decoded ` +
        `${shape.dataset}/${shape.split} (${shape.count} images of ` +
        `${shape.width}x${shape.height}) needs ${gib(bytes)} GiB: free space there ` +
        "(or make that folder a link to a larger disk) and load the split again",
    );
  }
}

function headerOf(shape: SplitShape, checksum: string, key: CacheKey): CacheHeader {
  return {
    version: FORMAT_VERSION,
    dataset: shape.dataset,
    split: shape.split,
    count: shape.count,
    height: shape.height,
    width: shape.width,
    classes: [...shape.classes],
    checksum,
    fingerprint: key.fingerprint,
    location: path.resolve(key.location),
  };
}

/** Magic, header length and the JSON header, padded to a multiple of 8 bytes. */
function encodeHead(header: CacheHeader): Buffer {
  // padding puts the labels on an 8-byte boundary
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((12 + Buffer.byteLength(json)) % 8)) % 8);
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(Buffer.byteLength(json), 8);
  return Buffer.concat([prefix, Buffer.from(json, "utf8")]);
}

function encodeLabels(labels: Int32Array): Buffer {
  const bytes = Buffer.alloc(labels.length * 4);
  labels.forEach((label, i) => bytes.writeInt32LE(label, i * 4));
  return bytes;
}

function temporaryName(file: string): string {
  return `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
}

async function removeStale(cacheDir: string, key: CacheKey, keep: string): Promise<void> {
  // entries for the same place whose source has since changed
  const stem = `${cachePrefix(key)}${shortHash(path.resolve(key.location))}-`;
  for (const name of await fs.promises.readdir(cacheDir)) {
    if (name !== keep && name.startsWith(stem) && name.endsWith(".u8")) {
      await fs.promises.rm(path.join(cacheDir, name), { force: true });
    }
  }
}

async function writeAll(
  handle: fs.promises.FileHandle,
  bytes: Uint8Array,
): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    const piece = bytes.subarray(offset, Math.min(bytes.length, offset + CHUNK));
    let written = 0;
    while (written < piece.length) {
      const { bytesWritten } = await handle.write(piece, written, piece.length - written);
      written += bytesWritten;
    }
  }
}

async function readFully(
  handle: fs.promises.FileHandle,
  target: Uint8Array,
  position: number,
): Promise<void> {
  let filled = 0;
  while (filled < target.length) {
    const length = Math.min(CHUNK, target.length - filled);
    const { bytesRead } = await handle.read(target, filled, length, position + filled);
    if (bytesRead === 0) throw new Error("cache file ended early");
    filled += bytesRead;
  }
}

function parseHeader(text: string, file: string): CacheHeader | Error {
  try {
    const header = JSON.parse(text) as CacheHeader;
    const ok =
      header.version === FORMAT_VERSION &&
      Number.isInteger(header.count) &&
      header.count >= 0 &&
      Number.isInteger(header.height) &&
      Number.isInteger(header.width) &&
      Array.isArray(header.classes) &&
      typeof header.checksum === "string";
    return ok ? header : new Error(`${file} has an unknown header version or fields`);
  } catch {
    return new Error(`${file} has a header that is not JSON`);
  }
}

function describeMismatch(header: CacheHeader, key: CacheKey): string | undefined {
  if (header.dataset !== key.dataset || header.split !== key.split) {
    return `${header.dataset}/${header.split}`;
  }
  if (header.height !== key.size || header.width !== key.size) {
    return `size ${header.width}x${header.height}`;
  }
  if (header.fingerprint !== key.fingerprint) return "other source files";
  return undefined;
}

function cachePrefix(key: CacheKey): string {
  return `${key.dataset}-${key.split}-${key.size}-`;
}

function shortHash(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, 8);
}
