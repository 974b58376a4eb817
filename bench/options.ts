/**
 * Settings of `make bench`, read from the environment so that a run can be
 * shortened without editing anything. Every value is checked, and a bad one
 * names its variable and says what is accepted.
 */
import { fileURLToPath } from "node:url";
import type { BackendName } from "../src/backend/types.js";
import type { BenchArch } from "./protocol.js";

/** Everything one benchmark run does. */
export interface BenchOptions {
  /** BENCH_MODELS: architectures to train (default small,resnet18). */
  models: BenchArch[];
  /** BENCH_SIZES: encoder images per step, two views of half as many images. */
  sizes: number[];
  /** BENCH_STEPS: timed steps per configuration (default 2). */
  steps: number;
  /** BENCH_WARMUP: untimed steps first (default 1). */
  warmup: number;
  /** BENCH_BACKENDS: our backends to try (default wasm,native; cpu only on request). */
  backends: BackendName[];
  /** BENCH_THREADS: threads on both sides (default 2). */
  threads: number;
  /** BENCH_CHUNK: our step's chunk size in images (default none: the whole step). */
  chunkSize: number | null;
  /**
   * BENCH_RETRY_CHUNK: when a whole step fails, try again in chunks of this
   * many images, as the quick profile trains (default 128; 0: no retry).
   */
  retryChunk: number | null;
  /**
   * BENCH_STALL_S: kill a child after this many seconds without progress
   * (default 180; our side gets 15 reference steps when that is longer).
   */
  stallSeconds: number;
  /** BENCH_DATA: the CIFAR-10 JPEG folder for the pipeline part. */
  dataDir: string;
  /** BENCH_PYTHON: interpreter that has torch (default /usr/bin/python3). */
  python: string;
  /** BENCH_OUT: where the JSON results go (default bench/results/latest.json). */
  out: string;
}

const MODELS: readonly BenchArch[] = ["small", "resnet18"];
const BACKENDS: readonly BackendName[] = ["native-gpu", "native", "wasm", "cpu"];

/** Read and check the BENCH_* variables. */
export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  return {
    models: list(env, "BENCH_MODELS", "small,resnet18").map((m) => oneOf(m, MODELS, "BENCH_MODELS")),
    sizes: list(env, "BENCH_SIZES", "128,256").map((s) => evenSize(s)),
    steps: whole(env, "BENCH_STEPS", 2, 1),
    warmup: whole(env, "BENCH_WARMUP", 1, 0),
    backends: list(env, "BENCH_BACKENDS", "wasm,native").map((b) => oneOf(b, BACKENDS, "BENCH_BACKENDS")),
    threads: whole(env, "BENCH_THREADS", 2, 1),
    chunkSize: env.BENCH_CHUNK ? whole(env, "BENCH_CHUNK", 0, 1) : null,
    retryChunk: whole(env, "BENCH_RETRY_CHUNK", 128, 0) || null,
    stallSeconds: whole(env, "BENCH_STALL_S", 180, 1),
    dataDir: env.BENCH_DATA || "../shared/data/cifar10-jpeg",
    python: env.BENCH_PYTHON || "/usr/bin/python3",
    out: env.BENCH_OUT || fileURLToPath(new URL("results/latest.json", import.meta.url)),
  };
}

function list(env: NodeJS.ProcessEnv, name: string, fallback: string): string[] {
  const items = (env[name] || fallback).split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new Error(`${name} is empty; give a comma-separated list or unset it`);
  return items;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${name}: "${value}" is not one of ${allowed.join(", ")}`);
}

function evenSize(value: string): number {
  const n = Number(value);
  if (Number.isInteger(n) && n >= 4 && n % 2 === 0) return n;
  throw new Error(
    `BENCH_SIZES: "${value}" is not an even number of encoder images >= 4 ` +
      "(each step holds two views of half that many images)",
  );
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min) return n;
  throw new Error(`${name}=${raw} is not a whole number >= ${min}`);
}
