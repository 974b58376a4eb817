import assert from "node:assert/strict";
import { test } from "node:test";
import { FlagError } from "../../src/cli/flags.js";
import {
  main, parseCommandLine, type Invocation, type Selection,
} from "../../src/experiments/main.js";
import { profiles } from "../../src/experiments/profiles.js";
import { artefactNames } from "../../src/experiments/registry.js";

/** The selection of a run/plan/check invocation, failing the test otherwise. */
function selectionOf(invocation: Invocation): Selection {
  assert.ok("selection" in invocation, `expected a selection, got ${invocation.command}`);
  return invocation.selection;
}

/** Asserts that `argv` is rejected with a FlagError whose message matches `pattern`. */
function rejects(argv: string[], pattern: RegExp, flag?: string): void {
  assert.throws(() => parseCommandLine(argv), (err: unknown) => {
    assert.ok(err instanceof FlagError, `expected a FlagError for ${argv.join(" ")}`);
    assert.match(err.message, pattern);
    if (flag !== undefined) assert.equal(err.flag, flag);
    return true;
  });
}

test("run without flags selects the default profile, all artefacts and default folders",
  () => {
    const invocation = parseCommandLine(["run"]);
    assert.equal(invocation.command, "run");
    const selection = selectionOf(invocation);
    assert.equal(selection.profile, profiles.quick);
    assert.deepEqual(selection.artefacts, [...artefactNames]);
    assert.equal(selection.datasets, undefined);
    assert.equal(selection.dataRoot, "data");
    assert.equal(selection.cacheRoot, "results/cache");
    assert.equal(selection.checkpointRoot, "checkpoints");
    assert.equal(selection.force, false);
  });

test("the command line of make experiments is understood", () => {
  const selection = selectionOf(parseCommandLine([
    "run", "--profile", "smoke", "--artefact", "negatives, tau-plus",
    "--data-root", "/srv/data", "--force",
  ]));
  assert.equal(selection.profile, profiles.smoke);
  assert.deepEqual(selection.artefacts, ["negatives", "tau-plus"]);
  assert.equal(selection.dataRoot, "/srv/data");
  assert.equal(selection.force, true);
  assert.equal(selection.seeds, undefined);
});

test("--seeds picks some of the profile's seeds and refuses others", () => {
  const selection = selectionOf(parseCommandLine(["plan", "--profile", "quick", "--seeds", "0,2"]));
  assert.deepEqual(selection.seeds, [0, 2]);
  rejects(["run", "--profile", "quick", "--seeds", "0,9"], /profile quick has no seed 9/, "--seeds");
});

test("values may be given as --name=value; datasets are split on commas", () => {
  const selection = selectionOf(parseCommandLine([
    "check", "--profile=paper", "--cache-root=/c", "--checkpoint-root=/k",
    "--dataset=stl10,cifar10",
  ]));
  assert.equal(selection.profile, profiles.paper);
  assert.equal(selection.cacheRoot, "/c");
  assert.equal(selection.checkpointRoot, "/k");
  assert.deepEqual(selection.datasets, ["stl10", "cifar10"]);
  assert.equal(selection.force, false);
});

test("plan assumes the profile's rate unless --rate overrides it", () => {
  const byDefault = parseCommandLine(["plan", "--profile", "smoke"]);
  assert.equal(byDefault.command, "plan");
  assert.equal(byDefault.command === "plan" && byDefault.rate, profiles.smoke.assumedRate);
  const given = parseCommandLine(["plan", "--rate", "37.5", "--force"]);
  assert.equal(given.command === "plan" && given.rate, 37.5);
  assert.equal(selectionOf(given).force, true);
});

test("--rate must be a number above 0", () => {
  rejects(["plan", "--rate", "0"], /--rate: 0 is not above 0/, "--rate");
  rejects(["plan", "--rate", "-2"], /not above 0/, "--rate");
  rejects(["plan", "--rate", "fast"], /--rate: expected a finite number/, "--rate");
  rejects(["plan", "--rate"], /--rate needs a value/, "--rate");
});

