/** wasm memory limits: loud allocation failures and chunk-size guidance. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { setupBackend } from "../../src/backend/index.js";
import {
  guardWasmMemory,
  maxImagesPerChunk,
  WasmMemoryError,
} from "../../src/backend/wasm-memory.js";

test("a malloc that answers 0 becomes a WasmMemoryError", () => {
  const freed: number[] = [];
  const wasm = {
    _malloc: (bytes: number) => (bytes <= 16 ? 8 : 0),
    _free: (address: number) => void freed.push(address),
    HEAPU8: new Uint8Array(64),
  };
  guardWasmMemory({ wasm } as unknown as BackendWasm);
  assert.equal(wasm._malloc(16), 8);
  assert.throws(() => wasm._malloc(1024), WasmMemoryError);
  assert.throws(() => wasm._malloc(1024), /cannot allocate 0 MiB with the heap at 0 MiB/);
});

test("a tensor beyond 4 GiB fails loudly and the backend keeps working", async () => {
  await setupBackend({ force: "wasm", threads: 1 });
  assert.throws(() => tf.zeros([1200, 1024, 1024]), /wasm memory exhausted/);
  const y = tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D,
    tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, "same");
  assert.equal((await y.data())[5], 18);
});

test("chunk guidance fits the measured small ResNet and scales with resolution", () => {
  const images = maxImagesPerChunk();
  assert.ok(images >= 128 && images < 256, `got ${images}`);
  assert.equal(images % 8, 0);
  assert.ok(maxImagesPerChunk({ imageSize: 64 }) <= images / 4);
  assert.equal(maxImagesPerChunk({ bytesPerImage: 2 ** 40 }), 1);
});
