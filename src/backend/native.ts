/**
 * The native TensorFlow backends. "native" is tfjs-node's addon compiled by
 * `make native` against the TensorFlow C library from the `tensorflow` wheel
 * (see native/README.md); "native-gpu" is the official @tensorflow/tfjs-node-gpu
 * when it is installed, else that same addon on a machine where TensorFlow
 * finds a CUDA GPU. Both register the backend "tensorflow" in the project's
 * own @tensorflow/tfjs-core; the caller then runs `tf.setBackend("tensorflow")`.
 */
import * as tf from "@tensorflow/tfjs-core";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Which native build to load. */
export type NativeKind = "native" | "native-gpu";

/** The name the backend is registered under, as in tfjs-node. */
export const NATIVE_BACKEND_NAME = "tensorflow";

/** Where `make native` puts its outputs (ignored by git). */
export const NATIVE_BUILD_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)), "..", "..", "native", "build");

// Below tfjs-core's own backends (cpu 1, wasm 2) so that registering the
// backend never changes which one tfjs-core picks by itself.
const REGISTRY_PRIORITY = 0;

/** The few members of tfjs-node's addon that the loader reads itself. */
interface TfjsBinding {
  TF_Version: string;
  isUsingGpuDevice(): boolean;
}

/** The backend class exported by tfjs-node's nodejs_kernel_backend.js. */
type BackendClass = new (binding: TfjsBinding, packageName: string) => tf.KernelBackend;

let loadedKind: NativeKind | undefined;

/**
 * Registers the native backend "tensorflow" in tfjs-core and initialises it.
 * Calling it again with the same kind does nothing; TensorFlow can be loaded
 * once per process, so another kind afterwards throws.
 * @throws Error saying why the backend cannot run and what to do about it.
 */
export async function loadNative(kind: NativeKind): Promise<void> {
  if (loadedKind !== undefined) {
    if (loadedKind === kind) return;
    throw new Error(`cannot load the ${kind} backend: the ${loadedKind} backend ` +
      "is already loaded in this process and TensorFlow loads only once");
  }
  if (kind === "native-gpu" && resolvePackage("@tensorflow/tfjs-node-gpu")) {
    await loadOfficialGpuPackage();
  } else {
    registerWheelBuild(kind);
  }
  loadedKind = kind;
}

/** The TensorFlow version inside the loaded native backend, else undefined. */
export function nativeTensorflowVersion(): string | undefined {
  const backend = loadedKind && tf.findBackend(NATIVE_BACKEND_NAME);
  const binding = backend && (backend as unknown as { binding?: TfjsBinding }).binding;
  return binding?.TF_Version;
}

/** Loads the addon built by `make native` and registers its backend. */
function registerWheelBuild(kind: NativeKind): void {
  const addonPath = join(NATIVE_BUILD_DIR, "lib", "tfjs_binding.node");
  const distDir = join(NATIVE_BUILD_DIR, "js", "node_modules", "@tensorflow",
    "tfjs-node", "dist");
  if (kind === "native-gpu" && !existsSync("/dev/nvidiactl")) {
    throw new Error("native-gpu backend: no NVIDIA driver on this machine " +
      "(/dev/nvidiactl is missing); use the native backend instead");
  }
  if (!existsSync(addonPath) || !existsSync(join(distDir, "index.js"))) {
    const gpuHint = kind === "native-gpu"
      ? " (or install @tensorflow/tfjs-node-gpu)" : "";
    throw new Error(`${kind} backend not built: run \`make native\`${gpuHint} ` +
      `(expected ${addonPath})`);
  }
  quietTensorflowLogs(kind);
  if (kind === "native") {
    // The wheel's library is built with CUDA support; hiding the GPUs keeps
    // "native" on the CPU, so that results are recorded under the right name.
    process.env.CUDA_VISIBLE_DEVICES = "-1";
  }

  // tfjs-node's modules import everything from "@tensorflow/tfjs", which the
  // build resolves to a stand-in for the project's tfjs-core: check that it did.
  const requireFromDist = createRequire(join(distDir, "index.js"));
  const core = requireFromDist("@tensorflow/tfjs") as { engine?: unknown };
  if (core.engine !== tf.engine) {
    throw new Error(`${kind} backend: ${distDir} does not see the project's ` +
      "@tensorflow/tfjs-core (a second copy would not work): rerun `make native`");
  }

  let binding: TfjsBinding;
  try {
    binding = requireFromDist(addonPath) as TfjsBinding;
  } catch (err) {
    throw new Error(`${kind} backend: ${addonPath} failed to load ` +
      `(${firstLine(err)}); rebuild it with \`make native\``);
  }
  const { NodeJSKernelBackend } = requireFromDist("./nodejs_kernel_backend.js") as {
    NodeJSKernelBackend: BackendClass;
  };
  requireFromDist("./register_all_kernels.js");

  const packageName = kind === "native-gpu"
    ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  tf.registerBackend(NATIVE_BACKEND_NAME,
    () => new NodeJSKernelBackend(binding, packageName), REGISTRY_PRIORITY);
  initialise(kind);
  if (kind === "native-gpu" && !binding.isUsingGpuDevice()) {
    tf.removeBackend(NATIVE_BACKEND_NAME);
    throw new Error("native-gpu backend: TensorFlow " + binding.TF_Version +
      " found no usable GPU; it needs CUDA 12 and cuDNN 9 libraries on the " +
      "library path (see native/README.md, GPU section)");
  }
}

/** Loads the official tfjs-node-gpu package, which registers its own backend. */
async function loadOfficialGpuPackage(): Promise<void> {
  try {
    await import("@tensorflow/tfjs-node-gpu" as string);
  } catch (err) {
    throw new Error("native-gpu backend: @tensorflow/tfjs-node-gpu is installed " +
      `but failed to load (${firstLine(err)})`);
  }
  if (tf.findBackend(NATIVE_BACKEND_NAME) === null) {
    throw new Error("native-gpu backend: @tensorflow/tfjs-node-gpu loaded but " +
      "registered no backend in the project's @tensorflow/tfjs-core (it uses " +
      "another copy of tfjs-core: its version must be 4.22.0)");
  }
}

/** Creates the backend now, so that a broken library fails here. */
function initialise(kind: NativeKind): void {
  let backend: tf.KernelBackend | null = null;
  const warnings: string[] = [];
  const warn = console.warn;
  // tfjs-core reports a failing backend factory through console.warn only.
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  try {
    backend = tf.findBackend(NATIVE_BACKEND_NAME);
  } finally {
    console.warn = warn;
  }
  if (backend === null) {
    tf.removeBackend(NATIVE_BACKEND_NAME);
    const reason = warnings.at(-1)?.split("\n")[0] ?? "tfjs-core could not create it";
    throw new Error(`${kind} backend failed to start: ${reason}`);
  }
}

/**
 * TensorFlow logs from C++ straight to stderr. On a CPU-only machine its CUDA
 * probe prints an error line at every start, so "native" hides all of its log
 * below FATAL (failing ops still surface as exceptions); "native-gpu" keeps
 * warnings, which explain missing CUDA libraries. A value set by the user wins.
 */
function quietTensorflowLogs(kind: NativeKind): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= kind === "native" ? "3" : "1";
}

/** Whether a package resolves from this module. */
function resolvePackage(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
