/**
 * Times training steps of a small ResNet on the native backend and prints one
 * JSON line. The model and loss match native/bench_torch.py exactly:
 *   stem 3x3 conv (32) + BN + ReLU; three stages of two basic blocks, widths
 *   32/64/128, stride 2 (with a 1x1 projection shortcut) at stages 2 and 3;
 *   global average pool; MLP head 128-128-128; NT-Xent (temperature 0.5) over
 *   BATCH images = BATCH/2 positive pairs; Adam, lr 1e-3.
 * Usage: npx tsx native/bench_tfjs.ts [batch] [timed steps]
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  NATIVE_BACKEND_NAME, NATIVE_BUILD_DIR, loadNative,
} from "../src/backend/native.js";
import { Rng } from "../src/util/rng.js";

const BATCH = Number(process.argv[2] ?? 128);
const TIMED_STEPS = Number(process.argv[3] ?? 8);
const WARMUP_STEPS = 2;
const TEMPERATURE = 0.5;

await loadNative("native");
await tf.setBackend(NATIVE_BACKEND_NAME);
if (!tf.getGradient(tf.Conv2D)) {
  createRequire(import.meta.url)(join(NATIVE_BUILD_DIR, "js", "gradients.cjs"));
}
const rng = new Rng(1);
const params: tf.Variable[] = [];

/** He-normal weights, as torch's kaiming_normal_ (fan_in, relu gain). */
function weight(shape: number[], fanIn: number): tf.Variable {
  const std = Math.sqrt(2 / fanIn);
  const size = shape.reduce((a, b) => a * b);
  const v = tf.variable(tf.tensor(
    Float32Array.from({ length: size }, () => rng.normal() * std), shape));
  params.push(v);
  return v;
}

function constant(shape: number[], value: number): tf.Variable {
  const v = tf.variable(tf.fill(shape, value));
  params.push(v);
  return v;
}

type Layer = (x: tf.Tensor4D) => tf.Tensor4D;

function conv(cin: number, cout: number, k: number, stride: number): Layer {
  const w = weight([k, k, cin, cout], k * k * cin);
  return (x) => tf.conv2d(x, w as tf.Tensor4D, stride, "same");
}

/** Training-mode batch norm: batch statistics over N, H, W. */
function batchNorm(channels: number): Layer {
  const gamma = constant([channels], 1);
  const beta = constant([channels], 0);
  return (x) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))),
      gamma), beta) as tf.Tensor4D;
  };
}

function basicBlock(cin: number, cout: number, stride: number): Layer {
  const conv1 = conv(cin, cout, 3, stride);
  const bn1 = batchNorm(cout);
  const conv2 = conv(cout, cout, 3, 1);
  const bn2 = batchNorm(cout);
  const project = stride !== 1 || cin !== cout;
  const shortcut = project ? conv(cin, cout, 1, stride) : undefined;
  const bnShortcut = project ? batchNorm(cout) : undefined;
  return (x) => {
    const h = bn2(conv2(tf.relu(bn1(conv1(x)))));
    const skip = shortcut && bnShortcut ? bnShortcut(shortcut(x)) : x;
    return tf.relu(tf.add(h, skip));
  };
}

function dense(cin: number, cout: number): (x: tf.Tensor2D) => tf.Tensor2D {
  const w = weight([cin, cout], cin);
  const b = constant([cout], 0);
  return (x) => tf.add(tf.matMul(x, w as tf.Tensor2D), b);
}

// model
const stem = conv(3, 32, 3, 1);
const stemBn = batchNorm(32);
const blocks = [
  basicBlock(32, 32, 1), basicBlock(32, 32, 1),
  basicBlock(32, 64, 2), basicBlock(64, 64, 1),
  basicBlock(64, 128, 2), basicBlock(128, 128, 1),
];
const head1 = dense(128, 128);
const head2 = dense(128, 128);

function embed(x: tf.Tensor4D): tf.Tensor2D {
  let h = tf.relu(stemBn(stem(x)));                   // [B,32,32,32]
  for (const block of blocks) h = block(h);           // [B,8,8,128]
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;   // [B,128]
  return head2(tf.relu(head1(pooled)));               // [B,128]
}

/** NT-Xent: rows 2i and 2i+1 are a positive pair; the other 2N-2 are negatives. */
function ntXent(z: tf.Tensor2D): tf.Scalar {
  const n = z.shape[0];
  const unit = tf.div(z, tf.norm(z, 2, 1, true));
  const selfMask = tf.mul(tf.eye(n), -1e9);
  const logits = tf.add(tf.div(tf.matMul(unit, unit, false, true), TEMPERATURE),
    selfMask);                                        // [B,B]
  const partner = tf.tensor1d(
    Int32Array.from({ length: n }, (_, i) => i ^ 1), "int32");
  const positive = tf.sum(tf.mul(logits, tf.oneHot(partner, n)), 1);
  return tf.mean(tf.sub(tf.logSumExp(logits, 1), positive)) as tf.Scalar;
}

const images = tf.randomUniform([BATCH, 32, 32, 3], 0, 1, "float32", 3) as tf.Tensor4D;
const optimizer = tf.train.adam(1e-3);
const paramCount = params.reduce((sum, p) => sum + p.size, 0);

const times: number[] = [];
let cpuSeconds = 0; // user + system time of all threads over the timed steps
let loss = NaN;
for (let step = 0; step < WARMUP_STEPS + TIMED_STEPS; step++) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const { value, grads } = tf.variableGrads(() => ntXent(embed(images)));
  optimizer.applyGradients(
    Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  if (step >= WARMUP_STEPS) {
    times.push((performance.now() - start) / 1000);
    const cpu = process.cpuUsage(cpuStart);
    cpuSeconds += (cpu.user + cpu.system) / 1e6;
  }
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(JSON.stringify({
  side: "tfjs-native", batch: BATCH, params: paramCount, steps: TIMED_STEPS,
  median_step_s: median, img_per_s: BATCH / median,
  img_per_cpu_s: (BATCH * TIMED_STEPS) / cpuSeconds, last_loss: loss,
}));
