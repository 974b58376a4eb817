/**
 * Entry point of the experiment grid:
 *
 *   npx tsx src/experiments/main.ts run   --profile quick --artefact negatives
 *   npx tsx src/experiments/main.ts plan  --profile quick          (what would run, how long)
 *   npx tsx src/experiments/main.ts check --profile quick          (validate the cache files)
 *   npx tsx src/experiments/main.ts list                           (profiles and artefacts)
 *
 * Flags are parsed by the shared strict parser of src/cli/flags.ts: unknown or
 * malformed flags are rejected, and `<command> --help` lists a command's flags.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import {
  defineFlags, FlagError, parseFlags, type ParsedFlags,
} from "../cli/flags.js";
import type { RunConfig } from "../config.js";
import { DATASET_NAMES, dataCommand } from "../data/info.js";
import type { DatasetName } from "../data/types.js";
import { onInterrupt } from "../util/interrupt.js";
import { scanProfile } from "./cache.js";
import { decodedCacheBytes, estimateSeconds, formatDuration } from "./estimate.js";
import { defaultProfile, getProfile, profiles, type ProfileName } from "./profiles.js";
import { codeIdentity } from "./provenance.js";
import { artefactNames, artefacts, getArtefact, type ArtefactName } from "./registry.js";
import {
  planAbsentCells, planCells, runCells, type RunnerOptions, type Trainer,
} from "./runner.js";

/** How the usage lines name this program. */
const PROGRAM = "npx tsx src/experiments/main.ts";

/** Flags that pick the cells and folders; shared by run, plan and check. */
const selectionFlags = defineFlags({
  profile: {
    type: "enum",
    values: Object.keys(profiles) as ProfileName[],
    default: defaultProfile,
    help: "scale of the grid",
  },
  artefact: {
    type: "string",
    default: "all",
    help: `comma-separated, or "all": ${artefactNames.join(", ")}`,
  },
  dataset: {
    type: "string",
    help: `comma-separated datasets to restrict to (${DATASET_NAMES.join(", ")}; ` +
      "default: all present)",
  },
  seeds: {
    type: "int-list", min: 0,
    help: "comma-separated seeds to restrict to, each one of the profile's (default: all)",
  },
  dataRoot: {
    type: "string", default: "data", help: "folder with one sub-folder per dataset",
  },
  cacheRoot: { type: "string", default: "results/cache", help: "root of the result cache" },
  checkpointRoot: {
    type: "string", default: "checkpoints", help: "root of per-run checkpoints",
  },
});

const forceFlag = defineFlags({
  force: { type: "bool", help: "retrain cells even when a valid cache file exists" },
});

const runFlags = defineFlags({ ...selectionFlags, ...forceFlag });

const planFlags = defineFlags({
  ...selectionFlags,
  ...forceFlag,
  rate: {
    type: "float",
    help: "training images per second assumed by the estimate, above 0 " +
      "(default: the profile's)",
  },
});

const listFlags = defineFlags({});

/** The cells and folders one invocation works on. */
export type Selection = Omit<RunnerOptions, "train" | "identity" | "log">;

/** A parsed command line: what to do, with every flag checked. */
export type Invocation =
  | { command: "help"; text: string; exitCode: number }
  | { command: "run"; selection: Selection }
  | { command: "plan"; selection: Selection; rate: number }
  | { command: "check"; selection: Selection }
  | { command: "list" };

/** The subcommands, each with one line for the usage text. */
const commands = {
  run: "train the missing cells and write them to the cache",
  plan: "list the cells, which are cached, and a time estimate",
  check: "validate the cache files of a profile",
  list: "list the profiles and artefacts",
} as const;

type CommandName = keyof typeof commands;

function usage(): string {
  const rows = Object.entries(commands)
    .map(([name, summary]) => `  ${name.padEnd(6)} ${summary}`);
  return [
    `Usage: ${PROGRAM} <${Object.keys(commands).join("|")}> [flags]`,
    `       (${PROGRAM} <command> --help lists its flags)`,
    "",
    ...rows,
    "",
  ].join("\n");
}

/**
 * Parses the whole command line (without node and script). Throws a FlagError
 * for an unknown command, flag or value; the message says what to write.
 */
