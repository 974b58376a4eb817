/**
 * Entry point of the experiment grid:
 *
 *   npx tsx src/experiments/main.ts run   --profile quick --artefact negatives
 *   npx tsx src/experiments/main.ts plan  --profile quick          (what would run, how long)
 *   npx tsx src/experiments/main.ts check --profile quick          (validate the cache files)
 *   npx tsx src/experiments/main.ts list                           (profiles and artefacts)
 */
import type { RunConfig } from "../config.js";
import type { DatasetName } from "../data/types.js";
import { scanProfile } from "./cache.js";
import { estimateSeconds, formatDuration } from "./estimate.js";
import {
  flagHelp, parseFlags, positiveNumber, type FlagSpec, type ParsedFlags,
} from "./flags.js";
import { defaultProfile, getProfile, profiles } from "./profiles.js";
import { codeIdentity } from "./provenance.js";
import { artefactNames, artefacts, getArtefact, type ArtefactName } from "./registry.js";
import { planCells, runCells, type Trainer } from "./runner.js";

const FLAGS: Record<string, FlagSpec> = {
  profile: { type: "string", help: `smoke | quick | paper (default ${defaultProfile})` },
  artefact: { type: "string",
    help: `comma-separated, or "all" (default): ${artefactNames.join(", ")}` },
  dataset: { type: "string",
    help: "comma-separated datasets to restrict to (default: all present)" },
  "data-root": { type: "string",
    help: "folder with one sub-folder per dataset (default data)" },
  "cache-root": { type: "string", help: "root of the result cache (default results/cache)" },
  "checkpoint-root": { type: "string",
    help: "root of per-run checkpoints (default checkpoints)" },
  force: { type: "boolean", help: "retrain cells even when a valid cache file exists" },
  rate: { type: "string", help: "plan: training images per second assumed by the estimate" },
  help: { type: "boolean", help: "show this help" },
};

const USAGE = "usage: npx tsx src/experiments/main.ts <run|plan|check|list> [flags]\n" +
  flagHelp(FLAGS);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flags = parseFlags(rest, FLAGS);
  if (command === undefined || flags.help === true || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case "run": return run(flags);
    case "plan": return plan(flags);
    case "check": return check(flags);
    case "list": return list();
    default:
      throw new Error(`unknown command "${command}"; use run, plan, check or list`);
  }
}

async function run(flags: ParsedFlags): Promise<number> {
  const options = selection(flags);
  const started = Date.now();
  const summary = await runCells({
    ...options,
    train: await loadTrainer(),
    identity: codeIdentity(),
    log: (line) => console.log(line),
  });

  // one closing line; failures and corrupt files make the exit status non-zero
  console.log(`${options.profile.name}: ${summary.cells} cells, ${summary.cached} cached, ` +
    `${summary.reused} copied, ${summary.trained} trained, ${summary.failed.length} failed ` +
    `in ${formatDuration((Date.now() - started) / 1000)}`);
  for (const { file, error } of summary.corrupt) {
    console.log(`corrupt (retrained): ${file}: ${error}`);
  }
  for (const { label, error } of summary.failed) console.error(`failed: ${label}: ${error}`);
  return summary.failed.length > 0 ? 1 : 0;
}

function plan(flags: ParsedFlags): number {
  const options = selection(flags);
  const rate = positiveNumber(flags, "rate", options.profile.assumedRate);
  const { planned, absent } = planCells(options);
  for (const dataset of absent) {
    console.log(`${dataset}: not present under ${options.dataRoot}/`);
  }

  // distinct configurations only: a config shared by two artefacts trains once
  const toTrain = new Map<string, RunConfig>();
  for (const entry of planned) {
    const note = entry.detail === undefined ? "" : ` (${entry.detail})`;
    console.log(`${entry.status.padEnd(8)} ${entry.cell.artefact} ${entry.cell.dataset} ` +
      `${entry.cell.label}${note}`);
    if (entry.status !== "cached" && entry.status !== "reusable") {
      toTrain.set(entry.key, entry.cell.config);
    }
  }
  const seconds = [...toTrain.values()].reduce((t, c) => t + estimateSeconds(c, rate), 0);
  console.log(`${planned.length} cells, ${toTrain.size} distinct runs to train, about ` +
    `${formatDuration(seconds)} at ${rate} img/s (${options.profile.costNote})`);
  return 0;
}

function check(flags: ParsedFlags): number {
  const { profile, cacheRoot } = selection(flags);
  const entries = scanProfile(cacheRoot, profile.name);
  let bad = 0;
  for (const entry of entries) {
    if ("error" in entry) {
      bad++;
      console.log(`CORRUPT ${entry.error}`);
    }
  }
  console.log(`${profile.name}: ${entries.length} cache files, ${bad} unreadable`);
  return bad > 0 ? 1 : 0;
}

function list(): number {
  for (const profile of Object.values(profiles)) {
    console.log(`profile ${profile.name.padEnd(6)} ${profile.summary}`);
  }
  for (const name of artefactNames) {
    const a = artefacts[name];
    console.log(`artefact ${name.padEnd(12)} ${a.title} [${a.datasets.join(", ")}]`);
  }
  return 0;
}

/** The selection flags shared by run, plan and check. */
function selection(flags: ParsedFlags) {
  const profile = getProfile(stringFlag(flags, "profile") ?? defaultProfile);
  const artefactFlag = stringFlag(flags, "artefact") ?? "all";
  const selected: ArtefactName[] = artefactFlag === "all"
    ? [...artefactNames]
    : artefactFlag.split(",").map((name) => getArtefact(name.trim()).name);
  const datasetFlag = stringFlag(flags, "dataset");
  const datasets = datasetFlag?.split(",").map((d) => checkDataset(d.trim()));
  return {
    profile,
    artefacts: selected,
    datasets,
    dataRoot: stringFlag(flags, "data-root") ?? "data",
    cacheRoot: stringFlag(flags, "cache-root") ?? "results/cache",
    checkpointRoot: stringFlag(flags, "checkpoint-root") ?? "checkpoints",
    force: flags.force === true,
  };
}

function checkDataset(name: string): DatasetName {
  const known: DatasetName[] = ["cifar10", "stl10", "imagenet100"];
  if (!(known as string[]).includes(name)) {
    throw new Error(`flag --dataset: unknown dataset "${name}"; use ${known.join(", ")}`);
  }
  return name as DatasetName;
}

function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

/** The production trainer, loaded only by "run" so that plan and check stay light. */
async function loadTrainer(): Promise<Trainer> {
  return (await import("./trainer.js")).trainWithEmbeddings;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: Error) => {
    console.error(`error: ${err.message}`);
    process.exitCode = 2;
  },
);
