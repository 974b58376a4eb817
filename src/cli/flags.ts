/**
 * A strict, typed command-line flag parser for the `dcl` subcommands.
 *
 * A schema maps camelCase keys to flag specs; the flag on the command line is
 * the kebab-case form of the key (`tauPlus` -> `--tau-plus`). Values are given
 * as `--name value` or `--name=value`; booleans as `--name` / `--no-name`
 * (or `--name=true|false`). Anything malformed throws a FlagError that names
 * the flag and says what to write instead; nothing is guessed.
 *
 * Number syntax: ints accept plain decimal digits with an optional sign only,
 * so "1.5", "1e3", "0x10" and "abc" are rejected (write 1000, not 1e3); floats
 * accept decimal and exponent forms ("0.1", ".5", "1e-3") and reject "abc",
 * "NaN", "Infinity" and "".
 */

/** Fields every flag spec shares. */
interface FlagBase {
  /** One line shown by --help. */
  help: string;
  /** Environment variable read when the flag is not on the command line. */
  env?: string;
  /** Fail when neither the command line, `env` nor a default gives a value. */
  required?: boolean;
}

/** A free-form string value. */
export interface StringFlag extends FlagBase {
  type: "string";
  default?: string;
}

/** A whole number, optionally bounded (bounds inclusive). */
export interface IntFlag extends FlagBase {
  type: "int";
  default?: number;
  min?: number;
  max?: number;
}

/** A finite floating-point number, optionally bounded (bounds inclusive). */
export interface FloatFlag extends FlagBase {
  type: "float";
  default?: number;
  min?: number;
  max?: number;
}

/** A switch: `--name` / `--no-name`; false unless a default says otherwise. */
export interface BoolFlag extends FlagBase {
  type: "bool";
  default?: boolean;
}

/** One of a fixed list of words. */
export interface EnumFlag extends FlagBase {
  type: "enum";
  values: readonly string[];
  default?: string;
}

/** Comma-separated whole numbers, e.g. "32,64,128"; bounds apply to each item. */
export interface IntListFlag extends FlagBase {
  type: "int-list";
  default?: readonly number[];
  min?: number;
  max?: number;
}

/** Any flag spec. */
export type FlagSpec = StringFlag | IntFlag | FloatFlag | BoolFlag | EnumFlag | IntListFlag;

/** Flags of one command, keyed by camelCase name. */
export type FlagSchema = Record<string, FlagSpec>;

/** The value type a spec parses to, before defaults are considered. */
export type FlagValueOf<F extends FlagSpec> = F extends { type: "string" }
  ? string
  : F extends { type: "int" | "float" }
    ? number
    : F extends { type: "bool" }
      ? boolean
      : F extends { type: "enum"; values: readonly (infer V)[] }
        ? V
        : F extends { type: "int-list" }
          ? number[]
          : never;

/** A flag's parsed value: possibly undefined only without default, required or bool type. */
export type ParsedFlag<F extends FlagSpec> = F extends { type: "bool" }
  ? boolean
  : F extends { default: unknown }
    ? FlagValueOf<F>
    : F extends { required: true }
      ? FlagValueOf<F>
      : FlagValueOf<F> | undefined;

/** Parsed values of a whole schema. */
export type ParsedFlags<S extends FlagSchema> = { [K in keyof S]: ParsedFlag<S[K]> };

/** Everything about a command that is not a flag. */
export interface CommandInfo {
  /** Shown in the usage line, e.g. "dcl pretrain". */
  command: string;
  /** One or two sentences shown under the usage line. */
  summary?: string;
  /** Allow positional arguments; the string names them in the usage line. */
  positionals?: { name: string; help: string };
  /** Environment for `env` fallbacks (default: process.env). */
  env?: Record<string, string | undefined>;
}

/** The outcome of parsing: values, or the help text when --help / -h was given. */
export type ParseOutcome<S extends FlagSchema> =
  | { kind: "flags"; flags: ParsedFlags<S>; positionals: string[] }
  | { kind: "help"; text: string };

/** A command line that does not match the schema; the message says how to fix it. */
export class FlagError extends Error {
  /** The flag the problem concerns ("--epochs"), when there is one. */
  readonly flag: string | undefined;

