/**
 * CIFAR-10 in its official binary release: files of records made of one
 * label byte and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each
 * plane row-major 32x32). Read from the unpacked folder or straight from
 * cifar-10-binary.tar.gz.
 */
import fs from "node:fs";
import path from "node:path";
import { CIFAR10_CLASSES } from "./info.js";
import {
  checkArchiveMembers,
  checkReleaseSide,
  locateRelease,
  type BinaryRelease,
} from "./release.js";
import {
  ManifestHash,
  sha256Hex,
  stampFile,
  type DecodedImages,
  type OpenTarget,
  type SplitSource,
} from "./source.js";
import { readTar } from "./tar.js";

/** Folder name of the unpacked release. */
export const CIFAR_BINARY_DIR = "cifar-10-batches-bin";
/** File name of the official archive. */
export const CIFAR_BINARY_ARCHIVE = "cifar-10-binary.tar.gz";

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;
const RECORDS_PER_FILE = 10000;

const release: BinaryRelease = {
  title: "CIFAR-10",
  dataset: "cifar10",
  folder: CIFAR_BINARY_DIR,
  archive: CIFAR_BINARY_ARCHIVE,
  side: SIDE,
};

/** The batch files that make up a split of the binary release. */
export function cifarBatchFiles(split: string): string[] {
  if (split === "train") return [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
  if (split === "test") return ["test_batch.bin"];
  throw new Error(`CIFAR-10 has no split "${split}": use train or test`);
}

/**
 * Find the binary release of `split` in dataDir (unpacked folder, loose
 * files or the archive). Undefined when none of them is there.
 */
export async function findCifarBinary(
  dataDir: string,
  split: string,
): Promise<SplitSource | undefined> {
  const names = cifarBatchFiles(split);
  const found = locateRelease(release, dataDir, split, names);
  if (found === undefined) return undefined;
  return found.kind === "folder"
    ? folderSource(found.dir, names)
    : archiveSource(found.file, names);
}

async function folderSource(dir: string, names: string[]): Promise<SplitSource> {
  const stamps = await Promise.all(
    names.map((name) => stampFile(path.join(dir, name), name)),
  );
  return {
    format: "cifar10-binary",
    location: dir,
    stamps,
    decoder: "cifar10-binary",
    read: async (size, log, open) => {
      checkReleaseSide(release, size);
      const batches: Buffer[] = [];
      for (const name of names)
        batches.push(await fs.promises.readFile(path.join(dir, name)));
      return decodeBatches(
        names.map((name) => path.join(dir, name)),
        names,
        batches,
        log,
        open,
      );
    },
  };
}

async function archiveSource(archive: string, names: string[]): Promise<SplitSource> {
  return {
    format: "cifar10-binary-archive",
    location: archive,
    stamps: [await stampFile(archive, path.basename(archive))],
    decoder: "cifar10-binary",
    read: async (size, log, open) => {
      checkReleaseSide(release, size);
      log(`reading ${names.join(", ")} from ${archive}`);
      const batches = new Map<string, Buffer>();

      // keep only the members of this split, each a 30 MB buffer
      await readTar(archive, async (entry, body) => {
        const name = path.posix.basename(entry.path);
        if (entry.type !== "file" || !names.includes(name)) return;
        const bytes = Buffer.allocUnsafe(entry.size);
        let filled = 0;
        for await (const chunk of body) {
          bytes.set(chunk, filled);
          filled += chunk.length;
        }
        batches.set(name, bytes);
      });

      checkArchiveMembers(release, archive, names, (name) => batches.has(name));
      const files = names.map((name) => `${archive}:${name}`);
      return decodeBatches(
        files,
        names,
        names.map((n) => batches.get(n) as Buffer),
        log,
        open,
      );
    },
  };
}

/**
 * Turn batch files into HWC images put into the target opened with `open`,
 * checking record length and labels.
 */
export function decodeBatches(
  files: readonly string[],
  names: readonly string[],
  batches: readonly Uint8Array[],
  log: (line: string) => void,
  open: OpenTarget,
): DecodedImages {
  // validate every file before allocating the output
  let count = 0;
  batches.forEach((bytes, i) => {
    const file = files[i] as string;
    if (bytes.length === 0 || bytes.length % RECORD !== 0) {
      throw new Error(
        `${file} has ${bytes.length} bytes, not a whole number of ${RECORD}-byte ` +
          "CIFAR-10 records: the file is truncated or not CIFAR-10 binary; " +
          "download and unpack it again (make data DATASET=cifar10)",
      );
    }
    const records = bytes.length / RECORD;
    if (records !== RECORDS_PER_FILE) {
      log(`warning: ${file} holds ${records} records, the official files hold 10000`);
    }
    count += records;
  });

  // planar RGB records become interleaved HWC pixels, one image at a time
  const target = open(count, SIDE, SIDE);
  const pixels = new Uint8Array(3 * PLANE); // [32, 32, 3]
  const labels = new Int32Array(count);
  const manifest = new ManifestHash();
  let image = 0;
  batches.forEach((bytes, i) => {
    const file = files[i] as string;
    manifest.add(names[i] as string, bytes.length, sha256Hex(bytes));
    for (let offset = 0; offset < bytes.length; offset += RECORD, image++) {
      const label = bytes[offset] as number;
      if (label >= CIFAR10_CLASSES.length) {
        throw new Error(
          `${file}: record ${offset / RECORD} has label ${label}, outside 0..9; ` +
            "the file is damaged or not CIFAR-10: download it again",
        );
      }
      labels[image] = label;
      for (let p = 0; p < PLANE; p++) {
        pixels[3 * p] = bytes[offset + 1 + p] as number;
        pixels[3 * p + 1] = bytes[offset + 1 + PLANE + p] as number;
        pixels[3 * p + 2] = bytes[offset + 1 + 2 * PLANE + p] as number;
      }
      target.put(image, pixels);
    }
  });
  return {
    count,
    height: SIDE,
    width: SIDE,
    labels,
    checksum: manifest.digest(),
  };
}
