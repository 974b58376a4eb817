/**
 * The decoded-split cache: one binary file per (dataset, split, size,
 * source), so JPEG trees and archives are decoded once.
 *
 * Layout: 8 bytes magic "DCLSPLIT", uint32 LE header length, a JSON header
 * padded with spaces to a multiple of 8 bytes, int32 LE labels [count], then
 * uint8 pixels [count, height, width, 3]. Files are written under a temporary
 * name and renamed, so a reader sees a complete file or none.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
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

/** Read a cache entry; undefined when absent, an Error when it is damaged. */
export async function readCache(
  cacheDir: string,
  key: CacheKey,
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
    return await readOpenCache(handle, file, key);
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
  const pixels = new Uint8Array(pixelBytes);
  await readFully(handle, pixels, 12 + headerLength + labelBytes);

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
 * Write `split` to the cache atomically and delete older entries of the same
 * dataset, split, size and location. On any failure (a full disk included)
 * the temporary file is removed and the error is thrown.
 */
export async function writeCache(
  cacheDir: string,
  key: CacheKey,
  split: ImageSplit,
): Promise<string> {
  await fs.promises.mkdir(cacheDir, { recursive: true });
  const file = path.join(cacheDir, cacheFileName(key));
  const temp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;

  // header padded so that the labels start on an 8-byte boundary
  const header: CacheHeader = {
    version: FORMAT_VERSION,
    dataset: split.dataset,
    split: split.split,
    count: split.count,
    height: split.height,
    width: split.width,
    classes: [...split.classes],
    checksum: split.checksum,
    fingerprint: key.fingerprint,
    location: path.resolve(key.location),
  };
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((12 + Buffer.byteLength(json)) % 8)) % 8);
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(Buffer.byteLength(json), 8);
  const labels = Buffer.alloc(split.count * 4);
  split.labels.forEach((label, i) => labels.writeInt32LE(label, i * 4));

  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(temp, "wx");
    for (const part of [prefix, Buffer.from(json, "utf8"), labels])
      await writeAll(handle, part);
    await writeAll(handle, split.pixels);
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
