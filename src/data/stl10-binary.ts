/**
 * STL-10 in its official binary release (stl10_binary/): train_X.bin,
 * train_y.bin, test_X.bin, test_y.bin, unlabeled_X.bin. Each image is
 * 96x96x3 stored channel by channel, and each channel column-major (the
 * layout MATLAB writes), so byte c*9216 + x*96 + y is row y, column x.
 * Labels are bytes 1..10. Read from the folder or from stl10_binary.tar.gz.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { STL10_CLASSES } from "./info.js";
import {
  checkArchiveMembers,
  checkReleaseSide,
  locateRelease,
  type BinaryRelease,
} from "./release.js";
import {
  ManifestHash,
  stampFile,
  type DecodedImages,
  type ImageTarget,
  type OpenTarget,
  type SplitSource,
} from "./source.js";
import { readTar } from "./tar.js";

/** Folder name of the unpacked release. */
export const STL10_BINARY_DIR = "stl10_binary";
/** File name of the official archive. */
export const STL10_ARCHIVE = "stl10_binary.tar.gz";

const SIDE = 96;
const PLANE = SIDE * SIDE;
const RECORD = 3 * PLANE;

const release: BinaryRelease = {
  title: "STL-10",
  dataset: "stl10",
  folder: STL10_BINARY_DIR,
  archive: STL10_ARCHIVE,
  side: SIDE,
};

/** The X (and, for labelled splits, y) file names of a split. */
export function stl10Files(split: string): { x: string; y?: string } {
  if (split === "train" || split === "test")
    return { x: `${split}_X.bin`, y: `${split}_y.bin` };
  if (split === "unlabeled") return { x: "unlabeled_X.bin" };
  throw new Error(`STL-10 has no split "${split}": use train, test or unlabeled`);
}

/** Find `split` of the binary release in dataDir; undefined when absent. */
export async function findStl10Binary(
  dataDir: string,
  split: string,
): Promise<SplitSource | undefined> {
  const files = stl10Files(split);
  const names = files.y ? [files.x, files.y] : [files.x];
  const found = locateRelease(release, dataDir, split, names);
  if (found === undefined) return undefined;
  return found.kind === "folder"
    ? folderSource(found.dir, names)
    : archiveSource(found.file, names);
}

async function folderSource(dir: string, names: string[]): Promise<SplitSource> {
  const stamps = await Promise.all(names.map((n) => stampFile(path.join(dir, n), n)));
  return {
    format: "stl10-binary",
    location: dir,
    stamps,
    decoder: "stl10-binary",
    read: async (size, _log, open) => {
      checkReleaseSide(release, size);
      const reader = new Stl10Reader(names, (name) => path.join(dir, name), open);
      for (const name of names) {
        const file = path.join(dir, name);
        const stat = await fs.promises.stat(file);
        reader.begin(name, stat.size);
        for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 22 })) {
          reader.push(name, chunk as Buffer);
        }
        reader.end(name);
      }
      return reader.finish();
    },
  };
}

async function archiveSource(archive: string, names: string[]): Promise<SplitSource> {
  return {
    format: "stl10-binary-archive",
    location: archive,
    stamps: [await stampFile(archive, path.basename(archive))],
    decoder: "stl10-binary",
    read: async (size, log, open) => {
      checkReleaseSide(release, size);
      log(`reading ${names.join(", ")} from ${archive}`);
      const reader = new Stl10Reader(names, (name) => `${archive}:${name}`, open);

      // members are decoded while the archive streams past
      await readTar(archive, async (entry, body) => {
        const name = path.posix.basename(entry.path);
        if (entry.type !== "file" || !names.includes(name)) return;
        reader.begin(name, entry.size);
        for await (const chunk of body) reader.push(name, chunk);
        reader.end(name);
      });
      checkArchiveMembers(release, archive, names, (name) => reader.has(name));
      return reader.finish();
    },
  };
}

/**
 * Receives the X and y files chunk by chunk, in either order, and turns
 * column-major planar records into row-major HWC images for the target.
 */
