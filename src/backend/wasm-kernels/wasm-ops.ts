/**
 * Small building blocks for the custom wasm kernels: calls into the stock wasm
 * kernels on raw TensorInfos (no tape, no tidy), plus helpers to free them.
 * Every function returns a new TensorInfo the caller must release with `free`.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** Four signed pads (top, bottom, left, right); negative values crop. */
export interface SignedPads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Stock kernel functions, captured before any of ours replace them. */
const stockKernels = new Map<string, tf.KernelFunc>();

/** Remember the stock wasm kernel `name` so later calls reach it directly. */
export function captureStockKernel(name: string): void {
  if (stockKernels.has(name)) return;
  const config = tf.getKernel(name, "wasm");
  if (config === undefined) {
    throw new Error(`the wasm backend has no '${name}' kernel to build on`);
  }
  stockKernels.set(name, config.kernelFunc);
}

/** Run a stock wasm kernel on TensorInfos. */
export function runStock(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  captureStockKernel(name);
  const kernel = stockKernels.get(name) as tf.KernelFunc;
  return kernel({ inputs, backend, attrs }) as tf.TensorInfo;
}

/** Release TensorInfos made by these helpers. */
export function free(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A view of `x` with another shape (shares the buffer, like stock Reshape). */
export function reshape(
  backend: BackendWasm,
  x: tf.TensorInfo,
  shape: number[],
): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** Permute the axes of `x` (a copy). */
export function transpose(
  backend: BackendWasm,
  x: tf.TensorInfo,
  perm: number[],
): tf.TensorInfo {
  return runStock(backend, "Transpose", { x }, { perm });
}

/**
 * Stride-1-or-more NHWC convolution with signed pads: positive pads add zeros,
 * negative pads crop rows/columns of `x` before the convolution.
 * x: [B, H, W, Ci], filter: [KH, KW, Ci, Co] -> [B, OH, OW, Co].
 */
export function conv2dSignedPads(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pads: SignedPads,
  strides: [number, number],
  dilations: [number, number],
): tf.TensorInfo {
  const cropped = cropNegativePads(backend, x, pads);
  const explicit: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [Math.max(pads.top, 0), Math.max(pads.bottom, 0)],
    [Math.max(pads.left, 0), Math.max(pads.right, 0)],
    [0, 0],
  ];
  const attrs = { strides, dilations, pad: explicit, dataFormat: "NHWC" };
  const out = runStock(backend, "Conv2D", { x: cropped, filter }, attrs);
  if (cropped !== x) free(backend, cropped);
  return out;
}

/** Slice away the rows/columns that negative pads remove; `x` itself if none. */
function cropNegativePads(
  backend: BackendWasm,
  x: tf.TensorInfo,
  pads: SignedPads,
): tf.TensorInfo {
  const [batch, height, width, channels] = x.shape;
  const top = Math.max(-pads.top, 0);
  const bottom = Math.max(-pads.bottom, 0);
  const left = Math.max(-pads.left, 0);
  const right = Math.max(-pads.right, 0);
  if (top + bottom + left + right === 0) return x;
  const size = [batch, height - top - bottom, width - left - right, channels];
  if (size[1] <= 0 || size[2] <= 0) {
    const described = JSON.stringify(pads);
    throw new Error(`conv2dSignedPads: pads ${described} crop all of ${x.shape}`);
  }
  return runStock(backend, "Slice", { x }, { begin: [0, top, left, 0], size });
}

/** A float32 output filled with zeros (wasm memory is not cleared by malloc). */
export function zeros(backend: BackendWasm, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, "float32");
  backend.typedArrayFromHeap(out).fill(0);
  return out;
}
