/**
 * Getting a dataset into its data folder: download (CIFAR-10, STL-10),
 * unpack a local archive, link a local folder, or build the ImageNet-100
 * subset of a local ImageNet-1k tree. Decoding happens later, on the first
 * loadSplit, which caches the result.
 */
import fs from "node:fs";
import path from "node:path";
import {
  CIFAR_BINARY_ARCHIVE,
  CIFAR_BINARY_DIR,
  cifarBatchFiles,
} from "./cifar-binary.js";
import { downloadFile, formatBytes, md5File } from "./download.js";
import { datasetSplits, imagenet100Classes } from "./info.js";
import { defaultDataDir, findSplitSource } from "./index.js";
import { isDirectory, isFile } from "./source.js";
import { STL10_ARCHIVE, STL10_BINARY_DIR, stl10Files } from "./stl10-binary.js";
import { extractTar, isTarName } from "./tar.js";
import type { DatasetName } from "./types.js";

/** Options of prepareDataset. */
export interface PrepareOptions {
  dataset: DatasetName;
  /** Destination folder (default data/<dataset>/ in the project). */
  dataDir?: string;
  /** A local archive to unpack or a local folder to use instead of downloading. */
  from?: string;
  log?: (line: string) => void;
  /** Another place to download the official archive from (a mirror). */
  download?: { url: string; md5: string };
}

/** An official release archive: where it lives and what it must hash to. */
export interface ReleaseArchive {
  file: string;
  url: string;
  md5: string;
  /** Folder the archive unpacks to. */
  folder: string;
}

/** The official archives of the datasets that can be downloaded. */
export const RELEASES: Readonly<Partial<Record<DatasetName, ReleaseArchive>>> = {
  cifar10: {
    file: CIFAR_BINARY_ARCHIVE,
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    md5: "c32a1d4ab5d03f1284b67883e8d87530",
    folder: CIFAR_BINARY_DIR,
  },
  stl10: {
    file: STL10_ARCHIVE,
    url: "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
    md5: "91f7769df0f17e558f3565bffb0c7dfb",
    folder: STL10_BINARY_DIR,
  },
};

/**
 * Put `dataset` into its data folder so that loadSplit finds every split.
 * Throws an Error that says what to fetch and where to put it when that
 * cannot be done here (no network, no local copy).
 */
export async function prepareDataset(options: PrepareOptions): Promise<void> {
  const { dataset } = options;
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir(dataset));
  if (dataset === "imagenet100") {
    await prepareImagenet100(dataDir, options.from, log);
    return;
  }
  const release = RELEASES[dataset];
  if (!release) throw new Error(`unknown dataset "${dataset}"`);

  // a failure leaves no empty folder behind that this call made (a partial
  // download stays, so that the next try resumes it)
  const created = await fs.promises.mkdir(dataDir, { recursive: true });
  try {
    await prepareRelease(dataset, release, dataDir, options, log);
  } catch (err) {
    if (created !== undefined) await removeEmptyFolders(dataDir, created);
    throw err;
  }
}

/** Removes `dir` and its parents up to `top` while they are empty. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  for (let folder = dir; ; folder = path.dirname(folder)) {
    if ((await fs.promises.readdir(folder)).length > 0) return;
    await fs.promises.rmdir(folder);
    if (folder === path.resolve(top)) return;
  }
}

/** CIFAR-10 or STL-10 into `dataDir`: a local copy, the folder as it is, or a download. */
async function prepareRelease(
  dataset: DatasetName, release: ReleaseArchive, dataDir: string, options: PrepareOptions,
  log: (line: string) => void,
): Promise<void> {
  // a local copy given by the user
  if (options.from !== undefined) {
    await useLocalCopy(dataset, release, dataDir, path.resolve(options.from), log);
    return;
  }

  // nothing to do when the unpacked release is complete
  const problems = releaseProblems(dataset, dataDir);
  if (problems.length === 0) {
    log(`${dataset}: already prepared in ${dataDir}`);
    return;
  }
  const missing = problems.filter((p) => p.endsWith(" is missing")).length;
  if (missing < problems.length) {
    // part of a release is there: say so before fetching the whole of it
    log(`${dataset}: ${dataDir} holds an incomplete release (${problems[0]}` +
      `${problems.length > 1 ? `, and ${problems.length - 1} more` : ""}); ` +
      "fetching the official archive (a subset you made yourself loads as it is: " +
      "there is no need to run make data for it)");
  }

  // the archive may have been put there by hand; otherwise download it
  const archive = path.join(dataDir, release.file);
  if (!isFile(archive)) {
    const source = options.download ?? { url: release.url, md5: release.md5 };
    log(`${dataset}: downloading ${source.url}`);
    try {
      await downloadFile({ url: source.url, md5: source.md5, dest: archive, log });
    } catch (err) {
      throw new Error(manualInstructions(dataset, release, dataDir, err));
    }
  } else {
    await verifyMd5(archive, options.download?.md5 ?? release.md5, repackedHint(archive));
  }
  await unpack(archive, dataDir, log);
  if (finishCheck(dataset, dataDir, log)) {
    // the unpacked folder is what loadSplit reads; the archive is now redundant
    await fs.promises.rm(archive);
    log(`removed ${archive} after unpacking it`);
  }
}

