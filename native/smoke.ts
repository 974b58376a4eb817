/**
 * One-line check that the native backend built by native/build.sh computes:
 * a matmul and the gradient of a strided conv2d, printed with the library's
 * TensorFlow version. Exits non-zero on any failure.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  NATIVE_BACKEND_NAME, NATIVE_BUILD_DIR, loadNative, nativeTensorflowVersion,
} from "../src/backend/native.js";

await loadNative("native");
await tf.setBackend(NATIVE_BACKEND_NAME);
if (!tf.getGradient(tf.Conv2D)) {
  createRequire(import.meta.url)(join(NATIVE_BUILD_DIR, "js", "gradients.cjs"));
}

// [4,5] x [5,3] of ones: every entry is 5
const product = tf.matMul(tf.ones([4, 5]), tf.ones([5, 3]));
const productSum = tf.sum(product).dataSync()[0];

// d/dw sum(conv2d(x, w)) for all-ones x [1,4,4,1], w [3,3,1,1], stride 2, same:
// each filter tap counts the 2x2 outputs whose window puts it on a real pixel;
// "same" pads one row and column at the bottom and right, which the last tap
// row and column reach for the second output row and column

const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
const gradW = tf.grad((w: tf.Tensor) =>
  tf.sum(tf.conv2d(x, w as tf.Tensor4D, 2, "same")))(tf.ones([3, 3, 1, 1]));
const taps = Array.from(gradW.dataSync());
const expected = [4, 4, 2, 4, 4, 2, 2, 2, 1];

const ok = productSum === 60 && taps.every((v, i) => v === expected[i]);
console.log(`native smoke ${ok ? "ok" : "FAILED"}: TensorFlow ` +
  `${nativeTensorflowVersion()}, backend ${tf.getBackend()}, matmul sum ` +
  `${productSum} (60), conv2d filter gradient ${taps.join(",")} ` +
  `(${expected.join(",")})`);
process.exitCode = ok ? 0 : 1;
