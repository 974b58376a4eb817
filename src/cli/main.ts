/**
 * The `dcl` command line: `dcl pretrain`, `dcl evaluate`, `dcl run` and
 * `dcl data`. Every flag maps onto one field of the typed configuration in
 * src/config.ts; unknown or malformed flags are rejected, never guessed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describeBackend, setupBackend, type BackendName } from "../backend/index.js";
import {
  defaultEval,
  defaultLoss,
  type EvalConfig,
  type PretrainConfig,
  type RunConfig,
} from "../config.js";
import { datasetInfo, defaultDataDir, loadSplit } from "../data/index.js";
import { encoderStem } from "../data/info.js";
import { prepareDataset } from "../data/prepare.js";
import type { DatasetName } from "../data/types.js";
import { createEncoder, encoderPresets, withStem } from "../models/encoder.js";
import { checkpointConfig, checkpointFile, configHash, loadCheckpoint } from "../train/checkpoint.js";
import { checkObjectiveFitsData, pretrain } from "../train/pretrain.js";
import { evaluateEncoder, loadEvaluation, runExperiment } from "../train/run.js";
import { NonFiniteLossError } from "../train/step.js";
import { minTemperature } from "../loss.js";
import { onInterrupt } from "../util/interrupt.js";
import {
  defineFlags,
  FlagError,
  flagName,
  parseFlags,
  type FlagSchema,
  type ParsedFlags,
} from "./flags.js";

const datasets = ["cifar10", "stl10", "imagenet100"] as const;

/** Flags shared by every command that computes. */
const backendFlags = defineFlags({
  backend: {
    type: "enum",
    values: ["auto", "native-gpu", "native", "wasm", "cpu"],
    default: "auto",
    help: "TensorFlow.js backend; auto tries native-gpu, native, wasm, cpu (env DCL_BACKEND)",
  },
  threads: { type: "int", min: 1, max: 256, help: "wasm worker threads (default: every core; env DCL_THREADS)" },
});

/** Flags of the pretraining configuration; defaults are the paper's. */
const pretrainFlags = defineFlags({
  dataset: { type: "enum", values: datasets, default: "cifar10", help: "dataset to pretrain on" },
  dataDir: { type: "string", help: "folder of the dataset (default data/<dataset>)" },
  subset: { type: "int", min: 2, help: "pretrain on this many images of a seeded shuffle (default: all)" },
  arch: { type: "enum", values: ["resnet50", "resnet18", "small"], default: "resnet50", help: "encoder" },
  widths: { type: "int-list", min: 1, help: "stage widths of the small encoder (default 32,64,128)" },
  blocks: { type: "int-list", min: 1, help: "blocks per stage of the small encoder (default 2,2,2)" },
  stem: {
    type: "enum",
    values: ["cifar", "imagenet"],
    help: "first layers: cifar (3x3 conv) or imagenet (7x7 conv + max-pool) (default: imagenet for imagenet100, else cifar)",
  },
  headHidden: { type: "int", min: 1, default: 512, help: "hidden width of the projection head" },
  projectionDim: { type: "int", min: 1, default: 128, help: "output dimension of the projection head" },
  loss: {
    type: "enum",
    values: ["biased", "debiased", "unbiased", "hard"],
    default: "debiased",
    help: "objective: biased (SimCLR), debiased, unbiased (needs labels), hard",
  },
  temperature: { type: "float", min: minTemperature, default: defaultLoss.temperature, help: "temperature t" },
  tauPlus: { type: "float", min: 0, max: 0.999999, default: defaultLoss.tauPlus, help: "class prior tau+ in [0, 1)" },
  beta: { type: "float", min: 0, default: defaultLoss.beta, help: "hardness beta of the hard objective" },
  positives: { type: "int", min: 1, default: defaultLoss.positives, help: "positive views M in the debiasing correction" },
  batchSize: { type: "int", min: 2, default: 256, help: "images per step B (N = 2B - 2 negatives)" },
  epochs: { type: "int", min: 0, default: 400, help: "pretraining epochs" },
  lr: { type: "float", min: 0, default: 1e-3, help: "Adam learning rate" },
  weightDecay: { type: "float", min: 0, default: 1e-6, help: "L2 weight decay" },
  seed: { type: "int", min: 0, default: 0, help: "seed of data order, augmentation and initialisation" },
  chunkSize: { type: "int", min: 1, help: "most images whose activations are held at " +
    "once (default: the whole step, split automatically on wasm when it does not fit)" },
});

