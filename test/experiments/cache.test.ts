import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  CorruptCacheError, cacheFile, decodeRun, encodeRun, readRun, scanProfile, writeRun,
} from "../../src/experiments/cache.js";
import { fakeRun, sampleConfig } from "./fixtures.js";

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "dcl-cache-"));
}

test("a run written to the cache reads back equal", () => {
  const run = fakeRun(sampleConfig(), true);
  const file = cacheFile(tempRoot(), "smoke", "negatives", run.key);
  writeRun(file, run);
  assert.deepEqual(readRun(file), run);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), [`${run.key}.arrow`]);
});

test("a null linear probe and missing embeddings survive the round trip", () => {
  const run = fakeRun(sampleConfig(), false);
  const back = decodeRun(encodeRun(run), "memory");
  assert.equal(back.result.linearTop1, null);
  assert.equal(back.embeddings, null);
  assert.deepEqual(back.result.epochs, run.result.epochs);
});

test("garbage, truncated and edited files are reported as corrupt", () => {
  const run = fakeRun(sampleConfig());
  const bytes = encodeRun(run);
  assert.throws(() => decodeRun(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), "g"),
    (err: unknown) => err instanceof CorruptCacheError &&
      /not a readable Arrow IPC file: truncated or overwritten( \(.*\))?$/.test(err.message));
  assert.throws(() => decodeRun(bytes.slice(0, bytes.length - 40), "t"), CorruptCacheError);

  // an accuracy changed in place (same length, valid Arrow) must not be accepted
  const needle = Buffer.from(new Float64Array([42.5]).buffer);
  const at = Buffer.from(bytes).indexOf(needle);
  assert.ok(at > 0, "kNN accuracy bytes present in the file");
  const edited = bytes.slice();
  edited[at + 6] ^= 0x10;
  assert.throws(() => decodeRun(edited, "e"), /checksum mismatch/);
});

test("a file whose stored key does not match its config is rejected", () => {
  const run = fakeRun(sampleConfig());
  const wrongKey = { ...run, key: "0".repeat(64) };
  assert.throws(() => decodeRun(encodeRun(wrongKey), "k"), /does not match/);
});

test("a flipped value byte is caught by the content checksum", () => {
  const run = fakeRun(sampleConfig(), true);
  const bytes = encodeRun(run);
  // find the float32 0.5 of the embedding values and change it
  const needle = Buffer.from(new Float32Array([0.5, -1.25]).buffer);
  const at = Buffer.from(bytes).indexOf(needle);
  assert.ok(at > 0, "embedding bytes present in the file");
  const damaged = bytes.slice();
  damaged[at + 3] ^= 0x01;
  assert.throws(() => decodeRun(damaged, "d"), /checksum mismatch/);
});

test("scanning a profile lists corrupt files with the reason", () => {
  const root = tempRoot();
  const run = fakeRun(sampleConfig());
  writeRun(cacheFile(root, "smoke", "negatives", run.key), run);
  const bad = cacheFile(root, "smoke", "negatives", "f".repeat(64));
  fs.writeFileSync(bad, "not arrow");
  const entries = scanProfile(root, "smoke");
  assert.equal(entries.length, 2);
  const broken = entries.find((e) => "error" in e);
  assert.ok(broken !== undefined && "error" in broken);
  assert.match(broken.error, /unreadable or corrupt/);
  assert.match(broken.error, new RegExp(bad.replace(/[/.]/g, "\\$&")));
});
