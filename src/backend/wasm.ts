/**
 * Starting the wasm backend: the project's training kernels, and the threaded
 * SIMD binary when more than one thread is asked for.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import os from "node:os";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { registerWasmTrainingKernels } from "./wasm-kernels/index.js";
import { installPthreadWorker } from "./wasm-threads.js";
import { guardWasmMemory } from "./wasm-memory.js";

/**
 * Initialise backend "wasm" with `threads` worker threads (1: no workers) and
 * make it current. Resolves to the thread count the backend reports.
 * @param setBackend tf.setBackend that throws with the reason on failure.
 */
export async function startWasm(
  threads: number,
  useCustomKernels: boolean,
  setBackend: (name: string) => Promise<void>,
): Promise<number> {
  if (useCustomKernels) registerWasmTrainingKernels();
  if (threads > 1) {
    const packageDir = dirname(createRequire(import.meta.url)
      .resolve("@tensorflow/tfjs-backend-wasm"));
    installPthreadWorker(packageDir);
  }
  // tfjs turns threads off under Node; the worker class above makes them work.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", threads > 1);
  wasmBackend.setThreadsCount(threads);
  await withLogicalCores(2 * threads, () => setBackend("wasm"));

  guardWasmMemory(tf.backend() as wasmBackend.BackendWasm);

  const used = wasmBackend.getThreadsCount();
  if (threads > 1 && used !== threads) {
    throw new Error(`wasm started ${used} threads instead of ${threads}`);
  }
  return used;
}

/**
 * Run `start` while os.cpus() reports at least `count` cores. The wasm
 * backend caps its thread pool at half the logical cores it sees, which on a
 * 2-core machine would mean a single thread whatever was asked for.
 */
async function withLogicalCores(count: number, start: () => Promise<void>): Promise<void> {
  const realCpus = os.cpus;
  os.cpus = () => {
    const cores = realCpus();
    const first = cores[0];
    while (first !== undefined && cores.length < count) cores.push(first);
    return cores;
  };
  try {
    await start();
  } finally {
    os.cpus = realCpus;
  }
}
