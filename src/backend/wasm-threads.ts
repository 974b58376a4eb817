/**
 * Multithreaded wasm under Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD binary but never uses it in Node:
 * its WASM_HAS_MULTITHREAD_SUPPORT flag answers false there, and the Emscripten
 * glue starts each pthread worker from a `blob:` URL and sends it the main script
 * as a Blob, neither of which a Node worker can load. Instead of editing the
 * installed package, this module turns the flag on and hands the glue a Worker
 * class that starts a small bootstrap script which reads those Blobs itself.
 *
 * Known shortcoming: this depends on internals of tfjs-backend-wasm 4.22.0 (the
 * bundle's module-level names and its worker protocol); after an upgrade,
 * the thread-count check in wasm.ts and test/backend catch a break.
 */
import { Worker as NodeWorker, type WorkerOptions } from "node:worker_threads";
import { resolveObjectURL } from "node:buffer";

/**
 * Runs inside each pthread worker (CommonJS, `eval: true`). It defines the
 * module-level names the bundled Emscripten factory refers to, evaluates the
 * worker script read from its Blob, and then makes the "load" command evaluate
 * the main script Blob in place of `importScripts(blobUrl)`.
 */
const BOOTSTRAP = `
"use strict";
const { workerData } = require("worker_threads");
Object.assign(globalThis, {
  require$$0: require("fs"), require$$1: require("path"),
  require$$3: require("perf_hooks"), require$$4: require("os"),
  commonjsGlobal: globalThis, __dirname: workerData.dir, __filename: workerData.file,
});
const fail = (err) => {
  process.stderr.write("wasm thread failed: " + (err && err.stack || err) + "\\n");
  process.exit(70);
};
workerData.script.text().then((workerCode) => {
  (0, eval)(workerCode);
  const handle = globalThis.onmessage;
  let queue = Promise.resolve();
  globalThis.onmessage = (event) => {
    queue = queue.then(() => prepare(event)).then(() => handle(event)).catch(fail);
  };
}).catch(fail);
async function prepare(event) {
  const data = event.data;
  if (data.cmd !== "load" || typeof data.urlOrBlob === "string") return;
  const mainCode = await data.urlOrBlob.text();
  const importFile = globalThis.importScripts;
  globalThis.importScripts = (file) =>
    file === "inline:main" ? (0, eval)(mainCode) : importFile(file);
  data.urlOrBlob = "inline:main";
}
`;

/** Directory of the installed wasm package, for the glue's `__dirname` needs. */
let packageDir = "";
/** Errors reported by any pthread worker (a dead worker would hang the pool). */
const threadErrors: string[] = [];

/**
 * A worker_threads.Worker that accepts the `blob:` URL the Emscripten glue
 * builds for its pthread script. Exits or errors are recorded and printed:
 * the thread pool waits forever for a dead worker, so the failure must be loud.
 */
class PthreadWorker extends NodeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    const href = String(url);
    const script = href.startsWith("blob:") ? resolveObjectURL(href) : undefined;
    if (script === undefined) {
      super(url, options);
      return;
    }
    super(BOOTSTRAP, {
      eval: true,
      workerData: { script, dir: packageDir, file: `${packageDir}/pthread.js` },
    });
    this.on("error", (err: Error) => reportThreadFailure(String(err.stack ?? err)));
    // The pool keeps its workers for the life of the process; they must not
    // keep a finished program alive, so `ref()` from the glue is ignored.
    super.unref();
  }

  override ref(): void {
    // Deliberately a no-op; see the constructor.
  }
}

function reportThreadFailure(message: string): void {
  threadErrors.push(message);
  process.stderr.write(`wasm thread failed: ${message}\n`);
}

/** Failures reported by wasm pthread workers since threads were enabled. */
export function wasmThreadErrors(): readonly string[] {
  return threadErrors;
}

/**
 * Make the next `tf.setBackend("wasm")` start the threaded SIMD binary.
 * Must run before the wasm backend initialises. `wasmPackageDir` is the
 * package's dist/ folder.
 */
export function installPthreadWorker(wasmPackageDir: string): void {
  packageDir = wasmPackageDir;
  // The glue assigns worker_threads.Worker to globalThis.Worker while it
  // loads; the setter keeps our class in place.
  Object.defineProperty(globalThis, "Worker", {
    configurable: true,
    get: () => PthreadWorker,
    set: () => undefined,
  });
}
