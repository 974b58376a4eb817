/**
 * What every dataset reader hands back to the loader: a description of the
 * files a split comes from (cheap to compute, used as the cache key) and a
 * way to decode them.
 */
import crypto from "node:crypto";
import fs from "node:fs";

/** Name, size and modification time of one source file. */
export interface FileStamp {
  /** Path relative to the data folder (or "archive:member"). */
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * Labels and provenance of one decoded split, before it gets a dataset name;
 * its pixels went to the ImageTarget the reader was given.
 */
export interface DecodedImages {
  count: number;
  height: number;
  width: number;
  labels: Int32Array;
  /** Hex sha256 over the names, sizes and contents of the source files. */
  checksum: string;
}

/** Receives the decoded images of a split one at a time, in any order. */
export interface ImageTarget {
  /** Stores image `index`: height * width * 3 bytes, HWC RGB. */
  put(index: number, image: Uint8Array): void;
}

/**
 * Called by a reader once it knows how many images a split has; the loader
 * answers with memory or with the cache file being written, by size.
 */
export type OpenTarget = (count: number, height: number, width: number) => ImageTarget;

/** One split found on disk in one of the formats the readers understand. */
export interface SplitSource {
  /** Short format name for logs and the cache key, e.g. "cifar10-binary". */
  format: string;
  /** Where the files are, for log lines and error messages. */
  location: string;
  /** Every file the split depends on; a change in any of them is a new cache. */
  stamps: readonly FileStamp[];
  /** The decoder whose output is cached; part of the cache key. */
  decoder: string;
  /**
   * Decode the split to `size` x `size` RGB images in a fixed order, opening
   * the target once the count is known and putting every image into it.
   */
  read(
    size: number,
    log: (line: string) => void,
    open: OpenTarget,
  ): Promise<DecodedImages>;
}

/** Stat a file into a stamp named `name`. */
export async function stampFile(file: string, name: string): Promise<FileStamp> {
  const stat = await fs.promises.stat(file);
  return { name, size: stat.size, mtimeMs: Math.round(stat.mtimeMs * 1000) / 1000 };
}

/**
 * Hex sha256 of the fingerprint of a source: its format, decoder and stamps.
 * Known shortcoming: like make, it trusts names, sizes and modification times,
 * so an edit that keeps a file's size and time leaves a stale cache entry.
 */
export function sourceFingerprint(source: SplitSource, size: number): string {
  const hash = crypto.createHash("sha256");
  hash.update(`dcl-split-cache 1\n${source.format}\n${source.decoder}\n${size}\n`);
  for (const stamp of source.stamps) {
    hash.update(`${stamp.name}\0${stamp.size}\0${stamp.mtimeMs}\n`);
  }
  return hash.digest("hex");
}

/**
 * Accumulates the provenance checksum of a split: sha256 over one line per
 * source file (name, size, sha256 of the bytes), in the order given by the
 * reader, so the same files give the same checksum whether they were read
 * from a folder or from inside an archive.
 */
export class ManifestHash {
  private readonly hash = crypto.createHash("sha256");

  /** Add one file whose content digest is already known. */
  add(name: string, size: number, digestHex: string): void {
    this.hash.update(`${name}\0${size}\0${digestHex}\n`);
  }

  /** The final hex checksum. */
  digest(): string {
    return this.hash.digest("hex");
  }
}

/** Hex sha256 of a byte array. */
export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** True when `file` exists and is a regular file (symlinks followed). */
export function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** True when `dir` exists and is a directory (symlinks followed). */
export function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Throw a clear error when count*height*width*3 bytes cannot be one array;
 * called wherever a whole split is allocated in memory.
 */
export function checkSplitBytes(count: number, side: number, what: string): number {
  const bytes = count * side * side * 3;
  // Node 20 caps a typed array at 4 GiB
  const limit = 2 ** 32;
  if (bytes > limit) {
    const gib = (bytes / 2 ** 30).toFixed(1);
    throw new Error(
      `${what}: ${count} images of ${side}x${side} need ${gib} GiB, more than one ` +
        "array can hold in Node (4 GiB); load the split with a residentLimit below " +
        "its size so that it is paged from the cache file instead",
    );
  }
  return bytes;
}
