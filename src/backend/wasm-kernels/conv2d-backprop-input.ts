/**
 * Conv2DBackpropInput for the wasm backend, replacing the stock kernel (a
 * plain loop nest in C++) with forward XNNPACK convolutions.
 *
 * Along one axis with stride s, input row h = p + s*i (phase p in [0, s)) only
 * receives filter taps k = r + s*m with r = (p + padTop) mod s, from output row
 * oh = i + q - m with q = floor((p + padTop) / s). So each phase is a stride-1
 * convolution of dy with the flipped sub-filter of those taps; stride 1 is the
 * single-phase case. Phases are interleaved into dx at the end.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { conv2dSignedPads, free, zeros } from "./wasm-ops.js";

/** Kernel config to register for backend "wasm". */
export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) =>
    conv2dBackpropInput(
      backend as BackendWasm,
      inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo },
      attrs as unknown as tf.Conv2DBackpropInputAttrs,
    ),
};

/** Taps of one phase along one axis. */
interface AxisPhase {
  /** First input index of the phase (p). */
  start: number;
  /** Input indices in the phase: ceil((size - p) / s). */
  count: number;
  /** Filter taps, in the order the flipped sub-filter uses them. */
  taps: number[];
  /** Signed pads before/after dy for the stride-1 convolution. */
  padBefore: number;
  padAfter: number;
}

function conv2dBackpropInput(
  backend: BackendWasm,
  inputs: { dy: tf.TensorInfo; filter: tf.TensorInfo },
  attrs: tf.Conv2DBackpropInputAttrs,
): tf.TensorInfo {
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`wasm Conv2DBackpropInput supports NHWC only, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const rows = axisPhases(inHeight, outHeight, info.filterHeight, info.strideHeight,
    info.padInfo.top);
  const cols = axisPhases(inWidth, outWidth, info.filterWidth, info.strideWidth,
    info.padInfo.left);

  // A copy, because later allocations may grow (and detach) wasm memory.
  const filterCopy = (backend.typedArrayFromHeap(filter) as Float32Array).slice();

  // Stride 1: one phase, whose convolution output is dx itself.
  if (rows.length === 1 && cols.length === 1 && info.strideHeight === 1
    && info.strideWidth === 1) {
    return phaseConvolution(backend, dy, filterCopy, filter.shape, rows[0], cols[0]);
  }

  // One stride-1 convolution per (row phase, column phase) with any taps.
  const dx = zeros(backend, [batchSize, inHeight, inWidth, inChannels]);
  for (const row of rows) {
    for (const col of cols) {
      if (row.taps.length === 0 || col.taps.length === 0) continue;
      if (row.count === 0 || col.count === 0) continue;
      const part = phaseConvolution(backend, dy, filterCopy, filter.shape, row, col);
      scatterPhase(backend, part, dx, row, col, info.strideHeight, info.strideWidth);
      free(backend, part);
    }
  }
  return dx;
}

/** dx at one (row, column) phase: [B, row.count, col.count, Ci]. */
function phaseConvolution(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filterValues: Float32Array,
  filterShape: number[],
  row: AxisPhase,
  col: AxisPhase,
): tf.TensorInfo {
  const sub = subFilter(backend, filterValues, filterShape, row.taps, col.taps);
  const pads = {
    top: row.padBefore,
    bottom: row.padAfter,
    left: col.padBefore,
    right: col.padAfter,
  };
  const part = conv2dSignedPads(backend, dy, sub, pads, [1, 1], [1, 1]);
  free(backend, sub);
  return part;
}

/** Phases of one spatial axis (see the file comment for the algebra). */
function axisPhases(
  inSize: number,
  outSize: number,
  filterSize: number,
  stride: number,
  padBefore: number,
): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let p = 0; p < Math.min(stride, inSize); p++) {
    const r = (p + padBefore) % stride;
    const q = Math.floor((p + padBefore) / stride);
    const tapCount = r < filterSize ? Math.ceil((filterSize - r) / stride) : 0;
    const count = Math.ceil((inSize - p) / stride);
    // Flipped order: sub-filter position m' holds tap r + s * (M - 1 - m').
    const taps: number[] = [];
    for (let m = tapCount - 1; m >= 0; m--) taps.push(r + stride * m);
    const before = tapCount - 1 - q;
    const after = count + tapCount - 1 - outSize - before;
    phases.push({ start: p, count, taps, padBefore: before, padAfter: after });
  }
  return phases;
}

/**
 * Flipped, channel-swapped sub-filter: [KH, KW, Ci, Co] values at the given
 * taps -> [rowTaps, colTaps, Co, Ci].
 */
function subFilter(
  backend: BackendWasm,
  values: Float32Array,
  shape: number[],
  rowTaps: number[],
  colTaps: number[],
): tf.TensorInfo {
  const [, width, inChannels, outChannels] = shape;
  const out = backend.makeOutput(
    [rowTaps.length, colTaps.length, outChannels, inChannels],
    "float32",
  );
  const target = backend.typedArrayFromHeap(out) as Float32Array;
  let offset = 0;
  for (const kh of rowTaps) {
    for (const kw of colTaps) {
      const base = (kh * width + kw) * inChannels * outChannels;
      for (let co = 0; co < outChannels; co++) {
        for (let ci = 0; ci < inChannels; ci++) {
          target[offset++] = values[base + ci * outChannels + co];
        }
      }
    }
  }
  return out;
}

/** Copy phase result [B, rows.count, cols.count, C] into its places in dx. */
function scatterPhase(
  backend: BackendWasm,
  part: tf.TensorInfo,
  dx: tf.TensorInfo,
  row: AxisPhase,
  col: AxisPhase,
  strideHeight: number,
  strideWidth: number,
): void {
  const [batch, height, width, channels] = dx.shape;
  const source = backend.typedArrayFromHeap(part) as Float32Array;
  const target = backend.typedArrayFromHeap(dx) as Float32Array;

  let from = 0;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < row.count; i++) {
      const h = row.start + strideHeight * i;
      let to = ((b * height + h) * width + col.start) * channels;
      for (let j = 0; j < col.count; j++) {
        target.set(source.subarray(from, from + channels), to);
        from += channels;
        to += strideWidth * channels;
      }
    }
  }
}
