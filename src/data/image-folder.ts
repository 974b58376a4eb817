/**
 * ImageFolder trees: <split>/<class>/<image>, either as folders on disk or
 * inside an archive <split>.tar.gz. Images are taken in sorted path order so
 * the sample order, and hence any seeded shuffle of it, is reproducible.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeImage, type DecoderName } from "./decode.js";
import {
  ManifestHash,
  isDirectory,
  isFile,
  stampFile,
  type DecodedImages,
  type FileStamp,
  type OpenTarget,
  type SplitSource,
} from "./source.js";
import { listTar, readTar } from "./tar.js";

/** How a dataset's ImageFolder tree is validated and decoded. */
export interface FolderRules {
  /** Human name for messages, e.g. "CIFAR-10". */
  title: string;
  /** Class folder names in label order. */
  classes: readonly string[];
  /**
   * True: a folder that is not a class is an error (CIFAR-10). False: it is
   * ignored, so a full ImageNet-1k tree can serve ImageNet-100.
   */
  strictFolders: boolean;
  decoder: DecoderName;
  /** Hint appended to "not found" style errors, e.g. the make command. */
  fixHint: string;
}

/** One image of the tree, in final sample order. */
interface FolderImage {
  /** "<split>/<class>/<file>", the name used in checksums and messages. */
  name: string;
  label: number;
}

const ARCHIVE_SUFFIXES = [".tar.gz", ".tgz", ".tar"];

/** Find `split` as a folder tree or a <split>.tar.gz in dataDir. */
export async function findImageFolder(
  dataDir: string,
  split: string,
  rules: FolderRules,
): Promise<SplitSource | undefined> {
  const splitDir = path.join(dataDir, split);
  if (isDirectory(splitDir)) return folderSource(dataDir, split, rules);
  for (const suffix of ARCHIVE_SUFFIXES) {
    const archive = path.join(dataDir, split + suffix);
    if (isFile(archive)) return archiveSource(archive, split, rules);
  }
  return undefined;
}

async function folderSource(
  dataDir: string,
  split: string,
  rules: FolderRules,
): Promise<SplitSource> {
  const splitDir = path.join(dataDir, split);
  const folders = await listClassFolders(splitDir);
  const used = selectClasses(folders, rules, splitDir);

  // list every image in class then file order
  const images: FolderImage[] = [];
  for (const [label, folder] of used.entries()) {
    const files = await listImages(path.join(splitDir, folder));
    if (files.length === 0) {
      throw new Error(
        `class folder ${path.join(splitDir, folder)} holds no images; ${rules.fixHint}`,
      );
    }
    for (const file of files) images.push({ name: `${split}/${folder}/${file}`, label });
  }
  const stamps = stampAll(dataDir, images);

  return {
    format: "image-folder",
    location: splitDir,
    stamps,
    decoder: rules.decoder,
    read: async (size, log, open) => {
      const out = startOutput(images, size, open);
      const digests: string[] = new Array(images.length);
      await runPool(images.length, decodeConcurrency(rules.decoder), async (i) => {
        const image = images[i] as FolderImage;
        const file = path.join(dataDir, image.name);
        // small files read synchronously cost a fraction of a thread-pool round trip
        const bytes =
          rules.decoder === "jpeg-js"
            ? fs.readFileSync(file)
            : await fs.promises.readFile(file);
        digests[i] = sha256(bytes);
        const pixels = await decodeImage(bytes, file, { size, decoder: rules.decoder });
        out.target.put(i, pixels);
        out.progress(log);
      });
      return out.finish(
        images,
        stamps.map((s) => s.size),
        digests,
      );
    },
  };
}

async function archiveSource(
  archive: string,
  split: string,
  rules: FolderRules,
): Promise<SplitSource> {
  return {
    format: "image-folder-archive",
    location: archive,
    stamps: [await stampFile(archive, path.basename(archive))],
    decoder: rules.decoder,
    read: async (size, log, open) => {
      // first pass: names only, to fix the sorted order and the labels
      log(`listing ${archive}`);
      const members = new Map<string, { index: number; size: number }>();
      const images = planArchive(await listTar(archive), archive, split, rules);
      const sizes: number[] = [];
      images.forEach((image, index) => {
        members.set(image.member, { index, size: image.size });
        sizes.push(image.size);
      });

      // second pass: decode each member into its slot as the archive streams
      const out = startOutput(images, size, open);
      const digests: string[] = new Array(images.length);
      const inFlight = new Set<Promise<void>>();
      const limit = decodeConcurrency(rules.decoder);
      let failure: unknown;
      await readTar(archive, async (entry, body) => {
        const slot = members.get(entry.path);
        if (slot === undefined || entry.type !== "file") return;
        const bytes = await collect(body, entry.size);
        const file = `${archive}:${entry.path}`;
        const task = (async () => {
          digests[slot.index] = sha256(bytes);
          const pixels = await decodeImage(bytes, file, { size, decoder: rules.decoder });
          out.target.put(slot.index, pixels);
          out.progress(log);
        })().catch((err: unknown) => {
          failure ??= err;
        });
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
        if (inFlight.size >= limit) await Promise.race(inFlight);
        if (failure !== undefined) throw failure;
      });
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
      return out.finish(images, sizes, digests);
    },
  };
}

