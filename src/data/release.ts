/**
 * What the readers of the official binary releases (CIFAR-10, STL-10) share:
 * where a split's files may lie in a data folder and the checks whose error
 * messages say how to get a good copy again.
 */
import path from "node:path";
import { isDirectory, isFile } from "./source.js";

/** One dataset's official binary release, as it is unpacked or downloaded. */
export interface BinaryRelease {
  /** Name in messages, e.g. "CIFAR-10". */
  title: string;
  /** Dataset name of `make data DATASET=...`. */
  dataset: string;
  /** Folder name of the unpacked release. */
  folder: string;
  /** File name of the official archive. */
  archive: string;
  /** Side of the square images the release holds. */
  side: number;
}

/** Where a split's files were found: a folder holding all of them, or the archive. */
export type ReleaseLocation =
  | { kind: "folder"; dir: string }
  | { kind: "archive"; file: string };

/**
 * Finds the files `names` of `split` in dataDir: the unpacked folder first,
 * then loose files in dataDir itself, then the archive. A folder holding only
 * some of the files is an error listing the missing ones; undefined when
 * there is nothing of the release.
 */
export function locateRelease(
  release: BinaryRelease,
  dataDir: string,
  split: string,
  names: readonly string[],
): ReleaseLocation | undefined {
  // an unpacked folder (or loose files) wins over the archive
  for (const dir of [path.join(dataDir, release.folder), dataDir]) {
    if (!isDirectory(dir)) continue;
    const present = names.filter((name) => isFile(path.join(dir, name)));
    if (present.length === 0) continue;
    const missing = names.filter((name) => !present.includes(name));
    if (missing.length > 0) {
      throw new Error(
        `${dir} lacks ${missing.join(", ")} of the ${release.title} ${split} split; ` +
          `unpack ${release.archive} again (make data DATASET=${release.dataset})`,
      );
    }
    return { kind: "folder", dir };
  }

  const archive = path.join(dataDir, release.archive);
  if (isFile(archive)) return { kind: "archive", file: archive };
  return undefined;
}

/** Throws when the archive that was read did not hold every file in `names`. */
export function checkArchiveMembers(
  release: BinaryRelease,
  archive: string,
  names: readonly string[],
  found: (name: string) => boolean,
): void {
  const missing = names.filter((name) => !found(name));
  if (missing.length > 0) {
    throw new Error(
      `${archive} lacks ${missing.join(", ")}; it is not the ${release.title} binary ` +
        "release or it is damaged: download it again " +
        `(make data DATASET=${release.dataset})`,
    );
  }
}

/** Throws unless `size` is the release's own image side (it is never resized). */
export function checkReleaseSide(release: BinaryRelease, size: number): void {
  if (size !== release.side) {
    throw new Error(
      `${release.title} images are ${release.side}x${release.side}; ` +
        `size ${size} is not available`,
    );
  }
}