  constructor(message: string, flag?: string) {
    super(message);
    this.name = "FlagError";
    this.flag = flag;
  }
}

/** Identity helper that keeps a schema's literal types (enum values, defaults). */
export function defineFlags<const S extends FlagSchema>(schema: S): S {
  return schema;
}

/** Parses `argv` (without node and script) against `schema`. */
export function parseFlags<const S extends FlagSchema>(
  schema: S,
  argv: readonly string[],
  info: CommandInfo,
): ParseOutcome<S> {
  checkSchema(schema);
  const terminator = argv.indexOf("--");
  const flagPart = terminator < 0 ? argv : argv.slice(0, terminator);
  if (flagPart.includes("--help") || flagPart.includes("-h")) {
    return { kind: "help", text: formatHelp(schema, info) };
  }
  const { given, positionals } = scan(schema, argv, info);
  const flags: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    flags[key] = resolve(key, spec, given.get(key), info.env ?? process.env);
  }
  return { kind: "flags", flags: flags as ParsedFlags<S>, positionals };
}

/** The --help text of a command: usage, summary, then one line per flag. */
export function formatHelp(schema: FlagSchema, info: CommandInfo): string {
  const usage = `Usage: ${info.command} [flags]` +
    (info.positionals ? ` [${info.positionals.name}...]` : "");
  const rows: [string, string][] = Object.entries(schema).map(([key, spec]) => [
    flagSyntax(key, spec),
    describe(spec),
  ]);
  if (info.positionals) rows.unshift([info.positionals.name, info.positionals.help]);
  rows.push(["-h, --help", "Show this help and exit"]);

  // align descriptions; a very long flag column moves its description below
  const width = Math.min(32, Math.max(...rows.map(([name]) => name.length)));
  const lines = rows.map(([name, text]) =>
    name.length <= width
      ? `  ${name.padEnd(width)}  ${text}`
      : `  ${name}\n  ${" ".repeat(width)}  ${text}`,
  );
  const parts = [usage];
  if (info.summary) parts.push("", info.summary);
  parts.push("", "Flags:", ...lines);
  return parts.join("\n") + "\n";
}

/** `tauPlus` -> `tau-plus`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** What one command-line occurrence of a flag gave. */
interface Given {
  value: unknown;
  /** How it was written, for messages: "--lr 0.1", "--lr=0.1", "--no-x". */
  written: string;
}

/** Walks argv once: flag occurrences by key, and positional arguments. */
function scan(
  schema: FlagSchema,
  argv: readonly string[],
  info: CommandInfo,
): { given: Map<string, Given>; positionals: string[] } {
  const byName = new Map(Object.keys(schema).map((key) => [flagName(key), key]));
  const given = new Map<string, Given>();
  const positionals: string[] = [];
  let previousBool: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith("--")) {
      rejectLoose(token, previousBool, info);
      positionals.push(token);
      previousBool = undefined;
      continue;
    }
    previousBool = undefined;

    // split "--name=value"; a bare "--name" may take the next token as its value
    const eq = token.indexOf("=");
    const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    if (name === "help") {
      throw new FlagError(`--help takes no value, got "${token}"; write --help`, "--help");
    }
    const negated = name.startsWith("no-") && !byName.has(name) ? name.slice(3) : undefined;
    const key = byName.get(negated ?? name);
    const spec = key === undefined ? undefined : schema[key];
    if (key === undefined || spec === undefined || (negated && spec.type !== "bool")) {
      throw unknownFlag(`--${name}`, schema);
    }
    const flag = `--${flagName(key)}`;

    if (spec.type === "bool") {
      if (negated !== undefined && inline !== undefined) {
        throw new FlagError(
          `--no-${negated} takes no value, got "${token}"; write --no-${negated} or ${flag}`,
          flag,
        );
      }
      rejectRepeat(given.get(key), token, flag);
      const raw = inline ?? (negated !== undefined ? "false" : "true");
      given.set(key, { value: convert(spec, raw, flag), written: token });
      if (inline === undefined) previousBool = flag;
      continue;
    }

    // value flags: inline value, or the next token unless it is another flag
    let raw = inline;
    let written = token;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new FlagError(
          `${flag} needs a value (${valueHint(spec)}); write ${flag} VALUE or ${flag}=VALUE`,
          flag,
        );
      }
      raw = next;
      written = `${token} ${next}`;
      i++;
    }
    // checked once the value is read, so the message can quote both occurrences
    rejectRepeat(given.get(key), written, flag);
    given.set(key, { value: convert(spec, raw, flag), written });
  }
  return { given, positionals };
}