/** Sorted images of `split` inside an archive listing, validated. */
function planArchive(
  entries: Awaited<ReturnType<typeof listTar>>,
  archive: string,
  split: string,
  rules: FolderRules,
): Array<FolderImage & { member: string; size: number }> {
  const byFolder = new Map<
    string,
    Array<{ member: string; file: string; size: number }>
  >();
  for (const entry of entries) {
    const parts = entry.path.split("/");
    // "<split>/<class>/<file>", possibly under one wrapping folder
    const at = parts.indexOf(split);
    if (at < 0 || at > 1) continue;
    const rest = parts.slice(at + 1);
    const base = rest[rest.length - 1] ?? "";
    if (base.startsWith(".")) continue;
    if (rest.length !== 2) {
      throw new Error(
        `${archive}: member ${entry.path} is not at <split>/<class>/<image>; ` +
          `the archive is not an ImageFolder tree of ${rules.title}`,
      );
    }
    const [folder, file] = rest as [string, string];
    const list = byFolder.get(folder) ?? [];
    list.push({ member: entry.path, file, size: entry.size });
    byFolder.set(folder, list);
  }
  if (byFolder.size === 0) {
    throw new Error(
      `${archive} holds no ${split}/<class>/<image> files; ${rules.fixHint}`,
    );
  }
  const used = selectClasses([...byFolder.keys()].sort(), rules, archive);
  const images: Array<FolderImage & { member: string; size: number }> = [];
  for (const [label, folder] of used.entries()) {
    const files = (byFolder.get(folder) ?? []).sort((a, b) => compare(a.file, b.file));
    for (const f of files) {
      images.push({
        name: `${split}/${folder}/${f.file}`,
        label,
        member: f.member,
        size: f.size,
      });
    }
  }
  return images;
}

/**
 * Pick the class folders in label order: every class must be present; with
 * strict rules nothing else may be.
 */
function selectClasses(
  folders: readonly string[],
  rules: FolderRules,
  where: string,
): string[] {
  const known = new Set(rules.classes);
  if (rules.strictFolders) {
    const unknown = folders.filter((f) => !known.has(f));
    if (unknown.length > 0) {
      throw new Error(
        `${where} has folder(s) ${unknown.join(", ")} that are not ${rules.title} classes ` +
          `(${rules.classes.join(" ")}); remove or rename them`,
      );
    }
  }
  const present = new Set(folders);
  const missing = rules.classes.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new Error(
      `${where} lacks ${missing.length} ${rules.title} class folder(s): ` +
        `${missing.join(" ")}; ${rules.fixHint}`,
    );
  }
  return [...rules.classes];
}

async function listClassFolders(splitDir: string): Promise<string[]> {
  const entries = await fs.promises.readdir(splitDir, { withFileTypes: true });
  const folders: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    // class folders may be symbolic links (see prepareDataset for ImageNet-100)
    if (entry.isDirectory() || isDirectory(path.join(splitDir, entry.name))) {
      folders.push(entry.name);
    }
  }
  return folders.sort(compare);
}

async function listImages(folder: string): Promise<string[]> {
  const entries = await fs.promises.readdir(folder, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    if (entry.isDirectory()) {
      throw new Error(
        `${path.join(folder, entry.name)} is a folder inside a class folder; ` +
          "an ImageFolder tree holds images directly in <split>/<class>/: move its files",
      );
    }
    files.push(entry.name);
  }
  return files.sort(compare);
}

function stampAll(dataDir: string, images: readonly FolderImage[]): FileStamp[] {
  // synchronous stat is several times faster than the async one for many files
  return images.map(({ name }) => {
    const stat = fs.statSync(path.join(dataDir, name));
    return { name, size: stat.size, mtimeMs: Math.round(stat.mtimeMs * 1000) / 1000 };
  });
}

/**
 * The output of a split (memory or the cache file, as the loader chooses;
 * [N, size, size, 3] either way) plus progress reporting.
 */
function startOutput(images: readonly FolderImage[], size: number, open: OpenTarget) {
  const count = images.length;
  const target = open(count, size, size);
  let done = 0;
  let nextReport = Math.ceil(count / 10);
  return {
    target,
    progress(log: (line: string) => void): void {
      done++;
      if (done >= nextReport && count >= 1000) {
        log(`decoded ${done}/${count} images`);
        nextReport += Math.ceil(count / 10);
      }
    },
    finish(
      list: readonly FolderImage[],
      sizes: readonly number[],
      digests: readonly string[],
    ) {
      const manifest = new ManifestHash();
      list.forEach((image, i) =>
        manifest.add(image.name, sizes[i] as number, digests[i] as string),
      );
      const labels = Int32Array.from(list, (image) => image.label);
      const result: DecodedImages = {
        count,
        height: size,
        width: size,
        labels,
        checksum: manifest.digest(),
      };
      return result;
    },
  };
}

function decodeConcurrency(decoder: DecoderName): number {
  // sharp works on the libuv thread pool; jpeg-js runs on this thread, so
  // a few reads in flight are enough to hide the file system
  return decoder === "sharp" ? Math.max(2, os.availableParallelism()) : 8;
}

/** Run task(0..count-1) with at most `width` in flight; the first error wins. */
export async function runPool(
  count: number,
  width: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

async function collect(body: AsyncIterable<Uint8Array>, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of body) {
    bytes.set(chunk, filled);
    filled += chunk.length;
  }
  return bytes;
}

function sha256(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

function compare(a: string, b: string): number {
  // plain code-unit order: the same on every machine, unlike locale order
  return a < b ? -1 : a > b ? 1 : 0;
}