class Stl10Reader {
  private target: ImageTarget | undefined;
  private readonly pixels = new Uint8Array(RECORD); // one image, [96, 96, 3]
  private labels: Int32Array | undefined;
  private count = -1;
  private readonly digests = new Map<string, { size: number; hex: string }>();
  private current:
    | { name: string; hash: crypto.Hash; filled: number; size: number }
    | undefined;
  private record = new Uint8Array(RECORD);
  private recordFill = 0;
  private image = 0;
  private rawLabels: Uint8Array | undefined;

  constructor(
    private readonly names: readonly string[],
    private readonly displayName: (name: string) => string,
    private readonly open: OpenTarget,
  ) {}

  has(name: string): boolean {
    return this.digests.has(name);
  }

  begin(name: string, size: number): void {
    const file = this.displayName(name);
    if (name.endsWith("_X.bin")) {
      if (size === 0 || size % RECORD !== 0) {
        throw new Error(
          `${file} has ${size} bytes, not a whole number of ${RECORD}-byte STL-10 ` +
            "images: the file is truncated or not STL-10; download it again " +
            "(make data DATASET=stl10)",
        );
      }
      const count = size / RECORD;
      this.setCount(count, file);
      this.target = this.open(count, SIDE, SIDE);
      this.image = 0;
      this.recordFill = 0;
    } else {
      this.setCount(size, file);
      this.rawLabels = new Uint8Array(size);
    }
    this.current = { name, hash: crypto.createHash("sha256"), filled: 0, size };
  }

  push(name: string, chunk: Uint8Array): void {
    const current = this.current as NonNullable<Stl10Reader["current"]>;
    current.hash.update(chunk);
    if (name.endsWith("_X.bin")) this.pushPixels(chunk);
    else (this.rawLabels as Uint8Array).set(chunk, current.filled);
    current.filled += chunk.length;
  }

  end(name: string): void {
    const current = this.current as NonNullable<Stl10Reader["current"]>;
    if (current.filled !== current.size) {
      throw new Error(
        `${this.displayName(name)} ended after ${current.filled} of ${current.size} ` +
          "bytes: the file is truncated; download it again (make data DATASET=stl10)",
      );
    }
    this.digests.set(name, { size: current.size, hex: current.hash.digest("hex") });
    this.current = undefined;
  }

  finish(): DecodedImages {
    const count = this.count;
    const labels = new Int32Array(count).fill(-1);

    // labels 1..10 of the release become 0..9; unlabeled images get -1
    if (this.rawLabels) {
      const file = this.displayName(this.names[1] as string);
      this.rawLabels.forEach((raw, i) => {
        if (raw < 1 || raw > STL10_CLASSES.length) {
          throw new Error(
            `${file}: label ${raw} of image ${i} is outside 1..10; the file is ` +
              "damaged or not STL-10: download it again",
          );
        }
        labels[i] = raw - 1;
      });
    }
    const manifest = new ManifestHash();
    for (const name of this.names) {
      const digest = this.digests.get(name) as { size: number; hex: string };
      manifest.add(name, digest.size, digest.hex);
    }
    return {
      count,
      height: SIDE,
      width: SIDE,
      labels,
      checksum: manifest.digest(),
    };
  }

  private setCount(count: number, file: string): void {
    if (this.count !== -1 && this.count !== count) {
      throw new Error(
        `${file} describes ${count} images but its partner file ${this.count}; ` +
          "one of the two is truncated: download STL-10 again",
      );
    }
    this.count = count;
  }

  private pushPixels(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const used = Math.min(RECORD - this.recordFill, chunk.length - offset);
      this.record.set(chunk.subarray(offset, offset + used), this.recordFill);
      this.recordFill += used;
      offset += used;
      if (this.recordFill === RECORD) {
        this.transposeRecord();
        this.recordFill = 0;
        this.image++;
      }
    }
  }

  private transposeRecord(): void {
    // source: [3, 96 (x), 96 (y)]; target: [96 (y), 96 (x), 3]
    const pixels = this.pixels;
    const record = this.record;
    for (let c = 0; c < 3; c++) {
      const plane = c * PLANE;
      for (let x = 0; x < SIDE; x++) {
        const column = plane + x * SIDE;
        for (let y = 0; y < SIDE; y++) {
          pixels[(y * SIDE + x) * 3 + c] = record[column + y] as number;
        }
      }
    }
    (this.target as ImageTarget).put(this.image, pixels);
  }
}