export function parseCommandLine(argv: readonly string[]): Invocation {
  const [name, ...rest] = argv;
  if (name === undefined) return { command: "help", text: usage(), exitCode: 2 };
  if (name === "help" || name === "--help" || name === "-h") {
    return { command: "help", text: usage(), exitCode: 0 };
  }
  if (!Object.hasOwn(commands, name)) {
    throw new FlagError(
      `unknown command "${name}"; use ${Object.keys(commands).join(", ")}`,
    );
  }
  const command = name as CommandName;
  const info = { command: `${PROGRAM} ${command}`, summary: commands[command] };
  switch (command) {
    case "run": {
      const parsed = parseFlags(runFlags, rest, info);
      if (parsed.kind === "help") return helpOf(parsed.text);
      noPositionals(parsed.positionals, command);
      return { command, selection: selection(parsed.flags, parsed.flags.force) };
    }
    case "plan": {
      const parsed = parseFlags(planFlags, rest, info);
      if (parsed.kind === "help") return helpOf(parsed.text);
      noPositionals(parsed.positionals, command);
      const chosen = selection(parsed.flags, parsed.flags.force);
      const rate = parsed.flags.rate ?? chosen.profile.assumedRate;
      if (!(rate > 0)) {
        throw new FlagError(
          `--rate: ${rate} is not above 0; give images per second`, "--rate",
        );
      }
      return { command, selection: chosen, rate };
    }
    case "check": {
      const parsed = parseFlags(selectionFlags, rest, info);
      if (parsed.kind === "help") return helpOf(parsed.text);
      noPositionals(parsed.positionals, command);
      return { command, selection: selection(parsed.flags, false) };
    }
    case "list": {
      const parsed = parseFlags(listFlags, rest, info);
      if (parsed.kind === "help") return helpOf(parsed.text);
      noPositionals(parsed.positionals, command);
      return { command };
    }
  }
}

function helpOf(text: string): Invocation {
  return { command: "help", text, exitCode: 0 };
}

/** Words after "--" would otherwise be dropped without a word. */
function noPositionals(positionals: readonly string[], command: string): void {
  if (positionals.length > 0) {
    throw new FlagError(
      `unexpected argument "${positionals[0]}": ${command} takes no positional ` +
        "arguments; flags are written --name value",
    );
  }
}

/** The selection flags turned into runner options; names are checked here. */
function selection(
  flags: ParsedFlags<typeof selectionFlags>, force: boolean,
): Selection {
  const selected: ArtefactName[] = flags.artefact === "all"
    ? [...artefactNames]
    : flags.artefact.split(",").map((name) => artefactByName(name.trim()));
  const datasets = flags.dataset?.split(",").map((d) => checkDataset(d.trim()));
  const profile = getProfile(flags.profile);
  const stray = flags.seeds?.find((seed) => !profile.seeds.includes(seed));
  if (stray !== undefined) {
    throw new FlagError(`--seeds: profile ${profile.name} has no seed ${stray}; ` +
      `its seeds are ${profile.seeds.join(", ")}`, "--seeds");
  }
  return {
    profile,
    artefacts: selected,
    datasets,
    seeds: flags.seeds,
    dataRoot: flags.dataRoot,
    cacheRoot: flags.cacheRoot,
    checkpointRoot: flags.checkpointRoot,
    force,
  };
}

function artefactByName(name: string): ArtefactName {
  try {
    return getArtefact(name).name;
  } catch (err) {
    throw new FlagError(`--artefact: ${(err as Error).message}`, "--artefact");
  }
}

function checkDataset(name: string): DatasetName {
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new FlagError(
      `--dataset: unknown dataset "${name}"; use ${DATASET_NAMES.join(", ")}`, "--dataset",
    );
  }
  return name as DatasetName;
}

