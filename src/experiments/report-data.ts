/**
 * Loads a profile's cache for the reports and groups its runs into grid
 * points (every setting except the seed), with the mean and 95 % t-interval
 * of the accuracies over seeds. Grouping is an arquero query over one flat row
 * per run.
 */
import fs from "node:fs";
import path from "node:path";
import * as aq from "arquero";
import type { LossKind } from "../config.js";
import type { DatasetName } from "../data/types.js";
import { scanProfile, type CachedRun } from "./cache.js";
import { summarise, type SeedSummary } from "./stats.js";

/** Runs of one profile as the reports see them. */
export interface ReportData {
  profile: string;
  /** Valid runs with the artefact folder they were found in. */
  runs: { artefact: string; run: CachedRun }[];
  /** Files that could not be read, with the reason. */
  unreadable: { file: string; error: string }[];
}

/** One grid point: the runs that differ only by seed. */
export interface GridPoint {
  artefact: string;
  dataset: DatasetName;
  kind: LossKind;
  tauPlus: number;
  beta: number;
  positives: number;
  batchSize: number;
  negatives: number;
  seeds: number[];
  knn: SeedSummary;
  /** null when no run of the point has a linear probe. */
  linear: SeedSummary | null;
  runs: CachedRun[];
}

/** Folder holding package.json of this project, searched upwards from `start`. */
export function projectRoot(start = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) &&
      (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name ===
        "debiased-contrastive") {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no project package.json above ${start}`);
    dir = parent;
  }
}

/** Reads every cache file of a profile (unreadable ones are listed, never used). */
export function loadReportData(profile: string, cacheRoot: string): ReportData {
  const runs: ReportData["runs"] = [];
  const unreadable: ReportData["unreadable"] = [];
  for (const entry of scanProfile(cacheRoot, profile)) {
    if ("error" in entry) unreadable.push({ file: entry.file, error: entry.error });
    else runs.push({ artefact: entry.artefact, run: entry.run });
  }
  return { profile, runs, unreadable };
}

/** Grid points of one artefact (and optionally one dataset), sorted by setting. */
export function gridPoints(
  data: ReportData, artefact: string, dataset?: DatasetName,
): GridPoint[] {
  const selected = data.runs.filter((r) => r.artefact === artefact &&
    (dataset === undefined || r.run.result.config.pretrain.dataset === dataset));
  if (selected.length === 0) return [];

  // one flat row per run, then group by everything but the seed
  const rows = aq.from(selected.map(({ run }, index) => {
    const { pretrain } = run.result.config;
    return {
      index, dataset: pretrain.dataset, kind: pretrain.loss.kind,
      tauPlus: pretrain.loss.tauPlus, beta: pretrain.loss.beta,
      positives: pretrain.loss.positives, batchSize: pretrain.batchSize,
      seed: pretrain.seed,
    };
  }));
  const groups = rows
    .groupby("dataset", "kind", "tauPlus", "beta", "positives", "batchSize")
    .rollup({ members: aq.op.array_agg("index") })
    .orderby("dataset", "kind", "batchSize", "tauPlus", "beta", "positives")
    .objects() as {
      dataset: DatasetName; kind: LossKind; tauPlus: number; beta: number;
      positives: number; batchSize: number; members: number[];
    }[];

  return groups.map((g) => {
    const runs = g.members.map((i) => selected[i].run);
    const linear = runs.map((r) => r.result.linearTop1).filter((v): v is number => v !== null);
    return {
      artefact, dataset: g.dataset, kind: g.kind, tauPlus: g.tauPlus, beta: g.beta,
      positives: g.positives, batchSize: g.batchSize, negatives: 2 * g.batchSize - 2,
      seeds: runs.map((r) => r.result.config.pretrain.seed).sort((a, b) => a - b),
      knn: summarise(runs.map((r) => r.result.knnTop1)),
      linear: linear.length === 0 ? null : summarise(linear),
      runs,
    };
  });
}

/** Short description of a grid point, e.g. "debiased tau+=0.1 B=128". */
export function settingLabel(point: GridPoint, withBatch = true): string {
  const parts: string[] = [point.kind];
  if (point.kind === "debiased" || point.kind === "hard") parts.push(`tau+=${point.tauPlus}`);
  if (point.kind === "hard") parts.push(`beta=${point.beta}`);
  if (point.positives !== 1) parts.push(`M=${point.positives}`);
  if (withBatch) parts.push(`B=${point.batchSize} (N=${point.negatives})`);
  return parts.join(" ");
}

/** The headline metric of a point: linear top-1 when probed, else kNN top-1. */
export function headline(point: GridPoint): { name: string; summary: SeedSummary } {
  return point.linear === null
    ? { name: "kNN top-1", summary: point.knn }
    : { name: "linear top-1", summary: point.linear };
}

/** Distinct values of a field over runs, in first-seen order. */
export function distinct<T>(runs: readonly CachedRun[], pick: (r: CachedRun) => T): T[] {
  const seen: T[] = [];
  for (const run of runs) {
    const value = pick(run);
    if (!seen.includes(value)) seen.push(value);
  }
  return seen;
}
