/**
 * Identity for the wasm backend without a copy. The stock kernel copies the
 * whole buffer, and the gradient tape and optimizers call Identity on every
 * large activation gradient; tensors are immutable, so sharing the buffer
 * (as Reshape already does) is safe.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runStock } from "./wasm-ops.js";

/** Identity kernel config for backend "wasm". */
export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend }) => {
    const wasm = backend as BackendWasm;
    const x = inputs.x as tf.TensorInfo;
    // Strings live outside wasm memory; the stock kernel handles them.
    if (x.dtype === "string") return runStock(wasm, "Identity", inputs);
    wasm.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};
