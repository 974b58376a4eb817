/**
 * Runs the missing cells of the selected artefacts: every grid point whose
 * cache file is absent (or every one with `force`) is trained and written as
 * soon as it finishes, so an interruption loses at most the running cell.
 * Datasets without files are skipped with a message saying where they belong.
 */
import fs from "node:fs";
import path from "node:path";
import type { RunConfig, RunResult } from "../config.js";
import { dataCommand } from "../data/info.js";
import type { DatasetName } from "../data/types.js";
import {
  cacheFile, readRun, writeRun, type CachedRun, type EmbeddingSample,
} from "./cache.js";
import { configKey } from "./hash.js";
import type { Profile } from "./profiles.js";
import { describeDatasetCopy, datasetPresent, type CodeIdentity } from "./provenance.js";
import {
  artefactCells, artefactNames, artefacts, type ArtefactName, type Cell,
} from "./registry.js";

/** What the runner hands the trainer besides the config. */
export interface TrainOptions {
  log: (line: string) => void;
  /** Folder for resumable checkpoints of this run. */
  checkpointDir: string;
  /** Test embeddings to return for the 2-D projection (0 = none). */
  embeddingSamples: number;
}

/** A finished run, optionally with the embeddings that were asked for. */
export type TrainOutput = RunResult & { embeddings?: EmbeddingSample | null };

/** Trains one configuration (runExperiment in production, a fake in tests). */
export type Trainer = (config: RunConfig, options: TrainOptions) => Promise<TrainOutput>;

/** Settings of one invocation. */
export interface RunnerOptions {
  profile: Profile;
  artefacts: readonly ArtefactName[];
  /** Restrict to these datasets (default: every dataset an artefact covers). */
  datasets?: readonly DatasetName[];
  /** Restrict to these of the profile's seeds (default: all of them). */
  seeds?: readonly number[];
  /** Folder holding one sub-folder per dataset (default "data"). */
  dataRoot: string;
  /** Root of the cache (default "results/cache"). */
  cacheRoot: string;
  /** Root of the per-run checkpoint folders (default "checkpoints"). */
  checkpointRoot: string;
  /** Retrain every selected cell even when a valid cache file exists. */
  force: boolean;
  train: Trainer;
  identity: CodeIdentity;
  log: (line: string) => void;
}

/** Status of one cell before anything runs. */
export interface PlannedCell {
  cell: Cell;
  key: string;
  file: string;
  status: "cached" | "missing" | "corrupt" | "reusable" | "forced";
  /** Why a file was rejected, or which file can be copied ("reusable"). */
  detail?: string;
  /** Whether the run must keep test embeddings (some artefact plots them). */
  keepEmbeddings: number;
}

/** Counts of what an invocation did. */
export interface RunSummary {
  cells: number;
  cached: number;
  reused: number;
  trained: number;
  failed: { label: string; error: string }[];
  corrupt: { file: string; error: string }[];
  skippedDatasets: DatasetName[];
}

/** Datasets the selected artefacts cover, split into present and absent. */
export function datasetsOnDisk(
  selected: readonly ArtefactName[], dataRoot: string, only?: readonly DatasetName[],
): { present: DatasetName[]; absent: DatasetName[] } {
  const wanted = new Set(selected.flatMap((a) => artefacts[a].datasets));
  const names = [...wanted].filter((d) => only === undefined || only.includes(d));
  return {
    present: names.filter((d) => datasetPresent(path.join(dataRoot, d))),
    absent: names.filter((d) => !datasetPresent(path.join(dataRoot, d))),
  };
}

/** Looks up every cell of the selection in the cache without training anything. */
export function planCells(options: Omit<RunnerOptions, "train" | "identity" | "log">)
  : { planned: PlannedCell[]; absent: DatasetName[] } {
  const { present, absent } = datasetsOnDisk(options.artefacts, options.dataRoot,
    options.datasets);
  return { planned: lookupCells(options, present, options.force), absent };
}

/**
 * Cache status of the cells of datasets that are not on disk: what a report
 * can show of them, and what would train once the data is there.
 */
export function planAbsentCells(options: Omit<RunnerOptions, "train" | "identity" | "log">)
  : PlannedCell[] {
  const { absent } = datasetsOnDisk(options.artefacts, options.dataRoot, options.datasets);
  return lookupCells(options, absent, false);
}

function lookupCells(
  options: Omit<RunnerOptions, "train" | "identity" | "log">,
  datasets: readonly DatasetName[], force: boolean | undefined,
): PlannedCell[] {
  const { profile, cacheRoot, dataRoot } = options;
  const embeddingKeys = embeddingDemand(profile, datasets, dataRoot);
  const wanted = (cell: Cell) =>
    options.seeds === undefined || options.seeds.includes(cell.config.pretrain.seed);
  const planned = options.artefacts.flatMap((name) =>
    artefactCells(artefacts[name], profile, datasets, dataRoot).filter(wanted).map((cell) => {
      const key = configKey(cell.config);
      const file = cacheFile(cacheRoot, profile.name, cell.artefact, key);
      const keepEmbeddings = embeddingKeys.get(key) ?? 0;
      const entry = { cell, key, file, keepEmbeddings };
      if (force) return { ...entry, status: "forced" as const };
      return { ...entry, ...lookup(entry, cacheRoot, profile.name) };
    }),
  );
  // seeds outermost (a stable sort keeps the grid order within a seed), so an
  // interrupted grid still covers every setting with the seeds it finished
  planned.sort((a, b) => a.cell.config.pretrain.seed - b.cell.config.pretrain.seed);
  return planned;
}

