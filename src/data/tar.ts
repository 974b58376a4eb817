/**
 * A small streaming reader for tar archives (plain or gzip-compressed), so the
 * official dataset archives can be read or unpacked without a system `tar`
 * and without holding a whole member in memory.
 *
 * Understands ustar and old-GNU headers, GNU long names ('L') and pax path
 * records ('x'); other special members (links, devices) are reported as
 * "other" and skipped by the callers.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

/** One member of a tar archive as announced by its header. */
export interface TarEntry {
  /** Path inside the archive, without a leading "./". */
  path: string;
  size: number;
  type: "file" | "directory" | "other";
}

/**
 * Called once per member; `body` yields the member's bytes in chunks. A body
 * that the callback does not read is skipped.
 */
export type TarEntryHandler = (
  entry: TarEntry,
  body: AsyncIterable<Uint8Array>,
) => Promise<void> | void;

const BLOCK = 512;

/** True when the file name says gzip-compressed tar (.tar.gz or .tgz). */
export function isGzipTarName(file: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(file);
}

/** True when the file name is a tar archive this reader understands. */
export function isTarName(file: string): boolean {
  return isGzipTarName(file) || /\.tar$/i.test(file);
}

/** Stream every member of `archive` through `onEntry`, in archive order. */
export async function readTar(archive: string, onEntry: TarEntryHandler): Promise<void> {
  const raw = fs.createReadStream(archive, { highWaterMark: 1 << 20 });
  const stream = isGzipTarName(archive) ? raw.pipe(zlib.createGunzip()) : raw;
  raw.on("error", (err) => stream.destroy(err));
  const reader = new ByteReader(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  try {
    await walkMembers(reader, archive, onEntry);
  } catch (err) {
    throw wrapArchiveError(err, archive);
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

/** Names and sizes of every regular file in `archive`, in archive order. */
export async function listTar(archive: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  await readTar(archive, (entry) => {
    if (entry.type === "file") entries.push(entry);
  });
  return entries;
}

/**
 * Unpack `archive` under `destDir`. Members whose path would leave destDir
 * (absolute paths or "..") are refused with an error.
 */
export async function extractTar(
  archive: string,
  destDir: string,
  log?: (line: string) => void,
): Promise<number> {
  let files = 0;
  const root = path.resolve(destDir);
  await readTar(archive, async (entry, body) => {
    const target = path.resolve(root, entry.path);
    if (target !== root && !target.startsWith(root + path.sep)) {
      throw new Error(
        `${archive}: member "${entry.path}" would be written outside ${destDir}; ` +
          "the archive is not a dataset release, do not unpack it",
      );
    }
    if (entry.type === "directory") {
      await fs.promises.mkdir(target, { recursive: true });
      return;
    }
    if (entry.type !== "file") return;
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await writeBody(target, body);
    files++;
  });
  log?.(`unpacked ${files} files from ${path.basename(archive)} into ${destDir}`);
  return files;
}

async function writeBody(target: string, body: AsyncIterable<Uint8Array>): Promise<void> {
  // write to a temporary name first so an interrupted unpack leaves no
  // complete-looking but truncated file behind
  const temp = `${target}.part-${process.pid}`;
  const handle = await fs.promises.open(temp, "w");
  try {
    for await (const chunk of body) await handle.write(chunk);
    await handle.close();
    await fs.promises.rename(temp, target);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
}

async function walkMembers(
  reader: ByteReader,
  archive: string,
  onEntry: TarEntryHandler,
): Promise<void> {
  let longName: string | undefined;
  let paxPath: string | undefined;

  for (;;) {
    const header = await reader.read(BLOCK);
    if (header === null) return; // some writers omit the two zero blocks
    if (header.length < BLOCK) throw truncated(archive);
    if (header.every((b) => b === 0)) return;
    checkHeaderSum(header, archive);

    // decode the header fields this project needs
    const size = parseNumber(header.subarray(124, 136));
    const flag = String.fromCharCode(header[156] ?? 0);
    const magic = ascii(header.subarray(257, 263));
    const prefix = magic.startsWith("ustar") ? ascii(header.subarray(345, 500)) : "";
    const shortName = ascii(header.subarray(0, 100));
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    // long-name records describe the member that follows them
    if (flag === "L" || flag === "x" || flag === "g") {
      const data = await reader.read(padded);
      if (data === null || data.length < padded) throw truncated(archive);
      const text = data.subarray(0, size).toString("utf8");
      if (flag === "L") longName = text.replace(/\0.*$/s, "");
      if (flag === "x") paxPath = parsePaxPath(text) ?? paxPath;
      continue;
    }

    const fullName =
      paxPath ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
    longName = undefined;
    paxPath = undefined;
    const entry: TarEntry = {
      path: fullName.replace(/^(\.\/)+/, "").replace(/\/+$/, ""),
      size,
      type:
        flag === "0" || flag === "\0" || flag === "7"
          ? "file"
          : flag === "5"
            ? "directory"
            : "other",
    };
    if (entry.type === "directory" || (entry.type === "other" && size === 0)) {
      await onEntry(entry, emptyBody());
      continue;
    }

    // hand the body to the callback, then skip whatever it did not read
    const body = reader.body(size, archive);
    await onEntry(entry, body);
    await body.drain();
    await reader.skip(padded - size, archive);
  }
}

function emptyBody(): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: async function* () {} };
}

function parsePaxPath(text: string): string | undefined {
  // records look like "<length> <key>=<value>\n"
  for (const line of text.split("\n")) {
    const match = /^\d+ path=(.*)$/s.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

function parseNumber(field: Buffer): number {
  // GNU base-256 for members of 8 GiB and more; octal otherwise
  if ((field[0] ?? 0) & 0x80) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = ascii(field).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function checkHeaderSum(header: Buffer, archive: string): void {
  const stored = parseNumber(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  if (sum !== stored) {
    throw new Error(
      `${archive} is not a valid tar archive (header checksum mismatch); ` +
        "the file is damaged or not a tar: download it again",
    );
  }
}

function ascii(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString("utf8");
}

function truncated(archive: string): Error {
  return new Error(
    `${archive} ends in the middle of a member: the archive is truncated; ` +
      "download it again (an interrupted download leaves such a file)",
  );
}

function wrapArchiveError(err: unknown, archive: string): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "Z_BUF_ERROR" || code === "Z_DATA_ERROR") {
    return new Error(
      `${archive} is not a complete gzip file (${error.message}); ` +
        "the archive is truncated or damaged: download it again",
    );
  }
  return error;
}

/** A pull reader over a stream of Buffers: exact-length reads and skips. */
class ByteReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Exactly n bytes, fewer at the end of the stream, null when nothing is left. */
  async read(n: number): Promise<Buffer | null> {
    while (this.pendingBytes < n && (await this.pull()));
    if (this.pendingBytes === 0) return null;
    return this.take(Math.min(n, this.pendingBytes));
  }

  /** Up to n bytes in whatever pieces are at hand (at least one byte). */
  async readSome(n: number): Promise<Buffer | null> {
    if (this.pendingBytes === 0 && !(await this.pull())) return null;
    const first = this.pending[0] as Buffer;
    return this.take(Math.min(n, first.length));
  }

  async skip(n: number, archive: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const piece = await this.readSome(left);
      if (piece === null) throw truncated(archive);
      left -= piece.length;
    }
  }

  /** The next `size` bytes as an async iterable that can be drained. */
  body(
    size: number,
    archive: string,
  ): AsyncIterable<Uint8Array> & { drain(): Promise<void> } {
    let left = size;
    const next = async (): Promise<Buffer | null> => {
      if (left === 0) return null;
      const piece = await this.readSome(left);
      if (piece === null) throw truncated(archive);
      left -= piece.length;
      return piece;
    };
    return {
      [Symbol.asyncIterator]: async function* () {
        for (let piece = await next(); piece !== null; piece = await next()) yield piece;
      },
      drain: async () => {
        while ((await next()) !== null);
      },
    };
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    const result = await this.source.next();
    if (result.done) {
      this.done = true;
      return false;
    }
    this.pending.push(result.value);
    this.pendingBytes += result.value.length;
    return true;
  }

  private take(n: number): Buffer {
    const first = this.pending[0] as Buffer;
    if (first.length >= n) {
      // the common case: the request fits in the first buffered chunk
      const out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      this.pendingBytes -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.pending[0] as Buffer;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.pending.shift();
      else this.pending[0] = chunk.subarray(used);
    }
    this.pendingBytes -= n;
    return out;
  }
}