/** A flag may appear once; the error quotes both occurrences as written. */
function rejectRepeat(earlier: Given | undefined, written: string, flag: string): void {
  if (earlier === undefined) return;
  throw new FlagError(
    `${flag} is given twice (${earlier.written} and ${written}); give it once`,
    flag,
  );
}

/** Stray words: a value after a boolean flag, or positionals a command takes none of. */
function rejectLoose(
  token: string,
  previousBool: string | undefined,
  info: CommandInfo,
): void {
  const looksLikeValue = !info.positionals || BOOL_WORDS.has(token.toLowerCase());
  if (previousBool !== undefined && looksLikeValue) {
    throw new FlagError(
      `${previousBool} is a switch and takes no separate value, got "${token}" after it; ` +
        `write ${previousBool} or --no-${previousBool.slice(2)} ` +
        `(or ${previousBool}=true / ${previousBool}=false)`,
      previousBool,
    );
  }
  if (token.startsWith("-") && token.length > 1) {
    throw new FlagError(
      `unknown option "${token}": flags are written with two dashes, like --name; ` +
        `run ${info.command} --help for the list`,
    );
  }
  if (!info.positionals) {
    throw new FlagError(
      `unexpected argument "${token}": ${info.command} takes no positional arguments; ` +
        `flags are written --name value`,
    );
  }
}

/** Words read as booleans: rejected after a switch even where positionals are allowed. */
const BOOL_WORDS = new Set(["true", "false", "yes", "no", "on", "off", "1", "0"]);

/** The value of one flag: command line, then environment, then default. */
function resolve(
  key: string,
  spec: FlagSpec,
  given: Given | undefined,
  env: Record<string, string | undefined>,
): unknown {
  const flag = `--${flagName(key)}`;
  if (given !== undefined) return given.value;
  const fromEnv = spec.env === undefined ? undefined : env[spec.env];
  if (fromEnv !== undefined) {
    return convert(spec, fromEnv, `${flag} (from environment variable ${spec.env})`);
  }
  if (spec.default !== undefined) {
    return spec.type === "int-list" ? [...spec.default] : spec.default;
  }
  if (spec.type === "bool") return false;
  if (spec.required) {
    const envHint = spec.env === undefined ? "" : ` or set ${spec.env}`;
    throw new FlagError(
      `missing required flag ${flag} (${spec.help}); ` +
        `pass ${flag} ${valueHint(spec)}${envHint}`,
      flag,
    );
  }
  return undefined;
}

/** Converts one raw value by the spec's type, or throws a FlagError naming `where`. */
function convert(spec: FlagSpec, raw: string, where: string): unknown {
  const flag = where.split(" ")[0];
  const fail = (what: string): never => {
    throw new FlagError(`${where}: ${what}`, flag);
  };
  if (raw === "") fail(`empty value; expected ${valueHint(spec)}`);
  if (raw.startsWith("=")) {
    fail(
      `value "${raw}" starts with "="; write ${flag}=VALUE or ${flag} VALUE ` +
        `with no spaces around "="`,
    );
  }

  switch (spec.type) {
    case "string":
      return raw;
    case "bool":
      if (raw === "true") return true;
      if (raw === "false") return false;
      return fail(
        `expected true or false, got "${raw}"; or write ${flag} / --no-${flag.slice(2)}`,
      );
    case "int":
      return inRange(parseInt10(raw, fail), spec, fail);
    case "float":
      return inRange(parseFloat10(raw, fail), spec, fail);
    case "enum":
      if (spec.values.includes(raw)) return raw;
      return fail(
        `"${raw}" is not one of ${spec.values.join(", ")}` + suggestion(raw, spec.values, ""),
      );
    case "int-list":
      return raw.split(",").map((item, index) => {
        if (item === "") {
          fail(`item ${index + 1} of "${raw}" is empty; write whole numbers like 32,64,128`);
        }
        return inRange(parseInt10(item, fail), spec, fail);
      });
  }
}

