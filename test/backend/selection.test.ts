/**
 * Backend selection: forcing, fallbacks and their reasons, thread counts,
 * idempotence. Cases that need a fresh process run the fixture script.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "../../src/util/gradients.js";
import {
  BACKEND_ORDER,
  describeBackend,
  setupBackend,
  type BackendReport,
} from "../../src/backend/index.js";
import { stridedConvGradient } from "./fixtures/conv-probe.js";

const fixture = fileURLToPath(new URL("./fixtures/print-report.ts", import.meta.url));

interface FixtureRun {
  code: number;
  stderr: string;
  output?: { report: BackendReport; backend: string; gradient: number[] };
}

/** Run the fixture in a fresh process with the given backend variables. */
function runFixture(env: Record<string, string>): Promise<FixtureRun> {
  const childEnv = { ...process.env, ...env };
  if (env.DCL_BACKEND === undefined) delete childEnv.DCL_BACKEND;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", fixture], { env: childEnv },
      (error, stdout, stderr) => {
        const line = stdout.split("\n").find((l) => l.startsWith("{"));
        resolve({
          code: error === null ? 0 : Number(error.code ?? 1),
          stderr,
          output: line === undefined ? undefined : JSON.parse(line),
        });
      });
  });
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  const diff = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(diff / scale < 1e-5, `${what}: relative error ${diff / scale}`);
}

// In-process cases run in order: failures first, then the one success that
// fixes the backend for the rest of this process.
test("an unknown DCL_BACKEND is an error that lists the backends", async () => {
  process.env.DCL_BACKEND = "tpu";
  await assert.rejects(setupBackend({ log: () => undefined }),
    /DCL_BACKEND=tpu is not a backend; use one of native-gpu, native, wasm, cpu/);
});

test("a bad thread count is an error naming its source", async () => {
  process.env.DCL_BACKEND = "cpu";
  await assert.rejects(setupBackend({ threads: 0 }),
    /threads option is not a thread count/);
  process.env.DCL_THREADS = "two";
  await assert.rejects(setupBackend(), /DCL_THREADS=two is not a thread count/);
  delete process.env.DCL_THREADS;
});

test("force beats DCL_BACKEND, and a second call returns the same report", async () => {
  process.env.DCL_BACKEND = "wasm";
  const report = await setupBackend({ force: "cpu", log: () => undefined });
  assert.deepEqual(report, {
    name: "cpu", threads: 1, skipped: {}, selection: "forced by --backend",
  });
  assert.equal(tf.getBackend(), "cpu");
  assert.equal(await setupBackend({ force: "wasm" }), report);
  assert.equal(describeBackend(report), "backend cpu (1 thread; forced by --backend)");
  delete process.env.DCL_BACKEND;
});

test("DCL_BACKEND=cpu forces the cpu backend", async () => {
  const run = await runFixture({ DCL_BACKEND: "cpu" });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.output?.backend, "cpu");
  assert.equal(run.output?.report.selection, "forced by DCL_BACKEND");
  assert.deepEqual(run.output?.report.skipped, {});
});

test("forcing an unavailable native backend fails and says why", async (t) => {
  const run = await runFixture({ DCL_BACKEND: "native-gpu" });
  if (run.code === 0) {
    t.skip("native-gpu is available on this machine");
    return;
  }
  assert.match(run.stderr,
    /backend native-gpu \(forced by DCL_BACKEND\) is unavailable: \S.*Unset DCL_BACKEND/);
  assert.equal(run.output, undefined, "no silent fallback to another backend");
});

test("automatic choice records why each better backend was skipped", async () => {
  const run = await runFixture({ DCL_THREADS: "1" });
  assert.equal(run.code, 0, run.stderr);
  const report = run.output!.report;
  assert.equal(report.selection, "auto");
  const skippedNames = BACKEND_ORDER.slice(0, BACKEND_ORDER.indexOf(report.name));
  assert.deepEqual(Object.keys(report.skipped), skippedNames);
  for (const name of skippedNames) {
    assert.ok((report.skipped[name] ?? "").length > 0, `no reason for ${name}`);
    assert.match(run.stderr, new RegExp(`warning: backend ${name} unavailable`));
  }
});

test("wasm with 2 threads starts 2 threads and computes what cpu does", async () => {
  const run = await runFixture({ DCL_BACKEND: "wasm", DCL_THREADS: "2" });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.output?.backend, "wasm");
  assert.equal(run.output?.report.threads, 2);
  // This process runs on cpu (forced above).
  assertClose(run.output!.gradient, await stridedConvGradient(), "threaded wasm gradient");
});
