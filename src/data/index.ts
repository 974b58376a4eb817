/**
 * Datasets: their facts (datasetInfo) and their decoded images (loadSplit).
 *
 * loadSplit finds which release format is in the data folder, decodes the
 * split once into the cache and reads the cache on later calls.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readCache, writeCache, type CacheKey } from "./cache.js";
import {
  CIFAR_BINARY_ARCHIVE,
  CIFAR_BINARY_DIR,
  findCifarBinary,
} from "./cifar-binary.js";
import { findImageFolder, type FolderRules } from "./image-folder.js";
import {
  CIFAR10_CLASSES,
  DATASET_NAMES,
  datasetInfo,
  datasetSplits,
  imagenet100Classes,
} from "./info.js";
import { sourceFingerprint, type DecodedImages, type SplitSource } from "./source.js";
import {
  DEFAULT_RESIDENT_LIMIT,
  MAX_RESIDENT_LIMIT,
  SplitOutput,
  type FinishedPixels,
} from "./split-output.js";
import { STL10_ARCHIVE, STL10_BINARY_DIR, findStl10Binary } from "./stl10-binary.js";
import type { DatasetName, ImageSplit } from "./types.js";

export type { DatasetInfo, DatasetName, ImageSplit } from "./types.js";
export {
  PagedPixels,
  ResidentPixels,
  residentSplit,
  type ImageBytes,
  type PixelStore,
} from "./pixels.js";
export { DEFAULT_RESIDENT_LIMIT } from "./split-output.js";
export {
  CIFAR10_CLASSES,
  DATASET_NAMES,
  IMAGENET_PAPER_SIZE,
  STL10_CLASSES,
  datasetInfo,
  datasetSplits,
  imagenet100Classes,
  type DatasetInfoOptions,
} from "./info.js";

/** Options of loadSplit. */
export interface LoadSplitOptions {
  dataset: DatasetName;
  /** Folder holding the release (see data/README.md for the accepted layouts). */
  dataDir: string;
  /** "train" | "test" (CIFAR-10, STL-10) | "unlabeled" (STL-10) | "val" (ImageNet-100). */
  split: string;
  /** Image side; fixed at 32 (CIFAR-10) and 96 (STL-10); ImageNet-100 default 224. */
  size?: number;
  /** Where decoded splits are cached (default data/cache in the project). */
  cacheDir?: string;
  /**
   * Largest split, in pixel bytes, held in memory (default 2 GiB, at most
   * 4 GiB). A larger one is decoded straight into its cache file and paged
   * from there: ImageNet-100 train at 224 px needs about 19 GB of cache disk.
   */
  residentLimit?: number;
  log?: (line: string) => void;
}

/** Default folder of a dataset's files: data/<dataset>/ in the project. */
export function defaultDataDir(dataset: DatasetName): string {
  return path.join(projectDataDir(), dataset);
}

/** Default folder of the decoded-split cache: data/cache/ in the project. */
export function defaultCacheDir(): string {
  return path.join(projectDataDir(), "cache");
}

/**
 * Decoded images and labels of one split, from the cache when the source
 * files are unchanged, otherwise decoded from dataDir and cached.
 */
export async function loadSplit(options: LoadSplitOptions): Promise<ImageSplit> {
  const { dataset, dataDir, split } = options;
  const log = options.log ?? (() => undefined);
  checkRequest(dataset, split);
  const size = imageSize(dataset, options.size);
  const source = await findSource(dataset, dataDir, split);
  const info = datasetInfo(dataset);

  // the cache entry is keyed by where the files are and how they look
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const key: CacheKey = {
    dataset,
    split,
    size,
    location: source.location,
    fingerprint: sourceFingerprint(source, size),
  };
  const residentLimit = checkResidentLimit(options.residentLimit);
  const cached = await readCache(cacheDir, key, residentLimit);
  if (cached instanceof Error) log(`warning: ignoring damaged cache: ${cached.message}`);
  if (cached !== undefined && !(cached instanceof Error)) {
    const how = cached.pixels.resident ? "" : " (paged from disk)";
    log(`${dataset}/${split}: ${cached.count} images from the cache in ${cacheDir}${how}`);
    return cached;
  }

  // decode from the source files into memory or, for a large split, the cache file
  log(`${dataset}/${split}: decoding ${source.format} from ${source.location}`);
  const started = Date.now();
  const output = new SplitOutput({
    dataset,
    split,
    classes: info.classes,
    cacheDir,
    key,
    residentLimit,
  });
  let finished: FinishedPixels;
  let decoded: DecodedImages;
  try {
    decoded = await source.read(size, log, output.open);
    checkClassCounts(dataset, split, decoded.labels, info.classes, source.location, log);
    const { count, height, width, labels, checksum } = decoded;
    finished = await output.finish(count, height, width, labels, checksum);
  } catch (err) {
    output.abort();
    throw err;
  }
  const result: ImageSplit = {
    dataset,
    split,
    count: decoded.count,
    height: decoded.height,
    width: decoded.width,
    pixels: finished.pixels,
    labels: decoded.labels,
    classes: info.classes,
    checksum: decoded.checksum,
  };
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`${dataset}/${split}: decoded ${result.count} images in ${seconds} s`);
  if (finished.cachedFile !== undefined) {
    log(`${dataset}/${split}: streamed to ${finished.cachedFile}, paged from disk`);
    return result;
  }
  try {
    const file = await writeCache(cacheDir, key, result);
    log(`${dataset}/${split}: cached in ${file}`);
  } catch (err) {
    // a failed cache only costs the next run a decode
    const reason = err instanceof Error ? err.message : String(err);
    log(
      `warning: could not write the cache in ${cacheDir} (${reason}); continuing without it`,
    );
  }
  return result;
}

function checkResidentLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_RESIDENT_LIMIT;
  if (!(limit >= 0 && limit <= MAX_RESIDENT_LIMIT)) {
    throw new Error(
      `residentLimit ${limit} is not a byte count in [0, ${MAX_RESIDENT_LIMIT}] ` +
        "(Node holds at most 4 GiB in one array); pass a smaller limit",
    );
  }
  return limit;
}

/** Official image counts per class, to catch incomplete or mixed-up files. */
const OFFICIAL_PER_CLASS: Partial<Record<string, number>> = {
  "cifar10/train": 5000,
  "cifar10/test": 1000,
  "stl10/train": 500,
  "stl10/test": 800,
};

function checkClassCounts(
  dataset: DatasetName,
  split: string,
  labels: Int32Array,
  classes: readonly string[],
  location: string,
  log: (line: string) => void,
): void {
  const perClass = OFFICIAL_PER_CLASS[`${dataset}/${split}`];
  if (perClass === undefined) return;
  const counts = new Array<number>(classes.length).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  const official = perClass * classes.length;

  // a full-sized split must be balanced exactly; a smaller one is a warning
  if (labels.length !== official) {
    log(
      `warning: ${location} holds ${labels.length} ${split} images, ` +
        `the official ${dataset} ${split} split has ${official}`,
    );
    return;
  }
  const wrong = classes.filter((_, c) => counts[c] !== perClass);
  if (wrong.length > 0) {
    const detail = wrong
      .map((name) => `${name}: ${counts[classes.indexOf(name)]}`)
      .join(", ");
    throw new Error(
      `${location}: expected ${perClass} ${split} images per class, found ${detail}; ` +
        "images are mislabelled or duplicated: fetch the dataset again",
    );
  }
}

function checkRequest(dataset: DatasetName, split: string): void {
  if (!DATASET_NAMES.includes(dataset)) {
    throw new Error(
      `unknown dataset "${dataset}": use one of ${DATASET_NAMES.join(", ")}`,
    );
  }
  const splits = datasetSplits(dataset);
  if (!splits.includes(split)) {
    throw new Error(
      `${dataset} has no split "${split}": use one of ${splits.join(", ")}`,
    );
  }
}

function imageSize(dataset: DatasetName, size: number | undefined): number {
  if (dataset === "imagenet100")
    return datasetInfo(dataset, { imagenetSize: size }).evalSize;
  const native = dataset === "cifar10" ? 32 : 96;
  if (size !== undefined && size !== native) {
    throw new Error(
      `${dataset} images are ${native}x${native}; size ${size} is not available ` +
        "(resize in the augmentation instead)",
    );
  }
  return native;
}

/**
 * Where and in which format `split` of `dataset` is found in dataDir, without
 * decoding anything; throws the same error loadSplit would when it is absent.
 */
export async function findSplitSource(
  dataset: DatasetName,
  dataDir: string,
  split: string,
): Promise<{ format: string; location: string; files: number }> {
  checkRequest(dataset, split);
  const source = await findSource(dataset, dataDir, split);
  return {
    format: source.format,
    location: source.location,
    files: source.stamps.length,
  };
}

/** The first format found in dataDir for this dataset and split. */
async function findSource(
  dataset: DatasetName,
  dataDir: string,
  split: string,
): Promise<SplitSource> {
  let source: SplitSource | undefined;
  let looked: string[];
  if (dataset === "cifar10") {
    source =
      (await findCifarBinary(dataDir, split)) ??
      (await findImageFolder(dataDir, split, CIFAR_FOLDER_RULES));
    looked = [
      `${CIFAR_BINARY_DIR}/`,
      CIFAR_BINARY_ARCHIVE,
      `${split}/<class>/*.jpg`,
      `${split}.tar.gz`,
    ];
  } else if (dataset === "stl10") {
    source = await findStl10Binary(dataDir, split);
    looked = [`${STL10_BINARY_DIR}/`, STL10_ARCHIVE];
  } else {
    source = await findImageFolder(dataDir, split, imagenetRules());
    looked = [`${split}/<wnid>/*.JPEG`];
  }
  if (source) return source;
  throw new Error(
    `no ${dataset} ${split} data in ${dataDir} (looked for ${looked.join(", ")}); ` +
      `run \`make data DATASET=${dataset}\` or point the data folder at the files`,
  );
}

const CIFAR_FOLDER_RULES: FolderRules = {
  title: "CIFAR-10",
  classes: CIFAR10_CLASSES,
  strictFolders: true,
  decoder: "jpeg-js",
  fixHint: "the tree is incomplete: extract it again or run `make data DATASET=cifar10`",
};

function imagenetRules(): FolderRules {
  return {
    title: "ImageNet-100",
    classes: imagenet100Classes(),
    strictFolders: false,
    decoder: "sharp",
    fixHint:
      "point the data folder at a complete ImageNet-1k train/val tree " +
      "(make data DATASET=imagenet100 FROM=/path/to/imagenet)",
  };
}

function projectDataDir(): string {
  // this file lives in src/data/ (or dist/data/ once built)
  return path.resolve(fileURLToPath(new URL("../../data", import.meta.url)));
}
