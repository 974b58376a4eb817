/**
 * Custom wasm kernels that make training fast on CPU. Registering replaces
 * stock kernels of the same name for backend "wasm".
 */
import * as tf from "@tensorflow/tfjs-core";
import { conv2dBackpropFilterConfig } from "./conv2d-backprop-filter.js";
import { conv2dBackpropInputConfig } from "./conv2d-backprop-input.js";
import { identityConfig } from "./identity.js";
import { meanConfig, sumConfig } from "./reductions.js";
import { captureStockKernel } from "./wasm-ops.js";

/** Every kernel this module provides, by name. */
export const wasmTrainingKernels: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  sumConfig,
  meanConfig,
  identityConfig,
];

/** Stock kernels the custom ones call (captured before anything replaces them). */
const STOCK_DEPENDENCIES = [
  "Conv2D", "Transpose", "Slice", "Identity", "Sum", "Mean", "BatchMatMul",
];

let registered = false;

/**
 * Register the custom kernels for backend "wasm" (idempotent). Call after
 * importing @tensorflow/tfjs-backend-wasm and before training.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const name of STOCK_DEPENDENCIES) captureStockKernel(name);
  for (const config of wasmTrainingKernels) {
    const stock = tf.getKernel(config.kernelName, "wasm");
    if (stock === undefined) {
      tf.registerKernel(config);
      continue;
    }
    // The stock setup binds the wasm functions our fallbacks call into.
    tf.unregisterKernel(config.kernelName, "wasm");
    const { setupFunc, disposeFunc } = stock;
    tf.registerKernel({ ...config, setupFunc, disposeFunc });
  }
  registered = true;
}

/**
 * Register only the filter gradient, leaving every stock wasm kernel in place:
 * the minimum that lets stock wasm train, kept to measure what the others buy.
 */
export function registerStockFilterGradient(): void {
  for (const name of STOCK_DEPENDENCIES) captureStockKernel(name);
  if (tf.getKernel(conv2dBackpropFilterConfig.kernelName, "wasm") === undefined) {
    tf.registerKernel(conv2dBackpropFilterConfig);
  }
}
