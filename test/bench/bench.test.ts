import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { contrastiveLoss } from "../../src/loss.js";
import { crashLine, runChild } from "../../bench/child.js";
import { readOptions } from "../../bench/options.js";
import { RESULT_MARKER } from "../../bench/protocol.js";
import { formatTable, tensorsFlat } from "../../bench/table.js";

test("formatTable pads columns and prints one-cell rows as notes", () => {
  const text = formatTable(["a", "num"], [["xyz", "5"], ["note across"], ["b", "123"]],
    ["left", "right"]);
  assert.deepEqual(text.split("\n"), [
    "a    num", "---  ---", "xyz    5", "note across", "b    123",
  ]);
});

test("tensorsFlat allows the first step to add tensors, never a later one", () => {
  assert.equal(tensorsFlat([166, 366, 366, 366]), true);
  assert.equal(tensorsFlat([166, 366, 367, 368]), false);
});

test("readOptions has the documented defaults and names a bad variable", () => {
  const options = readOptions({});
  assert.deepEqual(options.models, ["small", "resnet18"]);
  assert.deepEqual(options.sizes, [128, 256]);
  assert.equal(options.threads, 2);
  assert.equal(options.chunkSize, null);
  assert.throws(() => readOptions({ BENCH_SIZES: "127" }), /BENCH_SIZES/);
  assert.throws(() => readOptions({ BENCH_MODELS: "vgg" }), /BENCH_MODELS: "vgg"/);
  assert.throws(() => readOptions({ BENCH_STEPS: "0" }), /BENCH_STEPS=0/);
});

test("crashLine picks the error line out of a dead child's output", () => {
  const lines = ["loading", "RuntimeError: memory access out of bounds", "    at foo (x.js:1)"];
  assert.equal(crashLine(lines), "RuntimeError: memory access out of bounds");
  assert.equal(crashLine([]), "no output");
});

test("runChild returns an answer, a crash and a stall as outcomes", async () => {
  const node = process.execPath;
  const answer = await runChild<{ x: number }>(node,
    ["-e", `console.log(${JSON.stringify(RESULT_MARKER)} + '{"x": 3}')`], { stallSeconds: 60 });
  assert.deepEqual(answer.ok && answer.value, { x: 3 });

  const crash = await runChild(node, ["-e", "throw new RangeError('out of memory here')"],
    { stallSeconds: 60 });
  assert.equal(crash.ok, false);
  assert.match(crash.ok ? "" : crash.error, /RangeError: out of memory here \(exit code 1\)/);

  const stall = await runChild(node, ["-e", "setTimeout(() => {}, 60000)"], { stallSeconds: 1 });
  assert.equal(stall.ok, false);
  assert.match(stall.ok ? "" : stall.error, /no progress for 1 s/);
});

const referenceScript = fileURLToPath(new URL("../../bench/torch_reference.py", import.meta.url));
const python = process.env.BENCH_PYTHON || "/usr/bin/python3";
const hasTorch = spawnSync(python, ["-c", "import torch"]).status === 0;

test("the PyTorch reference computes the same debiased loss as the library",
  { skip: hasTorch ? false : `no PyTorch for ${python} (apt-get install python3-torch)` },
  async () => {
    await tf.setBackend("cpu");
    const [z1, z2] = [tf.randomNormal([6, 8], 0, 1, "float32", 5), tf.randomNormal([6, 8], 0, 1, "float32", 6)]
      .map((z) => tf.div(z, tf.norm(z, 2, 1, true)) as tf.Tensor2D);
    const ours = (await contrastiveLoss(z1, z2, { kind: "debiased", temperature: 0.5, tauPlus: 0.1 }).data())[0];

    const input = JSON.stringify({ z1: await z1.array(), z2: await z2.array(), temperature: 0.5, tauPlus: 0.1 });
    const run = spawnSync(python, [referenceScript, "loss"], { input, encoding: "utf8" });
    const line = run.stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
    assert.ok(line, `torch_reference.py loss printed no result: ${run.stderr}`);
    const reference = (JSON.parse(line.slice(RESULT_MARKER.length)) as { loss: number }).loss;
    assert.ok(Math.abs(ours - reference) < 1e-5, `ours ${ours} vs PyTorch ${reference}`);
  });
