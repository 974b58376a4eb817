/**
 * The experiment cache: one Apache Arrow IPC file per finished run, at
 * results/cache/<profile>/<artefact>/<key>.arrow, where key = sha256 of the
 * canonical JSON of the run's RunConfig less the data folder's location (see
 * configKey). A file is one row: flat columns
 * for querying (dataset, objective, B, seed, accuracies), list columns for the
 * per-epoch curves and the optional embedding sample, and the provenance.
 * Files are written with apache-arrow (temp file + rename, so a reader never
 * sees half a file) and read with arquero.
 */
import fs from "node:fs";
import path from "node:path";
import {
  Bool, Field, Float32, Float64, Int32, List, Table, Utf8, tableToIPC, vectorFromArray,
  type DataType,
} from "apache-arrow";
import * as aq from "arquero";
import type { RunConfig, RunResult } from "../config.js";
import type { BackendReport } from "../backend/types.js";
import { canonicalJson, configKey, sha256Hex } from "./hash.js";
import type { CodeIdentity } from "./provenance.js";

/**
 * Version of the file layout below; bump it when columns or the key change
 * meaning. 2: the key leaves out pretrain.dataDir.
 */
export const CACHE_FORMAT = 2;

/** Test embeddings kept for the 2-D projection: `count` rows of `dim` floats. */
export interface EmbeddingSample {
  labels: Int32Array;
  dim: number;
  /** [count, dim] row-major backbone features. */
  values: Float32Array;
}

/** Provenance stored beside a result. */
export interface Provenance extends CodeIdentity {
  /** The copy of the dataset, e.g. "CIFAR-10, JPEG copy (lossy re-encoding, about q75)". */
  datasetCopy: string;
  /** ISO time the file was written. */
  createdAt: string;
}

/** Everything one cache file holds. */
export interface CachedRun {
  key: string;
  result: RunResult;
  provenance: Provenance;
  embeddings: EmbeddingSample | null;
}

/** Raised for a cache file that exists but cannot be trusted. */
export class CorruptCacheError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`cache file ${file} is unreadable or corrupt: ${reason}`);
    this.name = "CorruptCacheError";
  }
}

/** Folder of one artefact's runs at one profile. */
export function artefactDir(cacheRoot: string, profile: string, artefact: string): string {
  return path.join(cacheRoot, profile, artefact);
}

/** Path of a run's cache file. */
export function cacheFile(
  cacheRoot: string, profile: string, artefact: string, key: string,
): string {
  return path.join(artefactDir(cacheRoot, profile, artefact), `${key}.arrow`);
}