const INT_PATTERN = /^[+-]?\d+$/;
const FLOAT_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseInt10(raw: string, fail: (what: string) => never): number {
  if (!INT_PATTERN.test(raw)) {
    return fail(`expected a whole number in plain digits (like 400), got "${raw}"`);
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) return fail(`${raw} is too large for a whole number`);
  return value;
}

function parseFloat10(raw: string, fail: (what: string) => never): number {
  if (!FLOAT_PATTERN.test(raw)) {
    return fail(`expected a finite number (like 0.1 or 1e-3), got "${raw}"`);
  }
  const value = Number(raw);
  if (!Number.isFinite(value)) return fail(`${raw} is out of range for a number`);
  return value;
}

function inRange(
  value: number,
  spec: { min?: number; max?: number },
  fail: (what: string) => never,
): number {
  if (spec.min !== undefined && value < spec.min) {
    fail(`${value} is below the minimum ${spec.min}`);
  }
  if (spec.max !== undefined && value > spec.max) {
    fail(`${value} is above the maximum ${spec.max}`);
  }
  return value;
}

function unknownFlag(written: string, schema: FlagSchema): FlagError {
  const names = ["--help"];
  for (const [key, spec] of Object.entries(schema)) {
    names.push(`--${flagName(key)}`);
    if (spec.type === "bool") names.push(`--no-${flagName(key)}`);
  }
  return new FlagError(
    `unknown flag ${written}` + suggestion(written, names, "--help lists every flag"),
    written,
  );
}

/** "; did you mean X?" for the closest candidate within a few edits, else `fallback`. */
function suggestion(
  written: string,
  candidates: readonly string[],
  fallback: string,
): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  const normalised = written.toLowerCase().replace(/_/g, "-");
  for (const candidate of candidates) {
    const distance = editDistance(normalised, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(written.length / 3));
  if (best !== undefined && bestDistance <= tolerance) return `; did you mean ${best}?`;
  return fallback === "" ? "" : `; ${fallback}`;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length];
}

/** "--epochs <int>", "--[no-]verbose", "--loss <biased|debiased>". */
function flagSyntax(key: string, spec: FlagSpec): string {
  const name = flagName(key);
  if (spec.type === "bool") return `--[no-]${name}`;
  return `--${name} ${valueHint(spec)}`;
}

function valueHint(spec: FlagSpec): string {
  switch (spec.type) {
    case "string":
      return "<string>";
    case "int":
      return "<int>";
    case "float":
      return "<float>";
    case "bool":
      return "<true|false>";
    case "enum":
      return `<${spec.values.join("|")}>`;
    case "int-list":
      return "<int,int,...>";
  }
}

/** Help text plus default, range, environment variable and required marks. */
function describe(spec: FlagSpec): string {
  const notes: string[] = [];
  if (spec.required) notes.push("required");
  if (spec.default !== undefined) {
    const shown = Array.isArray(spec.default) ? spec.default.join(",") : String(spec.default);
    notes.push(`default: ${shown}`);
  }
  if ("min" in spec && spec.min !== undefined) notes.push(`min: ${spec.min}`);
  if ("max" in spec && spec.max !== undefined) notes.push(`max: ${spec.max}`);
  if (spec.env !== undefined) notes.push(`env: ${spec.env}`);
  return notes.length === 0 ? spec.help : `${spec.help} (${notes.join("; ")})`;
}

/** Programming errors in a schema fail loudly at the first parse. */
function checkSchema(schema: FlagSchema): void {
  for (const [key, spec] of Object.entries(schema)) {
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key) || key === "help" || /^no[A-Z]/.test(key)) {
      throw new Error(
        `flag schema: "${key}" must be camelCase, not "help", not start with "no"`,
      );
    }
    if (spec.type === "enum") {
      if (spec.values.length === 0) {
        throw new Error(`flag schema: --${flagName(key)} lists no values`);
      }
      if (spec.default !== undefined && !spec.values.includes(spec.default)) {
        throw new Error(
          `flag schema: default "${spec.default}" of --${flagName(key)} ` +
            "is not among its values",
        );
      }
    }
  }
}
