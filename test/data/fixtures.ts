/**
 * Small dataset files written in the exact release formats, and the loading
 * and comparison helpers the dataset tests share.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import jpeg from "jpeg-js";
import sharp from "sharp";
import { loadSplit, type LoadSplitOptions } from "../../src/data/index.js";
import type { DatasetName, ImageSplit } from "../../src/data/types.js";

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = "dcl-data-"): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Pixel value used by CIFAR fixtures: depends on image, channel, row and column. */
export function cifarValue(image: number, c: number, y: number, x: number): number {
  return (image * 31 + c * 80 + y * 5 + x * 3) & 255;
}

/** CIFAR-10 binary records (label byte + planar R, G, B) for the given labels. */
export function cifarRecords(labels: readonly number[], firstImage = 0): Buffer {
  const record = 1 + 3072;
  const out = Buffer.alloc(labels.length * record);
  labels.forEach((label, i) => {
    const base = i * record;
    out[base] = label;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          out[base + 1 + c * 1024 + y * 32 + x] = cifarValue(firstImage + i, c, y, x);
        }
      }
    }
  });
  return out;
}

/** Pixel value used by STL-10 fixtures; not symmetric in x and y on purpose. */
export function stlValue(image: number, c: number, y: number, x: number): number {
  return (image * 13 + c * 70 + y * 2 + x * 5) & 255;
}

/** STL-10 X file bytes: per image, per channel, column-major 96x96. */
export function stlImages(count: number): Buffer {
  const side = 96;
  const out = Buffer.alloc(count * 3 * side * side);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < side; x++) {
        for (let y = 0; y < side; y++) {
          out[i * 3 * side * side + c * side * side + x * side + y] = stlValue(
            i,
            c,
            y,
            x,
          );
        }
      }
    }
  }
  return out;
}

const jpegMemo = new Map<string, Buffer>();

/** A baseline RGB JPEG (jpeg-js, quality 100) of one colour. */
export function solidJpeg(size: number, rgb: readonly [number, number, number]): Buffer {
  // each jpeg-js encoder builds its tables from scratch (tens of ms), so reuse
  const key = `${size}:${rgb.join(",")}`;
  const known = jpegMemo.get(key);
  if (known) return known;
  const data = Buffer.alloc(size * size * 4);
  for (let p = 0; p < size * size; p++) {
    data[4 * p] = rgb[0];
    data[4 * p + 1] = rgb[1];
    data[4 * p + 2] = rgb[2];
    data[4 * p + 3] = 255;
  }
  const encoded = Buffer.from(jpeg.encode({ data, width: size, height: size }, 100).data);
  jpegMemo.set(key, encoded);
  return encoded;
}

/** A one-component (grayscale) JPEG of one grey level. */
export async function grayJpeg(
  width: number,
  height: number,
  level: number,
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height, level);
  return sharp(raw, { raw: { width, height, channels: 1 } })
    .toColourspace("b-w")
    .jpeg({ quality: 100 })
    .toBuffer();
}

/** A four-component (CMYK) JPEG of one colour given as RGB. */
export async function cmykJpeg(
  size: number,
  rgb: readonly [number, number, number],
): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  for (let p = 0; p < size * size; p++) raw.set(rgb, 3 * p);
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .toColourspace("cmyk")
    .jpeg({ quality: 100 })
    .toBuffer();
}

/** Number of colour components declared in a JPEG's frame header. */
export function jpegComponents(bytes: Buffer): number {
  for (let i = 2; i < bytes.length - 9; ) {
    const marker = bytes[i + 1] as number;
    const length = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc2) return bytes[i + 9] as number;
    i += 2 + length;
  }
  return -1;
}

/** One member of a tar fixture: a file, or a folder when data is undefined. */
export interface TarMember {
  name: string;
  data?: Uint8Array;
}

/** Bytes of a ustar archive; names over 99 characters use GNU long-name records. */
export function tarBytes(members: readonly TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  const header = (name: string, size: number, flag: string): Buffer => {
    const h = Buffer.alloc(512);
    h.write(name.slice(0, 99), 0, "utf8");
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(size.toString(8).padStart(11, "0") + "\0", 124);
    h.write("00000000000\0", 136);
    h.write("        ", 148);
    h.write(flag, 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    return h;
  };
  const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
  for (const member of members) {
    if (Buffer.byteLength(member.name) > 99) {
      const long = Buffer.from(member.name + "\0");
      blocks.push(header("././@LongLink", long.length, "L"), long, pad(long.length));
    }
    if (member.data === undefined) {
      blocks.push(header(member.name.replace(/\/?$/, "/"), 0, "5"));
    } else {
      blocks.push(header(member.name, member.data.length, "0"), Buffer.from(member.data));
      blocks.push(pad(member.data.length));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Write a gzip-compressed tar of `members` to `file`. */
export function writeTarGz(file: string, members: readonly TarMember[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(tarBytes(members)));
}

/** Write `bytes` to `file`, creating its folder. */
export function writeFile(file: string, bytes: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
}

/** Collects log lines for assertions. */
export function logSink(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

/** Loads one split of a folder; extra options override the defaults. */
export type SplitLoader = (
  dataDir: string,
  split: string,
  extra?: Partial<LoadSplitOptions>,
) => Promise<ImageSplit>;

/** A loader of `dataset` splits that caches decoded splits in `cacheDir`. */
export function splitLoader(dataset: DatasetName, cacheDir: string): SplitLoader {
  return (dataDir, split, extra = {}) =>
    loadSplit({ dataset, dataDir, split, cacheDir, ...extra });
}

/** Every pixel byte of a split, copied out image by image (resident or paged). */
export function splitBytes(split: ImageSplit): Uint8Array {
  const { count, imageBytes } = split.pixels;
  const out = new Uint8Array(count * imageBytes); // [count, height, width, 3]
  for (let i = 0; i < count; i++) {
    const { bytes, offset } = split.pixels.image(i);
    out.set(bytes.subarray(offset, offset + imageBytes), i * imageBytes);
  }
  return out;
}

/** Asserts that two copies of one split decoded to equal labels, pixels and checksum. */
export function assertSameSplit(actual: ImageSplit, expected: ImageSplit): void {
  assert.deepEqual(actual.labels, expected.labels);
  assert.deepEqual(splitBytes(actual), splitBytes(expected));
  assert.equal(actual.checksum, expected.checksum);
}

/** Writes one `name` image into every class folder of `split` under `dir`. */
export function writeClassTree(
  dir: string,
  split: string,
  classes: readonly string[],
  name: string,
  image: Uint8Array,
): void {
  for (const label of classes) writeFile(path.join(dir, split, label, name), image);
}
