/**
 * Where a result came from: which copy of the dataset, which code (git
 * commit), which library versions and which Node. Stored beside every cached
 * run so that a report can say exactly what produced each number.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { DatasetName } from "../data/types.js";

/** Code and library identity of the process that produced a run. */
export interface CodeIdentity {
  /** Commit of the checkout ("unknown" outside a git repository). */
  gitCommit: string;
  /** Whether tracked files differed from that commit when the run started. */
  gitDirty: boolean;
  /** Installed versions of the libraries that shape the numbers. */
  libraries: Record<string, string>;
  node: string;
}

// the packages whose versions can change a result or how it is stored
const TRACKED_LIBRARIES = [
  "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm", "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "apache-arrow", "arquero", "sharp",
  "jpeg-js", "typescript",
];

/** Reads git and package-lock.json in `root` (the project folder). */
export function codeIdentity(root = process.cwd()): CodeIdentity {
  return {
    gitCommit: git(root, ["rev-parse", "HEAD"]) ?? "unknown",
    gitDirty: (git(root, ["status", "--porcelain", "--untracked-files=no"]) ?? "") !== "",
    libraries: libraryVersions(root),
    node: process.version,
  };
}

/** Installed versions of the tracked libraries, from package-lock.json. */
export function libraryVersions(root: string): Record<string, string> {
  const lockPath = path.join(root, "package-lock.json");
  const versions: Record<string, string> = {};
  if (!fs.existsSync(lockPath)) return versions;

  const lock = JSON.parse(fs.readFileSync(lockPath, "utf8")) as {
    packages?: Record<string, { version?: string }>;
  };
  for (const name of TRACKED_LIBRARIES) {
    const version = lock.packages?.[`node_modules/${name}`]?.version;
    if (version !== undefined) versions[name] = version;
  }
  return versions;
}

/**
 * Names the copy of a dataset in `dir` the way a report must state it, e.g.
 * "CIFAR-10, JPEG copy (lossy)", judged from the files present.
 */
export function describeDatasetCopy(dataset: DatasetName, dir: string): string {
  const title = { cifar10: "CIFAR-10", stl10: "STL-10", imagenet100: "ImageNet-100" }[dataset];
  const names = listNames(dir, 2);
  const has = (pattern: RegExp) => names.some((n) => pattern.test(n));

  if (dataset === "cifar10" && has(/(^|\/)(data_batch_1\.bin|cifar-10-binary\.tar\.gz)$/)) {
    return `${title}, official binary release`;
  }
  if (dataset === "cifar10" && (has(/\.jpe?g$/i) || has(/(^|\/)(train|test)\.tar(\.gz)?$/))) {
    // the only JPEG copy known to the project is re-encoded at about quality 75
    return `${title}, JPEG copy (lossy re-encoding, about q75)`;
  }
  if (dataset === "stl10" && has(/(^|\/)(train_X\.bin|stl10_binary\.tar\.gz)$/)) {
    return `${title}, official binary release`;
  }
  if (dataset === "imagenet100") return `${title}, ImageFolder tree`;
  return `${title}, files in ${dir}`;
}

/** Whether a dataset folder exists and holds at least one entry. */
export function datasetPresent(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

function listNames(dir: string, depth: number): string[] {
  const names: string[] = [];
  const walk = (sub: string, level: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, sub), { withFileTypes: true });
    } catch {
      return;
    }
    // a sample per folder is enough to tell the format apart
    for (const entry of entries.slice(0, 50)) {
      const name = sub === "" ? entry.name : `${sub}/${entry.name}`;
      names.push(name);
      // data folders are often links to a copy elsewhere: follow them
      const isDir = entry.isDirectory() ||
        (entry.isSymbolicLink() && isDirectory(path.join(dir, name)));
      if (isDir && level < depth) walk(name, level + 1);
    }
  };
  walk("", 0);
  return names;
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}
