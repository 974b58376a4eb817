/**
 * Stable identity of a run: the sha256 of its configuration written as
 * canonical JSON (object keys sorted at every depth, no whitespace), so that
 * the same RunConfig always maps to the same cache file whatever the order in
 * which its fields were written.
 */
import { createHash } from "node:crypto";
import type { RunConfig } from "../config.js";

/**
 * JSON with object keys sorted recursively. Values JSON cannot represent are
 * rejected, except that `nonFinite: "text"` writes NaN and +-Infinity as strings
 * (for checksums of measured values, where a NaN must not stop the write).
 */
export function canonicalJson(
  value: unknown, nonFinite: "reject" | "text" = "reject",
): string {
  return JSON.stringify(sortKeys(value, "$", nonFinite));
}

/** Hex sha256 of a string. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Cache key of a run: sha256 of the canonical JSON of its RunConfig without
 * `pretrain.dataDir`. Where the dataset lies is no part of the experiment (the
 * result records the dataset's checksum instead), so the same run found under
 * another data root, or a relative path spelt differently, is the same cell.
 */
export function configKey(config: RunConfig): string {
  const { dataDir: _where, ...pretrain } = config.pretrain;
  return sha256Hex(canonicalJson({ ...config, pretrain }));
}

function sortKeys(value: unknown, path: string, nonFinite: "reject" | "text"): unknown {
  // non-finite numbers would silently become null and collide with real nulls
  if (typeof value === "number" && !Number.isFinite(value)) {
    if (nonFinite === "text") return String(value);
    throw new Error(`canonicalJson: ${path} is ${value}; only finite numbers can be keyed`);
  }
  if (value === undefined || typeof value === "function" || typeof value === "bigint") {
    throw new Error(`canonicalJson: ${path} is a ${typeof value}, which JSON cannot hold`);
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => sortKeys(item, `${path}[${i}]`, nonFinite));
  }
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const name of Object.keys(value).sort()) {
      sorted[name] = sortKeys(
        (value as Record<string, unknown>)[name], `${path}.${name}`, nonFinite);
    }
    return sorted;
  }
  return value;
}
