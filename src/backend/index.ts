/**
 * Chooses the TensorFlow.js backend for this process: native TensorFlow (GPU,
 * then CPU) when it loads, else wasm with the project's training kernels,
 * else the pure-JS cpu backend. DCL_BACKEND or `force` pins one backend, and
 * DCL_THREADS or `threads` sets the wasm thread count.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { availableParallelism } from "node:os";
import { loadNative } from "./native.js";
import type { BackendName, BackendReport } from "./types.js";
import { startWasm } from "./wasm.js";

export type { BackendName, BackendReport } from "./types.js";
export { maxImagesPerChunk, WasmMemoryError, wasmHeapBytes } from "./wasm-memory.js";

/** Every backend, most preferred first. */
export const BACKEND_ORDER: readonly BackendName[] = [
  "native-gpu", "native", "wasm", "cpu",
];

/** Options of `setupBackend`. */
export interface SetupBackendOptions {
  /** Use only this backend (e.g. from a --backend flag); beats DCL_BACKEND. */
  force?: BackendName;
  /** wasm worker threads; beats DCL_THREADS; default: every logical core. */
  threads?: number;
  /** Receives warnings about each fallback (default: console.error). */
  log?: (line: string) => void;
  /** Register the custom wasm training kernels (default true; off to compare). */
  useCustomKernels?: boolean;
}

let chosen: Promise<BackendReport> | undefined;

/**
 * Select and initialise the backend once per process; later calls return the
 * first call's report whatever their options.
 * @throws Error when a forced backend cannot run (the message says why), or
 *   when DCL_BACKEND / DCL_THREADS hold invalid values.
 */
export function setupBackend(options: SetupBackendOptions = {}): Promise<BackendReport> {
  if (chosen === undefined) {
    chosen = chooseBackend(options);
    // A failed setup may be retried, e.g. with another forced backend.
    chosen.catch(() => (chosen = undefined));
  }
  return chosen;
}

/** One line for logs, e.g. "backend wasm (2 threads; skipped native-gpu, native)". */
export function describeBackend(report: BackendReport): string {
  const threads = `${report.threads} thread${report.threads === 1 ? "" : "s"}`;
  const skipped = Object.keys(report.skipped);
  const fallback = skipped.length > 0 ? `; skipped ${skipped.join(", ")}` : "";
  const how = report.selection === "auto" ? "" : `; ${report.selection}`;
  return `backend ${report.name} (${threads}${fallback}${how})`;
}

async function chooseBackend(options: SetupBackendOptions): Promise<BackendReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const threads = resolveThreads(options.threads);
  const forced = resolveForced(options.force);
  const useCustomKernels = options.useCustomKernels ?? true;

  // A forced backend either starts or fails loudly; there is no fallback.
  if (forced !== undefined) {
    try {
      const used = await startBackend(forced.name, threads, useCustomKernels);
      return { name: forced.name, threads: used, skipped: {}, selection: forced.how };
    } catch (err) {
      throw new Error(`backend ${forced.name} (${forced.how}) is unavailable: ` +
        `${reason(err)}. Unset DCL_BACKEND / --backend to fall back automatically.`);
    }
  }

  // Otherwise take the first backend that starts, logging each one skipped.
  const skipped: Partial<Record<BackendName, string>> = {};
  for (const name of BACKEND_ORDER) {
    try {
      const used = await startBackend(name, threads, useCustomKernels);
      return { name, threads: used, skipped, selection: "auto" };
    } catch (err) {
      skipped[name] = reason(err);
      log(`warning: backend ${name} unavailable, falling back: ${skipped[name]}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${JSON.stringify(skipped)}`);
}

/** Start one backend; resolves to the number of threads its kernels use. */
async function startBackend(
  name: BackendName,
  threads: number,
  useCustomKernels: boolean,
): Promise<number> {
  switch (name) {
    case "native-gpu":
    case "native":
      await loadNative(name);
      await setBackendOrThrow("tensorflow");
      // TensorFlow sizes its own thread pools from the machine's cores.
      return availableParallelism();
    case "wasm":
      return startWasm(threads, useCustomKernels, setBackendOrThrow);
    case "cpu":
      await setBackendOrThrow("cpu");
      return 1;
  }
}

/**
 * tf.setBackend that throws with tfjs's own reason: tfjs only warns and
 * resolves to false when a backend fails to initialise.
 */
async function setBackendOrThrow(name: string): Promise<void> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(" "));
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } finally {
    console.warn = warn;
  }
  if (!ok) {
    const detail = warnings.length > 0 ? warnings.join("; ") : "no reason given";
    throw new Error(`tf.setBackend("${name}") failed: ${detail}`);
  }
}

function resolveForced(
  force: BackendName | undefined,
): { name: BackendName; how: string } | undefined {
  if (force !== undefined) {
    return { name: checkName(force, "--backend"), how: "forced by --backend" };
  }
  const fromEnv = process.env.DCL_BACKEND;
  if (fromEnv === undefined || fromEnv === "" || fromEnv === "auto") return undefined;
  return { name: checkName(fromEnv, "DCL_BACKEND"), how: "forced by DCL_BACKEND" };
}

function checkName(value: string, source: string): BackendName {
  if ((BACKEND_ORDER as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${source}=${value} is not a backend; use one of ` +
    `${BACKEND_ORDER.join(", ")} (or leave it unset to choose automatically)`);
}

function resolveThreads(threads: number | undefined): number {
  if (threads !== undefined) return checkThreads(threads, "threads option");
  const fromEnv = process.env.DCL_THREADS;
  if (fromEnv === undefined || fromEnv === "") return availableParallelism();
  return checkThreads(Number(fromEnv), `DCL_THREADS=${fromEnv}`);
}

function checkThreads(threads: number, source: string): number {
  if (Number.isInteger(threads) && threads >= 1) return threads;
  throw new Error(`${source} is not a thread count; give a whole number >= 1`);
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
