import { test } from "node:test";
import assert from "node:assert/strict";
import {
  defineFlags,
  editDistance,
  FlagError,
  flagName,
  formatHelp,
  parseFlags,
  type CommandInfo,
} from "../../src/cli/flags.js";

const schema = defineFlags({
  dataDir: { type: "string", help: "Dataset folder", required: true, env: "DCL_DATA" },
  epochs: { type: "int", help: "Pretraining epochs", default: 400, min: 0 },
  tauPlus: { type: "float", help: "Class prior tau+", default: 0.1, min: 0, max: 0.99 },
  debiased: { type: "bool", help: "Use the debiased objective" },
  cache: { type: "bool", help: "Reuse cached results", default: true },
  loss: { type: "enum", values: ["biased", "debiased", "hard"], default: "debiased", help: "Objective" },
  batches: { type: "int-list", help: "Batch sizes to sweep", default: [32, 64] },
  seed: { type: "int", help: "Random seed" },
  lr: { type: "float", help: "Learning rate", env: "DCL_LR" },
});

const info: CommandInfo = { command: "dcl pretrain", env: {} };

/** Parses and returns the flags, failing the test on help output. */
function parse(argv: string[], extra: Partial<CommandInfo> = {}) {
  const outcome = parseFlags(schema, ["--data-dir", "/d", ...argv], { ...info, ...extra });
  assert.equal(outcome.kind, "flags");
  if (outcome.kind !== "flags") throw new Error("unreachable");
  return outcome;
}

/** Asserts that argv is rejected with a FlagError whose message matches. */
function rejects(argv: string[], message: RegExp, extra: Partial<CommandInfo> = {}) {
  assert.throws(
    () => parseFlags(schema, argv, { ...info, ...extra }),
    (error: unknown) => {
      assert.ok(error instanceof FlagError, `not a FlagError: ${String(error)}`);
      assert.match(error.message, message);
      return true;
    },
  );
}

test("defaults, and the typed result", () => {
  const { flags, positionals } = parse([]);
  assert.deepEqual(flags, {
    dataDir: "/d",
    epochs: 400,
    tauPlus: 0.1,
    debiased: false,
    cache: true,
    loss: "debiased",
    batches: [32, 64],
    seed: undefined,
    lr: undefined,
  });
  assert.deepEqual(positionals, []);
  // compile-time types: these assignments type-check only with the inferred types
  const loss: "biased" | "debiased" | "hard" = flags.loss;
  const epochs: number = flags.epochs;
  const seed: number | undefined = flags.seed;
  assert.equal(typeof loss + typeof epochs + typeof seed, "stringnumberundefined");
});

test("every type, space and = forms", () => {
  const { flags } = parse([
    "--epochs", "50", "--tau-plus=0.05", "--debiased", "--no-cache",
    "--loss", "hard", "--batches=16,32,128", "--seed", "-3", "--lr", "1e-3",
  ]);
  assert.equal(flags.epochs, 50);
  assert.equal(flags.tauPlus, 0.05);
  assert.equal(flags.debiased, true);
  assert.equal(flags.cache, false);
  assert.equal(flags.loss, "hard");
  assert.deepEqual(flags.batches, [16, 32, 128]);
  assert.equal(flags.seed, -3);
  assert.equal(flags.lr, 0.001);
  assert.equal(parse(["--debiased=false", "--cache=true"]).flags.debiased, false);
  assert.equal(parse(["--tau-plus", ".5"]).flags.tauPlus, 0.5);
  assert.equal(parse(["--epochs", "+7"]).flags.epochs, 7);
  // a string value may look like anything but a flag
  assert.equal(parseFlags(schema, ["--data-dir=a=b"], info).kind, "flags");
});

test("ints accept plain digits only", () => {
  for (const bad of ["1.5", "abc", "1e3", "0x10", "1_000", " 5", "5 "]) {
    rejects(["--data-dir", "/d", "--epochs", bad],
      new RegExp(`--epochs: expected a whole number in plain digits \\(like 400\\), got "${bad}"`));
  }
  rejects(["--data-dir", "/d", "--epochs=99999999999999999999"], /too large for a whole number/);
  rejects(["--data-dir", "/d", "--epochs", "-1"], /--epochs: -1 is below the minimum 0/);
});