/** Runs the command line; returns the process exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    const command = argv[0] !== undefined && Object.hasOwn(commands, argv[0])
      ? ` ${argv[0]}` : "";
    console.error(`error: ${err.message}\n(see ${PROGRAM}${command} --help)`);
    return 2;
  }
  switch (invocation.command) {
    case "help":
      console.log(invocation.text.trimEnd());
      return invocation.exitCode;
    case "run": return run(invocation.selection);
    case "plan": return plan(invocation.selection, invocation.rate);
    case "check": return check(invocation.selection);
    case "list": return list();
  }
}

async function run(options: Selection): Promise<number> {
  const started = Date.now();
  const { name } = options.profile;
  onInterrupt(() => `interrupted. Finished cells are kept in ` +
    `${path.join(options.cacheRoot, name)}/; the cell in progress resumes from its last ` +
    `finished epoch (under ${path.join(options.checkpointRoot, name)}/). Run the same ` +
    "command again to go on.");
  const summary = await runCells({
    ...options,
    train: await loadTrainer(),
    identity: codeIdentity(),
    log: (line) => console.log(line),
  });

  // one closing line; failures and corrupt files make the exit status non-zero
  if (summary.cells === 0) {
    console.log(`${name}: no selected dataset is under ${options.dataRoot}/, so there is ` +
      `nothing to train; the reports show what ${path.join(options.cacheRoot, name)}/ holds`);
    return 0;
  }
  console.log(`${options.profile.name}: ${summary.cells} cells, ${summary.cached} cached, ` +
    `${summary.reused} copied, ${summary.trained} trained, ${summary.failed.length} failed ` +
    `in ${formatDuration((Date.now() - started) / 1000)}`);
  for (const { file, error } of summary.corrupt) {
    console.log(`corrupt (retrained): ${file}: ${error}`);
  }
  for (const { label, error } of summary.failed) console.error(`failed: ${label}: ${error}`);
  return summary.failed.length > 0 ? 1 : 0;
}

function plan(options: Selection, rate: number): number {
  const { planned, absent } = planCells(options);

  // datasets not on disk: what the cache already holds of them
  const absentCells = planAbsentCells(options);
  for (const dataset of absent) {
    const cells = absentCells.filter((e) => e.cell.dataset === dataset);
    const cached = cells.filter((e) => e.status === "cached" || e.status === "reusable");
    console.log(`${dataset}: not present under ${options.dataRoot}/ ` +
      `(${dataCommand(dataset)}); ${cached.length} of ${cells.length} cells cached`);
    for (const entry of cells.filter((e) => e.status === "corrupt")) {
      console.log(`corrupt  ${entry.cell.artefact} ${dataset} ${entry.cell.label} ` +
        `(${entry.detail ?? ""})`);
    }
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
  const reference = options.profile.encoder;
  const seconds = [...toTrain.values()]
    .reduce((t, c) => t + estimateSeconds(c, rate, reference), 0);
  console.log(`${planned.length} cells of the datasets present, ${toTrain.size} distinct ` +
    `runs to train, about ${formatDuration(seconds)} at ${rate} img/s`);
  if (toTrain.size > 0) {
    console.log("the rate assumes the native backend (make native); on " +
      "wasm, the fallback without it, expect about three times longer (or pass --rate)");
  }
  console.log(`profile ${options.profile.name}: ${options.profile.costNote}`);

  // disk for the decoded splits of every dataset that still has runs to train
  const datasets = new Set([...toTrain.values()].map((c) => c.pretrain.dataset));
  for (const dataset of datasets) {
    const gib = decodedCacheBytes(dataset) / 2 ** 30;
    console.log(`${dataset}: its decoded splits take about ${gib.toFixed(1)} GiB in ` +
      "data/cache/ (made on first load)");
  }
  return 0;
}

function check({ profile, cacheRoot }: Selection): number {
  const entries = scanProfile(cacheRoot, profile.name);
  let bad = 0;
  for (const entry of entries) {
    if ("error" in entry) {
      bad++;
      console.log(`CORRUPT ${entry.error}`);
    }
  }
  console.log(`${profile.name}: ${entries.length} cache files, ${bad} unreadable`);
  if (bad > 0) {
    console.log("unreadable files are left out of the reports; make reproduce retrains " +
      "them where their dataset is present (delete them to silence this)");
  }
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

/** The production trainer, loaded only by "run" so that plan and check stay light. */
async function loadTrainer(): Promise<Trainer> {
  return (await import("./trainer.js")).trainWithEmbeddings;
}

/** True when this file is the program node started, not a module a test imported. */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    // realpath: node reports the module's resolved path, argv may name a link
    return import.meta.url === pathToFileURL(fs.realpathSync(path.resolve(entry))).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: Error) => {
      console.error(`error: ${err.message}`);
      process.exitCode = 2;
    },
  );
}
