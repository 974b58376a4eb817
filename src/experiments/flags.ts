/**
 * A small strict command-line parser for the experiment entry point: every
 * flag must be declared, values are checked, and errors name the flag and say
 * what to do instead of guessing.
 */

/** Declaration of one flag: "string" takes a value, "boolean" takes none. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** One line shown by --help. */
  help: string;
}

/** Parsed flags: strings for value flags, true for boolean flags that were given. */
export type ParsedFlags = Record<string, string | boolean | undefined>;

/** Parses `argv` against `specs`; throws an Error naming the offending flag. */
export function parseFlags(
  argv: readonly string[], specs: Readonly<Record<string, FlagSpec>>,
): ParsedFlags {
  const parsed: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      throw new Error(`unexpected argument "${arg}": flags start with --; see --help`);
    }

    // split "--name=value" or take the value from the next argument
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) {
      const known = Object.keys(specs).map((n) => `--${n}`).join(", ");
      throw new Error(`unknown flag --${name}; known flags: ${known}`);
    }
    if (parsed[name] !== undefined) throw new Error(`flag --${name} is given twice`);

    if (spec.type === "boolean") {
      if (eq !== -1) {
        throw new Error(`flag --${name} takes no value (got "${arg.slice(eq + 1)}")`);
      }
      parsed[name] = true;
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "" || (eq === -1 && value.startsWith("--"))) {
      throw new Error(`flag --${name} needs a value`);
    }
    parsed[name] = value;
  }
  return parsed;
}

/** Reads a positive number flag; the error names the flag and the bad value. */
export function positiveNumber(flags: ParsedFlags, name: string, fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`flag --${name} must be a positive number, got "${String(raw)}"`);
  }
  return value;
}

/** Help text listing the flags. */
export function flagHelp(specs: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      const left = spec.type === "string" ? `--${name} VALUE` : `--${name}`;
      return `  ${left.padEnd(24)} ${spec.help}`;
    })
    .join("\n");
}