test("floats reject non-numbers, NaN, Infinity and empty values", () => {
  for (const bad of ["abc", "NaN", "Infinity", "-Infinity", "0.1.2", "1e", "0x1"]) {
    rejects(["--data-dir", "/d", "--tau-plus", bad],
      /--tau-plus: expected a finite number \(like 0\.1 or 1e-3\), got/);
  }
  rejects(["--data-dir", "/d", "--tau-plus="], /--tau-plus: empty value; expected <float>/);
  rejects(["--data-dir", "/d", "--tau-plus", ""], /--tau-plus: empty value/);
  rejects(["--data-dir", "/d", "--tau-plus", "1"], /--tau-plus: 1 is above the maximum 0.99/);
  rejects(["--data-dir", "/d", "--lr", "1e999"], /1e999 is out of range/);
});

test("enums list the allowed values and suggest the closest", () => {
  rejects(["--data-dir", "/d", "--loss", "debaised"],
    /--loss: "debaised" is not one of biased, debiased, hard; did you mean debiased\?/);
  rejects(["--data-dir", "/d", "--loss", "simclr"],
    /--loss: "simclr" is not one of biased, debiased, hard$/);
});

test("int lists reject empty items and non-integers", () => {
  rejects(["--data-dir", "/d", "--batches", "32,,64"], /item 2 of "32,,64" is empty/);
  rejects(["--data-dir", "/d", "--batches", "32,64,"], /item 3 of "32,64," is empty/);
  rejects(["--data-dir", "/d", "--batches", "32,6.4"], /got "6.4"/);
  rejects(["--data-dir", "/d", "--batches", "32, 64"], /got " 64"/);
});

test("trap: a boolean flag followed by a word is rejected, not read as true", () => {
  rejects(["--data-dir", "/d", "--debiased", "foo"],
    /--debiased is a switch and takes no separate value, got "foo" after it; write --debiased or --no-debiased/);
  rejects(["--data-dir", "/d", "--debiased", "false"], /--debiased is a switch/);
  // even where positionals are allowed, a boolean-looking word is not taken as one
  rejects(["--data-dir", "/d", "--debiased", "false"], /--debiased is a switch/,
    { positionals: { name: "run", help: "Runs" } });
  rejects(["--data-dir", "/d", "--debiased=foo"], /--debiased: expected true or false, got "foo"/);
  rejects(["--data-dir", "/d", "--no-debiased=true"], /--no-debiased takes no value/);
});

test("trap: `--tau_plus = 0.1` and `--tau-plus = 0.1` are rejected", () => {
  rejects(["--data-dir", "/d", "--tau_plus", "=", "0.1"],
    /unknown flag --tau_plus; did you mean --tau-plus\?/);
  rejects(["--data-dir", "/d", "--tau-plus", "=", "0.1"],
    /--tau-plus: value "=" starts with "="; write --tau-plus=VALUE or --tau-plus VALUE/);
  rejects(["--data-dir", "/d", "--tau-plus", "=0.1"], /value "=0.1" starts with "="/);
  rejects(["--data-dir", "/d", "--data-dir2", "x"], /unknown flag --data-dir2; did you mean --data-dir\?/);
});

test("unknown flags get a suggestion or a pointer to --help", () => {
  rejects(["--data-dir", "/d", "--epoch", "3"], /^unknown flag --epoch; did you mean --epochs\?$/);
  rejects(["--data-dir", "/d", "--no-cahce"], /did you mean --no-cache\?/);
  rejects(["--data-dir", "/d", "--no-epochs"], /unknown flag --no-epochs; did you mean --epochs\?/);
  rejects(["--data-dir", "/d", "--zzzzzzzz"], /^unknown flag --zzzzzzzz; --help lists every flag$/);
  rejects(["--data-dir", "/d", "-e", "3"], /unknown option "-e": flags are written with two dashes/);
});

test("missing values, missing required flags, repeats", () => {
  rejects(["--data-dir", "/d", "--epochs"], /--epochs needs a value \(<int>\); write --epochs VALUE/);
  rejects(["--data-dir", "/d", "--epochs", "--lr", "1"], /--epochs needs a value/);
  rejects([], /missing required flag --data-dir \(Dataset folder\); pass --data-dir <string> or set DCL_DATA/);
  rejects(["--data-dir", "/d", "--epochs", "1", "--epochs=2"],
    /--epochs is given twice \(--epochs 1 and --epochs=2\); give it once/);
});

