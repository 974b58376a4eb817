/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm has none).
 *
 * dW[kh, kw, ci, co] = sum over b, oh, ow of
 *   x[b, oh*sh + kh - padTop, ow*sw + kw - padLeft, ci] * dy[b, oh, ow, co].
 * Read with ci as the batch, b as the input channel and dy as the filter, this
 * is one stride-1 forward convolution dilated by the strides, so the fast
 * XNNPACK convolution does all of the arithmetic.
 *
 * Known shortcoming: transposing x and packing dy as a fresh filter on every
 * call cost about as much as the convolution, so on the first stage of the
 * small ResNet this kernel takes about 2.7 times a forward convolution.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { conv2dSignedPads, free, transpose } from "./wasm-ops.js";

/** Kernel config to register for backend "wasm". */
export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) =>
    conv2dBackpropFilter(
      backend as BackendWasm,
      inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo },
      attrs as unknown as tf.Conv2DBackpropFilterAttrs,
    ),
};

function conv2dBackpropFilter(
  backend: BackendWasm,
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo },
  attrs: tf.Conv2DBackpropFilterAttrs,
): tf.TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`wasm Conv2DBackpropFilter supports NHWC only, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { inHeight, inWidth, outHeight, outWidth, padInfo } = info;

  // The last input row/column any output position reads, after padding.
  const lastRow = (outHeight - 1) * strideHeight + filterHeight - 1 - padInfo.top;
  const lastCol = (outWidth - 1) * strideWidth + filterWidth - 1 - padInfo.left;
  const pads = {
    top: padInfo.top,
    bottom: lastRow - (inHeight - 1),
    left: padInfo.left,
    right: lastCol - (inWidth - 1),
  };

  // Input as a batch of channels: [Ci, H, W, B]; dy as a filter: [OH, OW, B, Co].
  const xByChannel = transpose(backend, x, [3, 1, 2, 0]);
  const dyAsFilter = transpose(backend, dy, [1, 2, 0, 3]);

  // [Ci, KH, KW, Co] -> [KH, KW, Ci, Co]
  const byChannel = conv2dSignedPads(
    backend,
    xByChannel,
    dyAsFilter,
    pads,
    [1, 1],
    [strideHeight, strideWidth],
  );
  const dw = transpose(backend, byChannel, [1, 2, 0, 3]);
  free(backend, xByChannel, dyAsFilter, byChannel);
  return dw;
}