test("unknown flags, and flags of another command, are rejected", () => {
  rejects(["run", "--profil", "smoke"], /unknown flag --profil; did you mean --profile\?/);
  rejects(["run", "--rate", "10"], /unknown flag --rate/);
  rejects(["check", "--force"], /unknown flag --force/);
  rejects(["list", "--profile", "smoke"], /unknown flag --profile/);
  rejects(["plan", "-f"], /two dashes/);
});

test("malformed values are rejected with the flag named", () => {
  rejects(["run", "--profile", "huge"],
    /--profile: "huge" is not one of smoke, quick, paper/, "--profile");
  rejects(["run", "--artefact", "negatives,nope"], /--artefact: unknown artefact "nope"/,
    "--artefact");
  rejects(["plan", "--dataset", "mnist"], /--dataset: unknown dataset "mnist"/,
    "--dataset");
  rejects(["run", "--data-root"], /--data-root needs a value/, "--data-root");
  rejects(["run", "--force=maybe"], /--force: expected true or false/, "--force");
  rejects(["run", "--force", "yes"], /--force is a switch/, "--force");
  rejects(["run", "--profile", "smoke", "--profile", "quick"], /given twice/, "--profile");
});

test("stray words and unknown commands are rejected", () => {
  rejects(["list", "extra"], /unexpected argument "extra"/);
  rejects(["plan", "--", "extra"], /unexpected argument "extra": plan takes no positional/);
  rejects(["train"], /unknown command "train"; use run, plan, check, list/);
});

test("--help lists a command's flags with their defaults", () => {
  const help = parseCommandLine(["run", "--profile", "smoke", "--help"]);
  assert.equal(help.command, "help");
  if (help.command !== "help") return;
  assert.equal(help.exitCode, 0);
  for (const name of ["--profile", "--artefact", "--dataset", "--data-root", "--cache-root",
    "--checkpoint-root", "--[no-]force", "--help"]) {
    assert.ok(help.text.includes(name), `run --help should mention ${name}`);
  }
  assert.match(help.text, /default: quick/);
  assert.match(help.text, /default: results\/cache/);
  assert.ok(!help.text.includes("--rate"), "--rate belongs to plan only");
  const planHelp = parseCommandLine(["plan", "-h"]);
  assert.ok(planHelp.command === "help" && planHelp.text.includes("--rate <float>"));
});

test("the program's own help lists the commands; no command at all is an error", () => {
  for (const argv of [["--help"], ["-h"], ["help"]]) {
    const help = parseCommandLine(argv);
    assert.ok(help.command === "help", argv.join(" "));
    assert.equal(help.exitCode, 0);
    for (const command of ["run", "plan", "check", "list"]) {
      assert.match(help.text, new RegExp(`^  ${command} `, "m"));
    }
  }
  const bare = parseCommandLine([]);
  assert.ok(bare.command === "help" && bare.exitCode === 2);
});

test("main reports a bad flag on stderr with exit status 2", async (t) => {
  const errors: string[] = [];
  t.mock.method(console, "error", (line: string) => { errors.push(line); });
  assert.equal(await main(["plan", "--bogus"]), 2);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^error: unknown flag --bogus/);
  assert.match(errors[0], /see .* plan --help/);
});

test("main list prints every profile and artefact", async (t) => {
  const lines: string[] = [];
  t.mock.method(console, "log", (line: string) => { lines.push(line); });
  assert.equal(await main(["list"]), 0);
  assert.equal(lines.length, Object.keys(profiles).length + artefactNames.length);
  for (const name of Object.keys(profiles)) {
    assert.ok(lines.some((l) => l.startsWith(`profile ${name}`)), name);
  }
  for (const name of artefactNames) {
    assert.ok(lines.some((l) => l.startsWith(`artefact ${name}`)), name);
  }
});
