/** wasm memory limits: loud allocation failures and chunk-size guidance. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { setupBackend } from "../../src/backend/index.js";
import {
  automaticChunkSize,
  guardWasmMemory,
  maxImagesPerChunk,
  maxImagesPerChunkFor,
  WasmMemoryError,
} from "../../src/backend/wasm-memory.js";
import { encoderPresets, withStem } from "../../src/models/encoder.js";

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
  // measured: 256 images of the small ResNet fit (3.12 GiB of heap); 320
  // would need about 3.9 GiB, too close to the limit
  const images = maxImagesPerChunk();
  assert.ok(images >= 256 && images < 320, `got ${images}`);
  assert.equal(images % 8, 0);
  assert.ok(maxImagesPerChunk({ imageSize: 64 }) <= images / 4);
  assert.equal(maxImagesPerChunk({ bytesPerImage: 2 ** 40 }), 1);
});

test("automatic chunks: only on wasm, only when the step does not fit", () => {
  const { small, resnet18, resnet50 } = encoderPresets;
  // the small ResNet is the measured reference: its guidance is unchanged
  assert.equal(maxImagesPerChunkFor(small, 32), maxImagesPerChunk());
  assert.equal(automaticChunkSize("wasm", small, 32, 256), null);
  assert.equal(automaticChunkSize("wasm", small, 32, 512), maxImagesPerChunk());
  assert.equal(automaticChunkSize("tensorflow", small, 32, 100_000), null);
  assert.equal(automaticChunkSize("cpu", resnet50, 224, 512), null);

  // ResNet-18 holds about twice the activations per image: 128 images fit
  // (measured: 3.55 GiB of heap), 256 do not (they exhausted the heap)
  assert.equal(automaticChunkSize("wasm", resnet18, 32, 128), null);
  const r18 = automaticChunkSize("wasm", resnet18, 32, 256);
  assert.ok(r18 !== null && r18 >= 96 && r18 <= 128 && r18 % 8 === 0, `got ${r18}`);

  // ImageNet-size inputs through the ImageNet stem still get a usable chunk
  const r50 = automaticChunkSize("wasm", withStem(resnet50, "imagenet"), 224, 512);
  assert.ok(r50 !== null && r50 >= 1 && r50 < 64, `got ${r50}`);
});
