/**
 * Times the kNN monitor on random features: every engine on the cpu and wasm
 * backends. Usage:
 *   npx tsx test/eval/knn.bench.ts [queries=10000] [bank=50000] [dims=128,512]
 *     [runs=cpu:tfjs,cpu:js,wasm:tfjs,wasm:js]
 * A run "backend:engine" may carry "@queries" to time fewer queries (the time
 * per query does not depend on the query count), e.g. cpu:tfjs@500.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { knnAccuracy, type KnnEngine } from "../../src/eval/knn.js";
import { Rng } from "../../src/util/rng.js";

const queries = Number(process.argv[2] ?? 10000);
const bankSize = Number(process.argv[3] ?? 50000);
const dims = (process.argv[4] ?? "128,512").split(",").map(Number);
const runs = (process.argv[5] ?? "cpu:tfjs,cpu:js,wasm:tfjs,wasm:js").split(",");
const classes = 10;

/** Random features with a weak class signal, so the accuracy is not trivial. */
function features(rows: number, dim: number, rng: Rng): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(rows * dim);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = rng.int(classes);
    for (let d = 0; d < dim; d++) x[r * dim + d] = rng.normal();
    x[r * dim + y[r]] += 3;
  }
  return { x, y };
}

for (const dim of dims) {
  const rng = new Rng(1);
  const bank = features(bankSize, dim, rng);
  const test = features(queries, dim, rng);
  for (const run of runs) {
    const [spec, limit] = run.split("@");
    const [backend, engine] = spec.split(":");
    await tf.setBackend(backend);
    await tf.ready();
    const n = Math.min(queries, Number(limit ?? queries));
    const q = test.x.subarray(0, n * dim);
    const qy = test.y.subarray(0, n);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const result = knnAccuracy(bank.x, bank.y, q, qy, dim, {
      k: 200,
      temperature: 0.5,
      classes,
      engine: engine as KnnEngine,
    });
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const full = (seconds * queries) / n;
    const fullCpu = (cpuSeconds * queries) / n;
    console.log(
      `${dim}-d bank ${bankSize} ${backend}/${engine}: ${n} queries in ` +
        `${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s cpu` +
        (n < queries
          ? ` (scaled to ${queries}: ${full.toFixed(1)} s wall, ${fullCpu.toFixed(1)} s cpu)`
          : "") +
        ` top1 ${result.top1.toFixed(2)} top5 ${result.top5.toFixed(2)}`,
    );
  }
}
