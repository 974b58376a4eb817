import assert from "node:assert/strict";
import { test } from "node:test";
import type { RunConfig } from "../../src/config.js";
import { canonicalJson, configKey } from "../../src/experiments/hash.js";
import { sampleConfig } from "./fixtures.js";

test("canonical JSON ignores key order at every depth", () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } }),
    '{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}');
});

test("canonical JSON refuses values that would collide", () => {
  assert.throws(() => canonicalJson({ a: NaN }), /\$\.a is NaN/);
  assert.throws(() => canonicalJson({ a: undefined }), /undefined/);
  assert.equal(canonicalJson({ a: NaN }, "text"), '{"a":"NaN"}');
});

test("the key of a config is stable and independent of field order", () => {
  const config = sampleConfig();
  const shuffled: RunConfig = { eval: config.eval, pretrain: { ...config.pretrain },
    profile: config.profile };
  assert.equal(configKey(config), configKey(shuffled));
  assert.match(configKey(config), /^[0-9a-f]{64}$/);
  assert.equal(configKey(config), configKey(structuredClone(config)));
});

test("changing any leaf of the config but the data folder changes the key", () => {
  const base = sampleConfig();
  const baseKey = configKey(base);
  const leaves = leafPaths(base).filter((leaf) => leaf.join(".") !== "pretrain.dataDir");
  assert.ok(leaves.length > 25, `config has ${leaves.length} leaves`);
  for (const leaf of leaves) {
    const changed = structuredClone(base) as unknown as Record<string, unknown>;
    mutate(changed, leaf);
    assert.notEqual(configKey(changed as unknown as RunConfig), baseKey,
      `changing ${leaf.join(".")} must change the key`);
  }
});

/** Paths to every primitive leaf (array elements included). */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return [prefix];
}

function mutate(root: Record<string, unknown>, leaf: string[]): void {
  let node = root as Record<string, unknown>;
  for (const part of leaf.slice(0, -1)) node = node[part] as Record<string, unknown>;
  const last = leaf[leaf.length - 1];
  const value = node[last];
  node[last] = typeof value === "number" ? value + 1
    : typeof value === "string" ? `${value}x`
    : value === null ? 7 : !value;
}

test("the same run under another data folder has the same key", () => {
  const base = sampleConfig();
  for (const dataDir of ["/mnt/datasets/cifar10", "./data/cifar10", "elsewhere"]) {
    assert.equal(configKey({ ...base, pretrain: { ...base.pretrain, dataDir } }), configKey(base));
  }
});