/** Flags of the evaluation configuration; defaults are the official code's. */
const evalFlags = defineFlags({
  knnK: { type: "int", min: 1, default: defaultEval.knnK, help: "neighbours of the kNN monitor" },
  knnTemperature: { type: "float", min: 1e-3, default: defaultEval.knnTemperature, help: "kNN weight temperature" },
  linearEpochs: { type: "int", min: 0, default: defaultEval.linearEpochs, help: "linear-probe epochs (0 skips it)" },
  linearBatch: { type: "int", min: 1, default: defaultEval.linearBatch, help: "linear-probe batch size" },
  linearLr: { type: "float", min: 0, default: defaultEval.linearLr, help: "linear-probe learning rate" },
  linearWeightDecay: { type: "float", min: 0, default: defaultEval.linearWeightDecay, help: "linear-probe weight decay" },
  trainSubset: { type: "int", min: 1, help: "memory-bank / probe-training images (default: whole split)" },
  testSubset: { type: "int", min: 1, help: "test images evaluated (default: whole split)" },
});

type PretrainFlags = ParsedFlags<typeof pretrainFlags>;
type EvalFlags = ParsedFlags<typeof evalFlags>;

function pretrainConfig(f: PretrainFlags): PretrainConfig {
  const preset = encoderPresets[f.arch];
  if (f.arch !== "small" && (f.widths !== undefined || f.blocks !== undefined)) {
    throw new FlagError(`--widths and --blocks apply to --arch small only, not ${f.arch}`, "--widths");
  }
  const widths = f.widths ?? preset.widths;
  const blocks = f.blocks ?? preset.blocks;
  if (widths.length !== blocks.length) {
    throw new FlagError(`--widths has ${widths.length} stages and --blocks ` +
      `${blocks.length}; give one block count per stage width`, "--blocks");
  }
  rejectUnusedLossFlags(f);
  return {
    dataset: f.dataset,
    dataDir: f.dataDir ?? defaultDataDir(f.dataset),
    subset: f.subset ?? null,
    encoder: withStem({
      arch: f.arch,
      widths,
      blocks,
      headHidden: f.headHidden,
      projectionDim: f.projectionDim,
    }, f.stem ?? encoderStem(f.dataset)),
    loss: { kind: f.loss, temperature: f.temperature, tauPlus: f.tauPlus, beta: f.beta, positives: f.positives },
    batchSize: f.batchSize,
    epochs: f.epochs,
    lr: f.lr,
    weightDecay: f.weightDecay,
    seed: f.seed,
    chunkSize: f.chunkSize ?? null,
  };
}

/** Objectives that read each loss setting; any other objective ignores it. */
const lossFlagUsers = {
  tauPlus: ["debiased", "hard"],
  beta: ["hard"],
  positives: ["debiased", "hard"],
} as const satisfies Record<string, readonly string[]>;

/**
 * A loss setting moved off its default for an objective that ignores it is
 * refused: the run would silently be another experiment than the one asked
 * for (and a biased run with M = 2 would pay for views it never uses).
 */
function rejectUnusedLossFlags(f: PretrainFlags): void {
  for (const [key, users] of Object.entries(lossFlagUsers)) {
    const setting = key as keyof typeof lossFlagUsers;
    if (f[setting] === defaultLoss[setting] || (users as readonly string[]).includes(f.loss)) {
      continue;
    }
    const flag = `--${flagName(setting)}`;
    throw new FlagError(
      `${flag} ${f[setting]} has no effect with --loss ${f.loss}: it applies to ` +
        `${users.map((u) => `--loss ${u}`).join(" and ")} only. Drop ${flag}, ` +
        (users.length === 1 ? "or choose that objective." : "or choose one of those objectives."),
      flag,
    );
  }
}