/** Serialises a run to Arrow IPC (file format) bytes. */
export function encodeRun(run: CachedRun): Uint8Array {
  const { result, provenance, embeddings } = run;
  const cfg = result.config;
  const loss = cfg.pretrain.loss;
  const f64 = () => new Float64();
  const i32 = () => new Int32();
  const listOf = (type: DataType) => new List(new Field("item", type, true));

  // one row; every column is a one-element vector
  const columns = {
    format: [CACHE_FORMAT, i32()],
    key: [run.key, new Utf8()],
    profile: [cfg.profile, new Utf8()],
    dataset: [cfg.pretrain.dataset, new Utf8()],
    loss: [loss.kind, new Utf8()],
    tauPlus: [loss.tauPlus, f64()],
    beta: [loss.beta, f64()],
    positives: [loss.positives, i32()],
    temperature: [loss.temperature, f64()],
    batchSize: [cfg.pretrain.batchSize, i32()],
    negatives: [2 * cfg.pretrain.batchSize - 2, i32()],
    seed: [cfg.pretrain.seed, i32()],
    epochs: [cfg.pretrain.epochs, i32()],
    arch: [cfg.pretrain.encoder.arch, new Utf8()],
    pretrainImages: [result.pretrainImages, i32()],
    initKnnTop1: [result.initKnnTop1, f64()],
    initKnnTop5: [result.initKnnTop5, f64()],
    knnTop1: [result.knnTop1, f64()],
    knnTop5: [result.knnTop5, f64()],
    linearTop1: [result.linearTop1, f64()],
    linearTop5: [result.linearTop5, f64()],
    wallSeconds: [result.wallSeconds, f64()],
    curveEpoch: [Int32Array.from(result.epochs.map((e) => e.epoch)), listOf(i32())],
    curveLoss: [Float64Array.from(result.epochs.map((e) => e.loss)), listOf(f64())],
    curveImagesPerSecond: [
      Float64Array.from(result.epochs.map((e) => e.imagesPerSecond)), listOf(f64())],
    curveSeconds: [Float64Array.from(result.epochs.map((e) => e.seconds)), listOf(f64())],
    datasetChecksum: [result.datasetChecksum, new Utf8()],
    datasetCopy: [provenance.datasetCopy, new Utf8()],
    backend: [result.backend.name, new Utf8()],
    backendThreads: [result.backend.threads, i32()],
    backendJson: [JSON.stringify(result.backend), new Utf8()],
    gitCommit: [provenance.gitCommit, new Utf8()],
    gitDirty: [provenance.gitDirty, new Bool()],
    librariesJson: [JSON.stringify(provenance.libraries), new Utf8()],
    node: [provenance.node, new Utf8()],
    createdAt: [provenance.createdAt, new Utf8()],
    configJson: [canonicalJson(cfg), new Utf8()],
    embeddingDim: [embeddings?.dim ?? null, i32()],
    embeddingLabels: [embeddings?.labels ?? null, listOf(i32())],
    embeddingValues: [embeddings?.values ?? null, listOf(new Float32())],
    integrity: [integrityOf(run), new Utf8()],
  } as const;

  const vectors = Object.fromEntries(
    Object.entries(columns).map(([name, [value, type]]) => [
      name, vectorFromArray([value] as unknown[], type as DataType),
    ]),
  );
  return tableToIPC(new Table(vectors), "file");
}

/** Parses Arrow IPC bytes back into a run; `source` names the file in errors. */
export function decodeRun(bytes: Uint8Array, source: string): CachedRun {
  let rows: Record<string, unknown>[];
  try {
    rows = aq.fromArrow(bytes).objects() as Record<string, unknown>[];
  } catch (err) {
    // the reader's own message speaks of its internals; keep it for debugging only
    const detail = process.env.DCL_DEBUG ? ` (${(err as Error).message})` : "";
    throw new CorruptCacheError(source, `not a readable Arrow IPC file: truncated or ` +
      `overwritten${detail}`);
  }
  if (rows.length !== 1) {
    throw new CorruptCacheError(source, `${rows.length} rows, expected 1`);
  }
  const row = rows[0];

  // rebuild the records, checking every field's type on the way
  const read = new RowReader(row, source);
  const format = read.number("format");
  if (format !== CACHE_FORMAT) {
    throw new CorruptCacheError(source, `format ${format}, this code reads ${CACHE_FORMAT}`);
  }
  const config = read.json("configJson") as RunConfig;
  const curveEpoch = read.numbers("curveEpoch");
  const curveLoss = read.numbers("curveLoss");
  const curveRate = read.numbers("curveImagesPerSecond");
  const curveSeconds = read.numbers("curveSeconds");
  const result: RunResult = {
    config,
    backend: read.json("backendJson") as BackendReport,
    initKnnTop1: read.number("initKnnTop1"),
    initKnnTop5: read.number("initKnnTop5"),
    knnTop1: read.number("knnTop1"),
    knnTop5: read.number("knnTop5"),
    linearTop1: read.nullableNumber("linearTop1"),
    linearTop5: read.nullableNumber("linearTop5"),
    epochs: curveEpoch.map((epoch, i) => ({
      epoch, loss: curveLoss[i], imagesPerSecond: curveRate[i], seconds: curveSeconds[i],
    })),
    datasetChecksum: read.string("datasetChecksum"),
    pretrainImages: read.number("pretrainImages"),
    wallSeconds: read.number("wallSeconds"),
  };
  const provenance: Provenance = {
    datasetCopy: read.string("datasetCopy"),
    gitCommit: read.string("gitCommit"),
    gitDirty: read.boolean("gitDirty"),
    libraries: read.json("librariesJson") as Record<string, string>,
    node: read.string("node"),
    createdAt: read.string("createdAt"),
  };
  const dim = read.nullableNumber("embeddingDim");
  const embeddings = dim === null ? null : {
    dim,
    labels: Int32Array.from(read.numbers("embeddingLabels")),
    values: Float32Array.from(read.numbers("embeddingValues")),
  };
  const run: CachedRun = { key: read.string("key"), result, provenance, embeddings };

  // the stored key must be this config's key, and the content must be intact
  if (run.key !== configKey(config)) {
    throw new CorruptCacheError(source, "stored key does not match the stored configuration");
  }
  if (read.string("integrity") !== integrityOf(run)) {
    throw new CorruptCacheError(source, "content checksum mismatch");
  }
  return run;
}

