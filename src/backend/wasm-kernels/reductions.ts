/**
 * Sum and Mean over a run of consecutive axes that are not the last one,
 * for the wasm backend.
 *
 * The stock kernels first transpose the reduced axes to the end, which costs
 * more than the sum itself. Training hits exactly these cases: BatchNorm
 * statistics and broadcast gradients reduce over [0, 1, 2] of NHWC tensors,
 * global average pooling over [1, 2]. Viewing x as [outer, reduced, inner],
 * one sequential pass adds rows of `inner` values. Other reductions go to the
 * stock kernels.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { free, reshape, runStock } from "./wasm-ops.js";

/** Sum kernel config for backend "wasm". */
export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) =>
    reduce(backend as BackendWasm, "Sum", inputs, attrs as unknown as tf.SumAttrs),
};

/** Mean kernel config for backend "wasm". */
export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) =>
    reduce(backend as BackendWasm, "Mean", inputs, attrs as unknown as tf.MeanAttrs),
};

function reduce(
  backend: BackendWasm,
  kind: "Sum" | "Mean",
  inputs: tf.NamedTensorInfoMap,
  attrs: { axis: number | number[]; keepDims: boolean },
): tf.TensorInfo {
  const x = inputs.x as tf.TensorInfo;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const consecutive = axes.every((axis, i) => i === 0 || axis === axes[i - 1] + 1);
  const fast = x.dtype === "float32" && axes.length > 0 && consecutive
    && axes[axes.length - 1] < rank - 1;
  if (!fast) return runStock(backend, kind, inputs, attrs as unknown as tf.NamedAttrMap);

  // x as [outer, reduced, inner] -> out [outer, inner]
  const first = axes[0];
  const last = axes[axes.length - 1];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
  const reduced = tf.util.sizeFromShape(x.shape.slice(first, last + 1));
  const inner = tf.util.sizeFromShape(x.shape.slice(last + 1));
  const outShape = attrs.keepDims
    ? x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size))
    : x.shape.filter((_, axis) => !axes.includes(axis));
  // [outer, reduced, inner]^T x [1, reduced, 1]: XNNPACK does the adding, and
  // with x as the transposed left operand only the ones column is packed.
  const weight = kind === "Mean" ? 1 / reduced : 1;
  const column = backend.makeOutput([1, reduced, 1], "float32");
  backend.typedArrayFromHeap(column).fill(weight);
  const view = reshape(backend, x, [outer, reduced, inner]);
  const product = runStock(backend, "BatchMatMul", { a: view, b: column },
    { transposeA: true, transposeB: false });
  free(backend, column, view);
  const out = reshape(backend, product, outShape);
  free(backend, product);
  return out;
}
