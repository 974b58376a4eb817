/**
 * Command-line entry of `make data`: prepare one dataset.
 *
 *   npx tsx src/data/prepare-main.ts --dataset cifar10|stl10|imagenet100
 *     [--data-dir DIR] [--from ARCHIVE_OR_FOLDER]
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DATASET_NAMES } from "./info.js";
import { prepareDataset, type PrepareOptions } from "./prepare.js";
import type { DatasetName } from "./types.js";

const USAGE =
  "usage: make data DATASET=cifar10|stl10|imagenet100 [DATA_DIR=dir] [FROM=path]\n" +
  "   or: dcl data --dataset cifar10|stl10|imagenet100 [--data-dir DIR] [--from PATH]";

/** Parse the three flags strictly; unknown or repeated flags are errors. */
export function parsePrepareArgs(argv: readonly string[]): PrepareOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const match = /^--(dataset|data-dir|from)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new Error(`unknown argument "${arg}"\n${USAGE}`);
    const flag = match[1] as string;
    const value = match[2] ?? argv[++i];
    if (
      value === undefined ||
      value === "" ||
      (match[2] === undefined && value.startsWith("--"))
    ) {
      throw new Error(`--${flag} needs a value\n${USAGE}`);
    }
    if (values.has(flag)) throw new Error(`--${flag} is given twice\n${USAGE}`);
    values.set(flag, value);
  }
  const dataset = values.get("dataset");
  if (dataset === undefined) throw new Error(`--dataset is required\n${USAGE}`);
  if (!(DATASET_NAMES as readonly string[]).includes(dataset)) {
    throw new Error(
      `--dataset ${dataset} is unknown: use one of ${DATASET_NAMES.join(", ")}`,
    );
  }
  return {
    dataset: dataset as DatasetName,
    dataDir: values.get("data-dir"),
    from: values.get("from"),
  };
}

async function main(): Promise<number> {
  let options: PrepareOptions;
  try {
    options = parsePrepareArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  try {
    await prepareDataset({ ...options, log: (line) => console.log(line) });
    return 0;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

// run only when executed, not when imported by the tests
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(path.resolve(entry)).href) {
  process.exitCode = await main();
}