/** Writes a run atomically (temp file in the same folder, then rename). */
export function writeRun(file: string, run: CachedRun): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, encodeRun(run));
  fs.renameSync(temp, file);
}

/** Reads and validates one cache file; throws CorruptCacheError when it cannot be trusted. */
export function readRun(file: string): CachedRun {
  const run = decodeRun(new Uint8Array(fs.readFileSync(file)), file);
  if (path.basename(file) !== `${run.key}.arrow`) {
    throw new CorruptCacheError(file, `file name does not match its key ${run.key}`);
  }
  return run;
}

/** One run found while scanning the cache, or the reason it was rejected. */
export type ScanEntry =
  | { file: string; artefact: string; run: CachedRun }
  | { file: string; artefact: string; error: string };

/** Every .arrow file under results/cache/<profile>/, valid or not, sorted by path. */
export function scanProfile(cacheRoot: string, profile: string): ScanEntry[] {
  const root = path.join(cacheRoot, profile);
  if (!fs.existsSync(root)) return [];

  const entries: ScanEntry[] = [];
  for (const artefact of fs.readdirSync(root).sort()) {
    const dir = path.join(root, artefact);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".arrow")).sort()) {
      const file = path.join(dir, name);
      try {
        entries.push({ file, artefact, run: readRun(file) });
      } catch (err) {
        entries.push({ file, artefact, error: (err as Error).message });
      }
    }
  }
  return entries;
}

/** sha256 over everything a file stores, so that flipped bytes are caught on read. */
function integrityOf(run: CachedRun): string {
  const sample = run.embeddings;
  const embedding = sample === null ? null : {
    dim: sample.dim,
    labels: Array.from(sample.labels),
    // hash the raw bytes: exact, and cheaper than formatting floats
    values: sha256Hex(Buffer.from(sample.values.buffer, sample.values.byteOffset,
      sample.values.byteLength).toString("base64")),
  };
  return sha256Hex(canonicalJson({
    key: run.key, result: run.result, provenance: run.provenance, embedding,
  }, "text"));
}

/** Typed access to the columns of a decoded row; a wrong type means corruption. */
class RowReader {
  constructor(
    private readonly row: Record<string, unknown>, private readonly source: string,
  ) {}

  string(name: string): string {
    const value = this.row[name];
    if (typeof value !== "string") this.fail(name, "a string");
    return value as string;
  }

  number(name: string): number {
    const value = this.row[name];
    if (typeof value !== "number") this.fail(name, "a number");
    return value as number;
  }

  nullableNumber(name: string): number | null {
    return this.row[name] === null ? null : this.number(name);
  }

  boolean(name: string): boolean {
    const value = this.row[name];
    if (typeof value !== "boolean") this.fail(name, "a boolean");
    return value as boolean;
  }

  numbers(name: string): number[] {
    const value = this.row[name];
    if (!ArrayBuffer.isView(value) && !Array.isArray(value)) this.fail(name, "a list");
    return Array.from(value as ArrayLike<number>);
  }

  json(name: string): unknown {
    try {
      return JSON.parse(this.string(name));
    } catch (err) {
      if (err instanceof CorruptCacheError) throw err;
      throw new CorruptCacheError(this.source, `column ${name} is not valid JSON`);
    }
  }

  private fail(name: string, expected: string): never {
    const what = name in this.row ? typeof this.row[name] : "missing";
    throw new CorruptCacheError(this.source,
      `column ${name} is ${what}, expected ${expected}`);
  }
}