/** Trains every missing cell of the selection, writing each result as it finishes. */
export async function runCells(options: RunnerOptions): Promise<RunSummary> {
  const { log } = options;
  const { planned, absent } = planCells(options);
  for (const dataset of absent) {
    log(`${dataset}: no files in ${path.join(options.dataRoot, dataset)}; its cells are ` +
      `skipped (${dataCommand(dataset)} puts it there; see data/README.md)`);
  }
  const summary: RunSummary = { cells: planned.length, cached: 0, reused: 0, trained: 0,
    failed: [], corrupt: [], skippedDatasets: absent };

  // keys trained by this invocation, so a config shared by two artefacts runs once
  const trainedHere = new Map<string, string>();
  for (const [index, entry] of planned.entries()) {
    const { cell } = entry;
    const head = `[cell ${index + 1}/${planned.length}] ${cell.artefact} ${cell.dataset} ` +
      `${cell.label}`;

    // reuse what is already valid on disk
    const sibling = trainedHere.get(entry.key);
    if (sibling !== undefined && sibling !== entry.file) {
      copyRun(sibling, entry.file);
      summary.reused++;
      log(`${head}: same configuration as ${relative(sibling)}, copied`);
      continue;
    }
    if (entry.status === "cached") {
      summary.cached++;
      log(`${head}: cached`);
      continue;
    }
    if (entry.status === "reusable" && entry.detail !== undefined) {
      copyRun(entry.detail, entry.file);
      summary.reused++;
      log(`${head}: same configuration cached as ${relative(entry.detail)}, copied`);
      continue;
    }
    if (entry.status === "corrupt") {
      summary.corrupt.push({ file: entry.file, error: entry.detail ?? "" });
      log(`warning: ${entry.detail}; training the cell again`);
    }

    // train, then write the file before moving on
    log(`${head} ...`);
    try {
      const run = await trainCell(entry, options);
      writeRun(entry.file, run);
      trainedHere.set(entry.key, entry.file);
      summary.trained++;
      log(`${head}: done in ${run.result.wallSeconds.toFixed(0)} s, kNN top-1 ` +
        `${run.result.knnTop1.toFixed(2)} %` + linearText(run.result));
    } catch (err) {
      const error = (err as Error).message;
      summary.failed.push({ label: head, error });
      log(`${head}: FAILED: ${error}`);
    }
  }
  return summary;
}

/** Every artefact name, for "--artefact all". */
export const allArtefacts: readonly ArtefactName[] = artefactNames;

async function trainCell(entry: PlannedCell, options: RunnerOptions): Promise<CachedRun> {
  const { config } = entry.cell;
  const checkpointDir = path.join(options.checkpointRoot, options.profile.name, entry.key);
  // a forced cell starts afresh; otherwise an interrupted run resumes from its checkpoint
  if (entry.status === "forced") fs.rmSync(checkpointDir, { recursive: true, force: true });
  const output = await options.train(config, {
    log: (line) => options.log(`    ${line}`),
    checkpointDir,
    embeddingSamples: entry.keepEmbeddings,
  });
  const { embeddings, ...result } = output;
  if (entry.keepEmbeddings > 0 && (embeddings === undefined || embeddings === null)) {
    options.log("    warning: the trainer returned no test embeddings; the embeddings " +
      "report will show accuracies only for this run");
  }
  if (configKey(result.config) !== entry.key) {
    throw new Error("the trainer returned a result for a different configuration");
  }
  return {
    key: entry.key,
    result,
    embeddings: embeddings ?? null,
    provenance: {
      ...options.identity,
      datasetCopy: describeDatasetCopy(config.pretrain.dataset, config.pretrain.dataDir),
      createdAt: new Date().toISOString(),
    },
  };
}

/** Finds a valid file for a cell: its own, or the same key under another artefact. */
function lookup(
  entry: { file: string; key: string; keepEmbeddings: number },
  cacheRoot: string, profile: string,
): Pick<PlannedCell, "status" | "detail"> {
  const usable = (file: string) => {
    const run = readRun(file);
    return entry.keepEmbeddings === 0 || run.embeddings !== null;
  };

  if (fs.existsSync(entry.file)) {
    try {
      if (usable(entry.file)) return { status: "cached" };
    } catch (err) {
      return { status: "corrupt", detail: (err as Error).message };
    }
  }
  const profileDir = path.join(cacheRoot, profile);
  const others = fs.existsSync(profileDir) ? fs.readdirSync(profileDir).sort() : [];
  for (const artefact of others) {
    const file = path.join(profileDir, artefact, `${entry.key}.arrow`);
    if (file === entry.file || !fs.existsSync(file)) continue;
    try {
      if (usable(file)) return { status: "reusable", detail: file };
    } catch {
      // a corrupt sibling is reported when its own artefact is run
    }
  }
  return { status: "missing" };
}

/** Keys of the embeddings artefact's cells, with the sample size each asks for. */
function embeddingDemand(
  profile: Profile, datasets: readonly DatasetName[], dataRoot: string,
): Map<string, number> {
  const cells = artefactCells(artefacts.embeddings, profile, datasets, dataRoot);
  return new Map(cells.map((c) => [configKey(c.config), c.embeddingSamples]));
}

function copyRun(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const temp = `${to}.${process.pid}.tmp`;
  fs.copyFileSync(from, temp);
  fs.renameSync(temp, to);
}

function linearText(result: RunResult): string {
  return result.linearTop1 === null ? "" : `, linear top-1 ${result.linearTop1.toFixed(2)} %`;
}

function relative(file: string): string {
  return path.relative(process.cwd(), file);
}
