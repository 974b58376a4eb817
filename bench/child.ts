/**
 * Running one benchmark configuration in a child process: its answer is the
 * RESULT_MARKER line on stdout; its PROGRESS_MARKER lines on stderr keep it
 * alive; a child that dies or stalls becomes a failure message, not a crash
 * of the whole benchmark.
 */
import { spawn } from "node:child_process";
import { PROGRESS_MARKER, RESULT_MARKER } from "./protocol.js";

/** What a child answered, or why it did not. */
export type ChildOutcome<T> =
  | { ok: true; value: T; seconds: number }
  | { ok: false; error: string; seconds: number };

/** How to run and watch a child. */
export interface ChildOptions {
  /** Kill the child after this many seconds without a progress line. */
  stallSeconds: number;
  /** Receives every progress line (without the marker). */
  onProgress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Working folder (default: this process's). */
  cwd?: string;
}

/** Run `command args`, resolve to its parsed answer or to the reason it failed. */
export function runChild<T>(
  command: string,
  args: readonly string[],
  options: ChildOptions,
): Promise<ChildOutcome<T>> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  let stdout = "";
  const stderrTail: string[] = [];
  let pending = "";
  let stalled = false;

  // the stall timer restarts at every progress line
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      child.kill("SIGKILL");
    }, options.stallSeconds * 1000);
  };
  arm();

  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith(PROGRESS_MARKER)) {
        arm();
        options.onProgress?.(line.slice(PROGRESS_MARKER.length));
      } else if (line.trim() !== "") {
        stderrTail.push(line);
        if (stderrTail.length > 40) stderrTail.shift();
      }
    }
  });

  return new Promise((resolve) => {
    child.on("error", (err) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ ok: false, error: `could not start ${command}: ${err.message}`, seconds: seconds() });
    });
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (pending.trim() !== "" && !pending.startsWith(PROGRESS_MARKER)) stderrTail.push(pending);
      resolve(interpret<T>(stdout, stderrTail, code, signal, stalled, options.stallSeconds, seconds()));
    });
  });
}

function interpret<T>(
  stdout: string,
  stderrTail: string[],
  code: number | null,
  signal: NodeJS.Signals | null,
  stalled: boolean,
  stallSeconds: number,
  seconds: number,
): ChildOutcome<T> {
  if (stalled) {
    return {
      ok: false,
      seconds,
      error: `no progress for ${stallSeconds} s, killed (threaded wasm hangs like this ` +
        "when its 4 GB heap runs out)",
    };
  }

  // the answer line, when the child got that far
  const answer = stdout.split("\n").find((line) => line.startsWith(RESULT_MARKER));
  if (answer !== undefined) {
    const value = JSON.parse(answer.slice(RESULT_MARKER.length)) as T | { error: string };
    if (typeof value === "object" && value !== null && "error" in value) {
      return { ok: false, error: value.error, seconds };
    }
    return { ok: true, value: value as T, seconds };
  }
  const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
  return { ok: false, error: `${crashLine(stderrTail)} (${how})`, seconds };
}

/** The most telling line of a dead child's stderr. */
export function crashLine(stderr: readonly string[]): string {
  const telling = /error|abort|out of memory|out of bounds|killed|fatal/i;
  const line = [...stderr].reverse().find((l) => telling.test(l)) ?? stderr.at(-1);
  return line === undefined ? "no output" : line.trim().slice(0, 300);
}
