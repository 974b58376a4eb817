/**
 * Images per second of one training step of a small ResNet on the chosen
 * backend, plus the kernels that dominate it.
 *
 *   npx tsx test/backend/bench/train-step.ts [--stock] [--threads N]
 *     [--backend wasm|cpu] [--batch 128] [--steps 5] [--profile]
 *
 * --stock leaves the stock wasm kernels in place (only the missing filter
 * gradient is added), the "before" of the custom kernels. The model: 3 stages
 * x 2 basic blocks, widths 32/64/128, BatchNorm from batch moments, 32x32
 * inputs, a 128-wide projection and an NT-Xent-style loss, Adam.
 */
import * as tf from "@tensorflow/tfjs-core";
import "../../../src/util/gradients.js";
import { setupBackend, describeBackend } from "../../../src/backend/index.js";
import { registerStockFilterGradient } from "../../../src/backend/wasm-kernels/index.js";
import type { BackendName } from "../../../src/backend/types.js";
import { wasmHeapBytes } from "../../../src/backend/wasm-memory.js";

interface Options {
  stock: boolean;
  threads?: number;
  backend: BackendName;
  batch: number;
  steps: number;
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { stock: false, backend: "wasm", batch: 128, steps: 5,
    profile: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--stock") options.stock = true;
    else if (flag === "--profile") options.profile = true;
    else if (flag === "--threads") (options.threads = Number(value)), i++;
    else if (flag === "--backend") (options.backend = value as BackendName), i++;
    else if (flag === "--batch") (options.batch = Number(value)), i++;
    else if (flag === "--steps") (options.steps = Number(value)), i++;
    else throw new Error(`unknown flag ${flag}`);
  }
  return options;
}

/** Parameters of the small ResNet, all trainable. */
type Params = Map<string, tf.Variable>;

function makeParams(seed: number): Params {
  const params: Params = new Map();
  let counter = seed;
  const conv = (name: string, k: number, cin: number, cout: number): void => {
    const std = Math.sqrt(2 / (k * k * cin));
    params.set(name, tf.variable(tf.randomNormal([k, k, cin, cout], 0, std, "float32",
      counter++)));
  };
  const bn = (name: string, c: number): void => {
    params.set(`${name}.g`, tf.variable(tf.ones([c])));
    params.set(`${name}.b`, tf.variable(tf.zeros([c])));
  };
  conv("stem", 3, 3, 32);
  bn("stem.bn", 32);
  let cin = 32;
  for (const [stage, width] of [32, 64, 128].entries()) {
    for (let block = 0; block < 2; block++) {
      const name = `s${stage}b${block}`;
      conv(`${name}.c1`, 3, cin, width);
      bn(`${name}.bn1`, width);
      conv(`${name}.c2`, 3, width, width);
      bn(`${name}.bn2`, width);
      if (cin !== width) {
        conv(`${name}.sc`, 1, cin, width);
        bn(`${name}.scbn`, width);
      }
      cin = width;
    }
  }
  params.set("proj", tf.variable(tf.randomNormal([128, 128], 0, 0.1, "float32", counter)));
  return params;
}

function batchNorm(x: tf.Tensor4D, p: Params, name: string): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const scale = tf.mul(p.get(`${name}.g`)!, tf.rsqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(tf.sub(x, mean), scale), p.get(`${name}.b`)!) as tf.Tensor4D;
}

function forward(x: tf.Tensor4D, p: Params): tf.Tensor2D {
  const w = (name: string) => p.get(name) as tf.Variable<tf.Rank.R4>;
  let h = tf.relu(batchNorm(tf.conv2d(x, w("stem"), 1, "same"), p, "stem.bn"));
  let cin = 32;
  for (const [stage, width] of [32, 64, 128].entries()) {
    for (let block = 0; block < 2; block++) {
      const name = `s${stage}b${block}`;
      const stride = stage > 0 && block === 0 ? 2 : 1;
      let y = tf.conv2d(h, w(`${name}.c1`), stride, "same");
      y = tf.relu(batchNorm(y, p, `${name}.bn1`));
      y = batchNorm(tf.conv2d(y, w(`${name}.c2`), 1, "same"), p, `${name}.bn2`);
      const shortcut = cin === width ? h
        : batchNorm(tf.conv2d(h, w(`${name}.sc`), stride, "same"), p, `${name}.scbn`);
      h = tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
      cin = width;
    }
  }
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D; // [B, 128]
  return tf.matMul(pooled, p.get("proj") as tf.Variable<tf.Rank.R2>);
}

/** NT-Xent over pairs (i, i + B/2) with temperature 0.5. */
function contrastive(z: tf.Tensor2D): tf.Scalar {
  const n = z.shape[0];
  const unit = tf.div(z, tf.norm(z, "euclidean", 1, true));
  const logits = tf.div(tf.matMul(unit, unit, false, true), 0.5);
  const masked = tf.sub(logits, tf.mul(tf.eye(n), 1e9));
  const half = n / 2;
  const targets = tf.oneHot(
    tf.tensor1d(Array.from({ length: n }, (_, i) => (i + half) % n), "int32"), n);
  return tf.losses.softmaxCrossEntropy(targets, masked) as tf.Scalar;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.stock) registerStockFilterGradient();
  const report = await setupBackend({
    force: options.backend,
    threads: options.threads,
    useCustomKernels: !options.stock,
  });
  console.log(describeBackend(report), options.stock ? "(stock kernels)" : "");

  const params = makeParams(1);
  const variables = [...params.values()];
  const optimizer = tf.train.adam(1e-3);
  const images = tf.randomUniform([options.batch, 32, 32, 3], 0, 1, "float32", 7);
  const step = async (): Promise<number> => {
    const loss = optimizer.minimize(
      () => contrastive(forward(images as tf.Tensor4D, params)), true, variables);
    const value = (await loss!.data())[0];
    loss!.dispose();
    return value;
  };

  // One warm-up step (XNNPACK operator creation, memory growth).
  await step();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let loss = 0;
  for (let i = 0; i < options.steps; i++) loss = await step();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const imageCount = options.batch * options.steps;
  // CPU seconds are far less sensitive than wall time to other load on the
  // machine; with n threads the best case is n CPU seconds per wall second.
  console.log(`${(imageCount / seconds).toFixed(1)} img/s wall, ` +
    `${(imageCount / cpuSeconds).toFixed(1)} img per CPU-second ` +
    `(${options.steps} steps of ${options.batch}, ` +
    `${(seconds / options.steps).toFixed(2)} s/step, loss ${loss.toFixed(4)})`);

  const heap = wasmHeapBytes();
  if (heap !== undefined) {
    console.log(`wasm heap after the steps: ${(heap / 2 ** 20).toFixed(0)} MiB`);
  }
  if (options.profile) await profileStep(step);
}

/** Per-kernel time of one step, largest first. */
async function profileStep(step: () => Promise<number>): Promise<void> {
  const info = await tf.profile(step);
  const byKernel = new Map<string, number>();
  for (const kernel of info.kernels) {
    const ms = typeof kernel.kernelTimeMs === "number" ? kernel.kernelTimeMs : 0;
    byKernel.set(kernel.name, (byKernel.get(kernel.name) ?? 0) + ms);
  }
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  const rows = [...byKernel.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log(`kernel time in one step: ${total.toFixed(0)} ms`);
  for (const [name, ms] of rows) {
    console.log(`  ${name.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms ` +
      `${((100 * ms) / total).toFixed(1).padStart(5)} %`);
  }
}

await main();