/** What is missing or the wrong size in an unpacked release; empty when complete. */
export function releaseProblems(dataset: DatasetName, dataDir: string): string[] {
  const problems: string[] = [];
  const expect = (file: string, bytes: number): void => {
    if (!isFile(file)) problems.push(`${file} is missing`);
    else if (fs.statSync(file).size !== bytes) {
      problems.push(`${file} has ${fs.statSync(file).size} bytes, expected ${bytes}`);
    }
  };
  if (dataset === "cifar10") {
    const dir = path.join(dataDir, CIFAR_BINARY_DIR);
    for (const split of datasetSplits(dataset)) {
      for (const name of cifarBatchFiles(split))
        expect(path.join(dir, name), 10000 * 3073);
    }
  } else if (dataset === "stl10") {
    const dir = path.join(dataDir, STL10_BINARY_DIR);
    const counts: Record<string, number> = { train: 5000, test: 8000, unlabeled: 100000 };
    for (const split of datasetSplits(dataset)) {
      const files = stl10Files(split);
      const count = counts[split] as number;
      expect(path.join(dir, files.x), count * 96 * 96 * 3);
      if (files.y) expect(path.join(dir, files.y), count);
    }
  }
  return problems;
}

async function useLocalCopy(
  dataset: DatasetName,
  release: ReleaseArchive,
  dataDir: string,
  from: string,
  log: (line: string) => void,
): Promise<void> {
  if (isDirectory(from)) {
    // a folder is linked, not copied: its top-level entries appear in dataDir
    await linkEntries(from, dataDir, log);
    for (const split of datasetSplits(dataset)) {
      const found = await findSplitSource(dataset, dataDir, split);
      log(`${dataset}/${split}: ${found.format} at ${found.location}`);
    }
    log(`${dataset}: ready in ${dataDir} (decoded on first load, then cached)`);
    return;
  }
  if (!isFile(from)) {
    throw new Error(`--from ${from} does not exist: give a local archive or folder`);
  }
  if (!isTarName(from)) {
    throw new Error(`--from ${from} is not a .tar.gz, .tgz or .tar archive or a folder`);
  }

  // the official archive is checked; any other archive is taken as it is
  if (path.basename(from) === release.file) await verifyMd5(from, release.md5, repackedHint(from));
  else
    log(
      `${dataset}: ${path.basename(from)} is not ${release.file}; unpacking it unchecked`,
    );
  await unpack(from, dataDir, log);
  finishCheck(dataset, dataDir, log);

  // an archive of another dataset leaves nothing readable: fail, not warn
  for (const split of datasetSplits(dataset)) await findSplitSource(dataset, dataDir, split);
}

/**
 * Check an archive that carries the official file name against the published
 * md5; `hint` says what to do when it is not a download at all.
 */
async function verifyMd5(file: string, expected: string, hint: string): Promise<void> {
  const actual = await md5File(file);
  if (actual !== expected) {
    throw new Error(
      `${file} has md5 ${actual}, expected ${expected} (the official release). ` +
        `If it is a download, it is damaged or incomplete: delete it and download ` +
        `it again. ${hint}`,
    );
  }
}

/** How to use an archive that was packed by hand instead of downloaded. */
function repackedHint(archive: string): string {
  return (
    `If you packed ${path.basename(archive)} yourself (a subset, say), only the ` +
    "official name is checked: give it under another name with " +
    "FROM=/path/to/other-name.tar.gz (--from in the CLI), or unpack it and give " +
    "the folder with FROM=."
  );
}

