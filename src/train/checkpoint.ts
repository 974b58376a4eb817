/**
 * Checkpoints that let an interrupted pretraining resume where it stopped:
 * the encoder's variables, the optimiser state and the finished epochs, in
 * one file written atomically (temporary file, then rename).
 *
 * Layout: "DCLCKPT1", a uint32 header length, a JSON header, then the float32
 * data of every tensor back to back (offsets in the header).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { EpochRecord, PretrainConfig } from "../config.js";
import type { Encoder } from "../models/encoder.js";
import type { Adam, AdamState } from "./adam.js";

const magic = "DCLCKPT1";

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

interface Header {
  /** Hash of the pretraining configuration the checkpoint belongs to. */
  config: string;
  /** The configuration itself, so a saved encoder can be rebuilt from its file. */
  pretrain: PretrainConfig;
  /** Epochs finished. */
  epoch: number;
  records: EpochRecord[];
  optimizerStep: number;
  tensors: TensorEntry[];
}

/**
 * Stable hash of a pretraining configuration: what a checkpoint must match.
 * The epoch count is left out, so a longer run continues a shorter one (the
 * batches of epoch e depend only on the seed and e).
 */
export function configHash(config: PretrainConfig): string {
  const { epochs: _ignored, ...identity } = config;
  return createHash("sha256").update(canonicalJson(identity)).digest("hex").slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Write the state after `records.length` finished epochs. */
export async function saveCheckpoint(
  file: string,
  config: PretrainConfig,
  encoder: Encoder,
  optimizer: Adam,
  records: EpochRecord[],
): Promise<void> {
  const arrays: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const v of encoder.allVariables) {
    arrays.push({ name: `model/${encoder.nameOf(v)}`, shape: v.shape, data: (await v.data()) as Float32Array });
  }
  const state = await optimizer.state();
  const shapes = new Map(encoder.trainableVariables.map((v) => [encoder.nameOf(v), v.shape]));
  for (const [name, { m, v }] of state.moments) {
    const shape = shapes.get(name) ?? [m.length];
    arrays.push({ name: `adam.m/${name}`, shape, data: m }, { name: `adam.v/${name}`, shape, data: v });
  }

  // header with the offset of every tensor, then the raw floats
  let offset = 0;
  const tensors = arrays.map(({ name, shape, data }) => {
    const entry = { name, shape, offset, length: data.length };
    offset += data.length;
    return entry;
  });
  const header: Header = {
    config: configHash(config),
    pretrain: config,
    epoch: records.length,
    records,
    optimizerStep: state.step,
    tensors,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(magic.length + 4);
  prefix.write(magic, 0, "latin1");
  prefix.writeUInt32LE(headerBytes.length, magic.length);

  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const fd = fs.openSync(temp, "w");
    try {
      fs.writeSync(fd, prefix);
      fs.writeSync(fd, headerBytes);
      for (const { data } of arrays) {
        fs.writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new Error(`could not write checkpoint ${file}: ${(error as Error).message}`);
  }
}

/**
 * Restore encoder and optimiser (unless null) from `file` and return the finished epochs,
 * or null when there is no checkpoint. A checkpoint of another configuration
 * or an unreadable file is an error: it is never silently ignored.
 */
export function loadCheckpoint(
  file: string,
  config: PretrainConfig,
  encoder: Encoder,
  optimizer: Adam | null,
): EpochRecord[] | null {
  if (!fs.existsSync(file)) return null;
  const bytes = fs.readFileSync(file);
  const header = parseHeader(bytes, file);
  if (header.config !== configHash(config)) {
    throw new Error(
      `checkpoint ${file} belongs to a different configuration; ` +
        "delete it or choose another checkpoint folder to start afresh",
    );
  }

  // float data starts right after the header and fills the rest of the file
  const dataStart = magic.length + 4 + bytes.readUInt32LE(magic.length);
  const floatCount = header.tensors.reduce((n, t) => n + t.length, 0);
  if (bytes.length !== dataStart + floatCount * 4) {
    throw new Error(
      `checkpoint ${file} is truncated or damaged (${bytes.length} bytes, ` +
        `expected ${dataStart + floatCount * 4}); pretrain again to rebuild it`,
    );
  }
  const floats = (entry: TensorEntry): Float32Array => {
    const start = dataStart + entry.offset * 4;
    const end = start + entry.length * 4;
    if (end > bytes.length) throw new Error(`checkpoint ${file} is truncated; delete it to start afresh`);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + end));
  };
  const byName = new Map(header.tensors.map((t) => [t.name, t]));

  for (const v of encoder.allVariables) {
    const entry = byName.get(`model/${encoder.nameOf(v)}`);
    if (entry === undefined || entry.length !== v.size) {
      throw new Error(`checkpoint ${file} does not match the encoder (${encoder.nameOf(v)})`);
    }
    tf.tidy(() => v.assign(tf.tensor(floats(entry), v.shape)));
  }

  if (optimizer === null) return header.records;
  const moments: AdamState["moments"] = new Map();
  const shapes = new Map<string, number[]>();
  for (const v of encoder.trainableVariables) {
    const name = encoder.nameOf(v);
    const m = byName.get(`adam.m/${name}`);
    const s = byName.get(`adam.v/${name}`);
    if (m !== undefined && s !== undefined) {
      moments.set(name, { m: floats(m), v: floats(s) });
      shapes.set(name, v.shape);
    }
  }
  optimizer.load({ step: header.optimizerStep, moments }, shapes);
  return header.records;
}

/** The pretraining configuration stored in a checkpoint file. */
export function checkpointConfig(file: string): PretrainConfig {
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    throw new Error(
      `no checkpoint file at ${file}: pass the pretrain.ckpt file written by \`dcl pretrain\``,
    );
  }
  return parseHeader(fs.readFileSync(file), file,
    "pass the pretrain.ckpt file written by `dcl pretrain`").pretrain;
}

/** The checkpoint file of a run's checkpoint folder. */
export function checkpointFile(dir: string): string {
  return path.join(dir, "pretrain.ckpt");
}

/** Fail early, before any training, when the checkpoint folder cannot be used. */
export function checkCheckpointDir(dir: string): void {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new Error(`checkpoint folder ${dir} is a file; choose a folder with --checkpoint-dir`);
  }
  fs.mkdirSync(dir, { recursive: true });
}

/**
 * The header of a checkpoint file; `advice` ends the error message of an
 * unreadable one (resuming: delete it; evaluating: pass another file).
 */
function parseHeader(bytes: Buffer, file: string, advice = "delete it to start afresh"): Header {
  const broken = (why: string) => new Error(`checkpoint ${file} is unreadable (${why}); ${advice}`);
  if (bytes.length < magic.length + 4 || bytes.toString("latin1", 0, magic.length) !== magic) {
    throw broken("not a checkpoint file");
  }
  const length = bytes.readUInt32LE(magic.length);
  if (magic.length + 4 + length > bytes.length) throw broken("truncated header");
  try {
    return JSON.parse(bytes.toString("utf8", magic.length + 4, magic.length + 4 + length)) as Header;
  } catch {
    throw broken("corrupt header");
  }
}