/**
 * Checked before any work, so that a long run does not fail at its very end
 * for want of a place to write its result.
 */
function checkJsonTarget(file: string | undefined): void {
  if (file === undefined) return;
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new FlagError(
      `--json ${file} is a folder; give a file name, e.g. --json ${path.join(file, "result.json")}`,
      "--json",
    );
  }
  const parent = path.dirname(path.resolve(file));
  let ancestor = parent;
  while (!fs.existsSync(ancestor)) ancestor = path.dirname(ancestor);
  if (!fs.statSync(ancestor).isDirectory()) {
    throw new FlagError(`--json ${file}: ${ancestor} is a file, so ${parent} cannot be ` +
      "created; give another path", "--json");
  }
}

/** Ctrl-C during pretraining: what is kept and how to resume. */
function sayHowToResume(command: string, checkpointDir: string): void {
  onInterrupt(() => `dcl ${command}: interrupted. Every finished epoch is saved in ` +
    `${checkpointDir}; run the same command again to resume from the last one.`);
}

function evalConfig(f: EvalFlags): EvalConfig {
  return {
    knnK: f.knnK,
    knnTemperature: f.knnTemperature,
    linearEpochs: f.linearEpochs,
    linearBatch: f.linearBatch,
    linearLr: f.linearLr,
    linearWeightDecay: f.linearWeightDecay,
    trainSubset: f.trainSubset ?? null,
    testSubset: f.testSubset ?? null,
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function startBackend(f: ParsedFlags<typeof backendFlags>): Promise<string> {
  const force = f.backend === "auto" ? undefined : (f.backend as BackendName);
  return describeBackend(await setupBackend({ force, threads: f.threads, log }));
}

/** Parse, or print help and return null. */
function parse<S extends FlagSchema>(schema: S, argv: string[], command: string, summary: string) {
  const outcome = parseFlags(schema, argv, { command, summary });
  if (outcome.kind === "help") {
    process.stdout.write(outcome.text);
    return null;
  }
  return outcome.flags;
}

const commands: Record<string, { summary: string; run: (argv: string[]) => Promise<void> }> = {
  pretrain: {
    summary: "Pretrain an encoder and save it as a resumable checkpoint.",
    async run(argv) {
      const schema = {
        ...pretrainFlags,
        ...backendFlags,
        checkpointDir: { type: "string", help: "where the checkpoint goes (default checkpoints/<config hash>)" },
      } as const satisfies FlagSchema;
      const f = parse(schema, argv, "dcl pretrain", this.summary);
      if (f === null) return;
      const config = pretrainConfig(f);
      const backend = await startBackend(f);
      const dir = f.checkpointDir ?? path.join("checkpoints", configHash(config));
      const info = datasetInfo(config.dataset);
      checkObjectiveFitsData(config, info);
      const splits = [];
      for (const split of info.pretrainSplits) {
        splits.push(await loadSplit({ dataset: config.dataset, dataDir: config.dataDir, split, log }));
      }
      const encoder = createEncoder(config.encoder, config.seed);
      sayHowToResume("pretrain", dir);
      await pretrain(encoder, splits, info, config, { log, backend, checkpointDir: dir });
      const file = checkpointFile(dir);
      log(`encoder saved in ${file}; evaluate it with: dcl evaluate --checkpoint ${file}`);
    },
  },

  evaluate: {
    summary: "Evaluate a pretrained encoder: weighted kNN and a linear probe on frozen features.",
    async run(argv) {
      const schema = {
        checkpoint: { type: "string", required: true, help: "checkpoint file written by dcl pretrain" },
        dataDir: { type: "string", help: "folder of the dataset (default: the one used for pretraining)" },
        ...evalFlags,
        ...backendFlags,
        json: { type: "string", help: "also write the scores to this JSON file" },
      } as const satisfies FlagSchema;
      const f = parse(schema, argv, "dcl evaluate", this.summary);
      if (f === null) return;
      checkJsonTarget(f.json);
      // a checkpoint folder (what dcl pretrain prints as --checkpoint-dir) works too
      const file = fs.existsSync(f.checkpoint) && fs.statSync(f.checkpoint).isDirectory()
        ? checkpointFile(f.checkpoint)
        : f.checkpoint;
      const pretrained = checkpointConfig(file);
      await startBackend(f);
      const encoder = createEncoder(pretrained.encoder, pretrained.seed);
      loadCheckpoint(file, pretrained, encoder, null);
      const config = evalConfig(f);
      const evaluation = await loadEvaluation(pretrained.dataset, f.dataDir ?? pretrained.dataDir, config, log);
      const scores = await evaluateEncoder(encoder, evaluation, config, pretrained.seed, log);
      const text = JSON.stringify({ checkpoint: file, eval: config, ...scores }, null, 2);
      process.stdout.write(`${text}\n`);
      if (f.json !== undefined) writeJson(f.json, text);
    },
  },

  run: {
    summary: "Pretrain and evaluate in one go; prints the result, including kNN at initialisation.",
    async run(argv) {
      const schema = {
        ...pretrainFlags,
        ...evalFlags,
        ...backendFlags,
        checkpointDir: { type: "string", help: "resumable checkpoint folder (default checkpoints/<config hash>)" },
        json: { type: "string", help: "also write the result to this JSON file" },
      } as const satisfies FlagSchema;
      const f = parse(schema, argv, "dcl run", this.summary);
      if (f === null) return;
      checkJsonTarget(f.json);
      const config: RunConfig = { profile: "custom", pretrain: pretrainConfig(f), eval: evalConfig(f) };
      await startBackend(f);
      const dir = f.checkpointDir ?? path.join("checkpoints", configHash(config.pretrain));
      sayHowToResume("run", dir);
      const result = await runExperiment(config, { log, checkpointDir: dir });
      const gain = result.knnTop1 - result.initKnnTop1;
      log(
        `${config.pretrain.loss.kind}: kNN top-1 ${result.initKnnTop1.toFixed(2)} % at initialisation -> ` +
          `${result.knnTop1.toFixed(2)} % after ${config.pretrain.epochs} ` +
          `epoch${config.pretrain.epochs === 1 ? "" : "s"} ` +
          `(${gain >= 0 ? "+" : ""}${gain.toFixed(2)} points) in ${result.wallSeconds.toFixed(0)} s`,
      );
      const text = JSON.stringify(result, null, 2);
      process.stdout.write(`${text}\n`);
      if (f.json !== undefined) writeJson(f.json, text);
    },
  },

  data: {
    summary: "Download (or unpack from --from) a dataset and check it.",
    async run(argv) {
      const schema = {
        dataset: { type: "enum", values: datasets, required: true, help: "dataset to prepare" },
        dataDir: { type: "string", help: "destination folder (default data/<dataset>)" },
        from: { type: "string", help: "local archive or folder to use instead of downloading" },
      } as const satisfies FlagSchema;
      const f = parse(schema, argv, "dcl data", this.summary);
      if (f === null) return;
      await prepareDataset({ dataset: f.dataset as DatasetName, dataDir: f.dataDir, from: f.from, log });
    },
  },
};

function writeJson(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, `${text}\n`);
  fs.renameSync(temp, file);
}

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  dcl ${name.padEnd(10)} ${c.summary}`);
  return ["Usage: dcl <command> [flags]   (dcl <command> --help for its flags)", "", ...rows, ""].join("\n");
}

/** Run the command line; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`dcl: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`dcl ${name}: ${error.message}\n(see dcl ${name} --help)\n`);
      return 2;
    }
    if (error instanceof NonFiniteLossError) {
      process.stderr.write(`dcl ${name}: ${error.message}\n`);
      return 3;
    }
    process.stderr.write(`dcl ${name}: ${(error as Error).message}\n`);
    if (process.env.DCL_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}