test("a repeated flag is quoted with both of its values", () => {
  rejects(["--data-dir", "/d", "--epochs", "32", "--epochs", "1"],
    /^--epochs is given twice \(--epochs 32 and --epochs 1\); give it once$/);
  rejects(["--data-dir", "/d", "--batches=32,64", "--batches", "128"],
    /^--batches is given twice \(--batches=32,64 and --batches 128\); give it once$/);
  rejects(["--data-dir", "/d", "--debiased", "--no-debiased"],
    /^--debiased is given twice \(--debiased and --no-debiased\); give it once$/);
});

test("positionals: rejected unless allowed; -- ends the flags", () => {
  rejects(["--data-dir", "/d", "extra"],
    /unexpected argument "extra": dcl pretrain takes no positional arguments/);
  const allowed = { positionals: { name: "run", help: "Run names" } };
  assert.deepEqual(parse(["a", "--epochs", "2", "b"], allowed).positionals, ["a", "b"]);
  assert.deepEqual(parse(["--debiased", "run1"], allowed).positionals, ["run1"]);
  assert.deepEqual(parse(["--", "--epochs", "-h"], allowed).positionals, ["--epochs", "-h"]);
});

test("environment fallbacks: command line first, then env, then default", () => {
  const env = { DCL_DATA: "/env-data", DCL_LR: "0.5" };
  const fromEnv = parseFlags(schema, [], { ...info, env });
  assert.equal(fromEnv.kind === "flags" && fromEnv.flags.dataDir, "/env-data");
  assert.equal(fromEnv.kind === "flags" && fromEnv.flags.lr, 0.5);
  const fromArgv = parseFlags(schema, ["--lr", "0.25"], { ...info, env });
  assert.equal(fromArgv.kind === "flags" && fromArgv.flags.lr, 0.25);
  rejects([], /--lr \(from environment variable DCL_LR\): expected a finite number/,
    { env: { DCL_DATA: "/x", DCL_LR: "fast" } });
});

test("--help and -h return the formatted help from the schema", () => {
  const outcome = parseFlags(schema, ["--epochs", "nonsense", "--help"], {
    ...info,
    summary: "Pretrain an encoder.",
  });
  assert.equal(outcome.kind, "help");
  const text = outcome.kind === "help" ? outcome.text : "";
  assert.equal(text, formatHelp(schema, { ...info, summary: "Pretrain an encoder." }));
  const expected = [
    "Usage: dcl pretrain [flags]",
    "",
    "Pretrain an encoder.",
    "",
    "Flags:",
    "  --data-dir <string>            Dataset folder (required; env: DCL_DATA)",
    "  --epochs <int>                 Pretraining epochs (default: 400; min: 0)",
    "  --tau-plus <float>             Class prior tau+ (default: 0.1; min: 0; max: 0.99)",
    "  --[no-]debiased                Use the debiased objective",
    "  --[no-]cache                   Reuse cached results (default: true)",
    "  --loss <biased|debiased|hard>  Objective (default: debiased)",
    "  --batches <int,int,...>        Batch sizes to sweep (default: 32,64)",
    "  --seed <int>                   Random seed",
    "  --lr <float>                   Learning rate (env: DCL_LR)",
    "  -h, --help                     Show this help and exit",
    "",
  ].join("\n");
  assert.equal(text, expected);
  assert.equal(parseFlags(schema, ["-h"], info).kind, "help");
  rejects(["--help=yes"], /--help takes no value, got "--help=yes"; write --help/);
});

test("schema mistakes fail loudly", () => {
  assert.throws(
    () => parseFlags({ mode: { type: "enum", values: ["a"], default: "b", help: "" } }, [], info),
    /default "b" of --mode is not among its values/,
  );
  assert.throws(() => parseFlags({ noCache: { type: "bool", help: "" } }, [], info), /camelCase/);
});

test("helpers: kebab names and edit distance", () => {
  assert.equal(flagName("tauPlus"), "tau-plus");
  assert.equal(flagName("knnK"), "knn-k");
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("same", "same"), 0);
});