/** Unpack into a scratch folder first, then move the result into place. */
async function unpack(
  archive: string,
  dataDir: string,
  log: (line: string) => void,
): Promise<void> {
  const scratch = path.join(dataDir, `.unpack-${process.pid}`);
  await fs.promises.rm(scratch, { recursive: true, force: true });
  log(`unpacking ${archive} (${formatBytes(fs.statSync(archive).size)})`);
  try {
    await extractTar(archive, scratch, log);
    for (const name of await fs.promises.readdir(scratch)) {
      const target = path.join(dataDir, name);
      await fs.promises.rm(target, { recursive: true, force: true });
      await fs.promises.rename(path.join(scratch, name), target);
    }
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
}

async function linkEntries(
  from: string,
  dataDir: string,
  log: (line: string) => void,
): Promise<void> {
  for (const name of await fs.promises.readdir(from)) {
    if (name.startsWith(".")) continue;
    const target = path.join(dataDir, name);
    await replaceWithLink(path.join(from, name), target);
    log(`linked ${target} -> ${path.join(from, name)}`);
  }
}

async function replaceWithLink(source: string, target: string): Promise<void> {
  const existing = await fs.promises.lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) await fs.promises.rm(target);
  else if (existing) {
    throw new Error(
      `${target} already exists and is not a link; move it away before linking ${source}`,
    );
  }
  await fs.promises.symlink(source, target);
}

/** Log whether the unpacked release is complete; true when it is. */
function finishCheck(
  dataset: DatasetName,
  dataDir: string,
  log: (line: string) => void,
): boolean {
  const problems = releaseProblems(dataset, dataDir);
  if (problems.length === 0) log(`${dataset}: ready in ${dataDir}`);
  else
    log(
      `warning: ${dataset} in ${dataDir} is not the complete release: ${problems.join("; ")}`,
    );
  return problems.length === 0;
}

function manualInstructions(
  dataset: DatasetName,
  release: ReleaseArchive,
  dataDir: string,
  err: unknown,
): string {
  const reason = err instanceof Error ? err.message : String(err);
  return [
    `could not download ${dataset} (${reason}).`,
    "Fetch the file by hand:",
    `  file: ${release.file}`,
    `  url:  ${release.url}`,
    `  md5:  ${release.md5}`,
    `then put it at ${path.join(dataDir, release.file)} and run ` +
      `\`make data DATASET=${dataset}\` again,`,
    `or run \`make data DATASET=${dataset} FROM=/path/to/${release.file}\`.`,
  ].join("\n");
}

/** Link the 100 classes of a local ImageNet-1k tree into dataDir/{train,val}. */
async function prepareImagenet100(
  dataDir: string,
  from: string | undefined,
  log: (line: string) => void,
): Promise<void> {
  const wnids = imagenet100Classes();
  if (from === undefined) {
    if (
      datasetSplits("imagenet100").every((s) =>
        hasAllClasses(path.join(dataDir, s), wnids),
      )
    ) {
      log(`imagenet100: already prepared in ${dataDir}`);
      return;
    }
    throw new Error(imagenetInstructions(dataDir));
  }

  // every split of the source must hold all 100 classes before anything is linked
  const root = path.resolve(from);
  for (const split of datasetSplits("imagenet100")) {
    const dir = path.join(root, split);
    if (!isDirectory(dir)) {
      throw new Error(
        `${dir} is missing; ${root} must hold train/<wnid>/ and val/<wnid>/`,
      );
    }
    const missing = wnids.filter((wnid) => !isDirectory(path.join(dir, wnid)));
    if (missing.length > 0) {
      throw new Error(
        `${dir} lacks ${missing.length} of the ImageNet-100 classes: ${missing.join(" ")}; ` +
          "use a complete ImageNet-1k tree (val images sorted into <wnid> folders)",
      );
    }
  }
  for (const split of datasetSplits("imagenet100")) {
    const splitDir = path.join(dataDir, split);
    await fs.promises.mkdir(splitDir, { recursive: true });
    let images = 0;
    for (const wnid of wnids) {
      const source = path.join(root, split, wnid);
      await replaceWithLink(source, path.join(splitDir, wnid));
      images += (await fs.promises.readdir(source)).length;
    }
    log(`imagenet100/${split}: linked 100 classes, ${images} files, into ${splitDir}`);
  }
  log(
    "imagenet100: decoding and resizing happen on first load, then come from the cache",
  );
}

function hasAllClasses(dir: string, wnids: readonly string[]): boolean {
  return wnids.every((wnid) => isDirectory(path.join(dir, wnid)));
}

function imagenetInstructions(dataDir: string): string {
  return [
    `no ImageNet-100 tree in ${dataDir}.`,
    "ImageNet cannot be downloaded automatically: its licence requires an account at",
    "image-net.org. Get the ILSVRC2012 training and validation images as a folder tree",
    "  /path/to/imagenet/train/<wnid>/*.JPEG",
    "  /path/to/imagenet/val/<wnid>/*.JPEG   (validation images sorted into class folders)",
    "then run `make data DATASET=imagenet100 FROM=/path/to/imagenet`: it links the 100",
    `classes of src/data/imagenet100-classes.txt into ${dataDir}/{train,val}/.`,
  ].join("\n");
}
