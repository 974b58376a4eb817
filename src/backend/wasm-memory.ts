/**
 * The wasm backend's 32-bit memory: at most 4 GiB, which a training step on
 * a large batch can exhaust. Allocation failures are turned into loud,
 * explanatory errors (with threads on, a failed allocation otherwise leaves
 * the thread pool waiting forever), and a helper sizes the chunks a trainer
 * splits its batch into.
 *
 * Known shortcoming: only allocations made from JavaScript are guarded; memory
 * the C++ kernels request themselves (XNNPACK workspaces) still aborts.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { EncoderConfig } from "../config.js";
import { encoderCost } from "../models/cost.js";

/** Largest wasm32 memory the backend's binaries allow (4 GiB - 64 KiB). */
export const WASM_MEMORY_LIMIT_BYTES = 4294901760;


/**
 * Peak heap bytes per image of one training step of the small ResNet (3
 * stages x 2 basic blocks, widths 32/64/128, 32x32 inputs, forward, backward
 * and Adam) on wasm with the project's kernels: `make bench` saw the heap at
 * 1.56 GiB after steps of 128 images and 3.12 GiB after steps of 256, i.e.
 * about 12.5 MiB per image. ResNet-18 at 128 images (3.55 GiB) matches this
 * scaled by its activations per image.
 */
export const SMALL_RESNET_BYTES_PER_IMAGE = 12.5 * 2 ** 20;

/** Heap the same step needs whatever the batch (weights, Adam state, code). */
const STEP_FIXED_BYTES = 128 * 2 ** 20;

/** Options of maxImagesPerChunk. */
export interface ChunkSizeOptions {
  /** Peak heap bytes per image at 32x32 (default: the small ResNet's). */
  bytesPerImage?: number;
  /** Input side in pixels; activations scale with its square (default 32). */
  imageSize?: number;
  /** Share of the 4 GiB heap to plan for; the rest absorbs fragmentation (0.9). */
  heapShare?: number;
}

/**
 * How many images one forward + backward pass on wasm can take without
 * exhausting its 4 GiB memory, rounded down to a multiple of 8. With the
 * defaults (small ResNet, 32x32) this is 280: measured steps of 256 images
 * fit (3.12 GiB), 512 cannot.
 */
export function maxImagesPerChunk(options: ChunkSizeOptions = {}): number {
  const side = options.imageSize ?? 32;
  const perImage = (options.bytesPerImage ?? SMALL_RESNET_BYTES_PER_IMAGE)
    * (side / 32) ** 2;
  const share = options.heapShare ?? 0.9;
  const budget = WASM_MEMORY_LIMIT_BYTES * share - STEP_FIXED_BYTES;
  const images = Math.floor(budget / perImage / 8) * 8;
  return Math.max(images, 1);
}

/** The encoder SMALL_RESNET_BYTES_PER_IMAGE was measured on, at 32x32. */
const SMALL_RESNET: EncoderConfig = {
  arch: "small", widths: [32, 64, 128], blocks: [2, 2, 2], headHidden: 512, projectionDim: 128,
};

/**
 * maxImagesPerChunk for any encoder and input side: the measured bytes per
 * image of the small ResNet, scaled by how many convolution outputs the
 * encoder has per image against it (ResNet-18 at 32 px: 2.1 times as many).
 */
export function maxImagesPerChunkFor(encoder: EncoderConfig, imageSize: number): number {
  const ratio = encoderCost(encoder, imageSize).activations /
    encoderCost(SMALL_RESNET, 32).activations;
  return maxImagesPerChunk({ bytesPerImage: SMALL_RESNET_BYTES_PER_IMAGE * ratio, imageSize: 32 });
}

/**
 * Chunk size a step of `images` images (all views together) needs on
 * `backend` when none was asked for: null when the whole step fits, which is
 * always the case off wasm.
 */
export function automaticChunkSize(
  backend: string, encoder: EncoderConfig, imageSize: number, images: number,
): number | null {
  if (backend !== "wasm") return null;
  const limit = maxImagesPerChunkFor(encoder, imageSize);
  return images <= limit ? null : limit;
}

/** Thrown when the wasm heap cannot hold an allocation. */
export class WasmMemoryError extends Error {
  override name = "WasmMemoryError";
}

let failure: string | undefined;

/**
 * Wrap the backend's malloc so that a failed allocation throws a
 * WasmMemoryError. tfjs does not check malloc's result: a tensor that did not
 * fit was written over address 0, corrupting the heap, and with threads on the
 * next kernel then hung. If malloc itself traps, every later allocation is
 * refused with the same message.
 */
export function guardWasmMemory(backend: BackendWasm): void {
  const module = backend.wasm as unknown as WasmHeapModule;
  // Emscripten's first call of _malloc replaces Module._malloc with the raw
  // export; make that happen now so that the wrapper below stays in place.
  module._free(module._malloc(16));
  const malloc = module._malloc;
  module._malloc = (bytes: number): number => {
    if (failure !== undefined) throw new WasmMemoryError(failure);
    const heap = module.HEAPU8.length;
    // malloc takes a 32-bit size: larger requests would silently wrap around.
    if (bytes > WASM_MEMORY_LIMIT_BYTES) throw new WasmMemoryError(outOfMemory(bytes, heap));
    let address: number;
    try {
      address = malloc(bytes);
    } catch (err) {
      failure = `${outOfMemory(bytes, heap)} The wasm runtime failed inside malloc ` +
        `(${String(err)}) and cannot be used again in this process.`;
      throw new WasmMemoryError(failure);
    }
    // malloc answers 0 when the heap cannot grow; tfjs would then write the
    // tensor over address 0 and silently corrupt everything below it.
    if (address === 0 && bytes > 0) throw new WasmMemoryError(outOfMemory(bytes, heap));
    return address;
  };
}

function outOfMemory(bytes: number, heap: number): string {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  return `wasm memory exhausted: cannot allocate ${mib(bytes)} with the heap at ` +
    `${mib(heap)} of at most 4 GiB. Use fewer images per step or per chunk ` +
    "(see maxImagesPerChunk), or a native backend.";
}

/** Current size of the wasm heap in bytes, or undefined when wasm is not active. */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== "wasm") return undefined;
  const module = (tf.backend() as BackendWasm).wasm as unknown as WasmHeapModule;
  return module.HEAPU8.length;
}

/** The parts of the Emscripten module this file touches. */
interface WasmHeapModule {
  _malloc: (bytes: number) => number;
  _free: (address: number) => void;
  HEAPU8: Uint8Array;
}
