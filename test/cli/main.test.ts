import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

/** A data folder that does not exist: a check that failed to refuse would end there, fast. */
const nowhere = ["--data-dir", path.join(os.tmpdir(), "dcl-no-such-data")];

/** Runs the command line with stderr captured; nothing here reaches training. */
async function dcl(argv: string[]): Promise<{ status: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const status = await main(argv);
    return { status, stderr: chunks.join("") };
  } finally {
    process.stderr.write = write;
  }
}

test("a loss setting the chosen objective ignores is refused, naming who uses it", async () => {
  const cases: [string[], RegExp][] = [
    [["--loss", "biased", "--tau-plus", "0.2"], /--tau-plus 0.2 has no effect with --loss biased.*--loss debiased and --loss hard/],
    [["--loss", "debiased", "--beta", "2"], /--beta 2 has no effect with --loss debiased.*--loss hard only.*choose that objective/],
    [["--loss", "unbiased", "--positives", "2"], /--positives 2 has no effect with --loss unbiased/],
  ];
  for (const command of ["run", "pretrain"]) {
    for (const [flags, pattern] of cases) {
      const { status, stderr } = await dcl([command, ...flags, ...nowhere]);
      assert.equal(status, 2, `${command} ${flags.join(" ")}`);
      assert.match(stderr, pattern);
    }
  }
});

test("stage widths and block counts of unequal length are refused as a flag error", async () => {
  const { status, stderr } = await dcl(["run", "--arch", "small", "--widths", "8,16",
    "--blocks", "1,1,1", ...nowhere]);
  assert.equal(status, 2);
  assert.match(stderr, /--widths has 2 stages and --blocks 3/);
});

test("--json naming a folder, or a path under a file, is refused before any work", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcl-cli-"));
  try {
    const folder = await dcl(["run", "--json", dir, ...nowhere]);
    assert.equal(folder.status, 2);
    assert.match(folder.stderr, /is a folder; give a file name, e\.g\. --json .*result\.json/);

    const file = path.join(dir, "plain");
    fs.writeFileSync(file, "");
    const under = await dcl(["evaluate", "--checkpoint", "x", "--json", path.join(file, "out.json")]);
    assert.equal(under.status, 2);
    assert.match(under.stderr, /is a file, so .* cannot be created/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("evaluate on a file that is no checkpoint says which file to pass instead", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcl-cli-"));
  try {
    const garbage = path.join(dir, "garbage.bin");
    fs.writeFileSync(garbage, "not a checkpoint at all");
    const { status, stderr } = await dcl(["evaluate", "--checkpoint", garbage]);
    assert.equal(status, 1);
    assert.match(stderr, /garbage\.bin is unreadable \(not a checkpoint file\); pass the pretrain\.ckpt/);
    assert.doesNotMatch(stderr, /afresh/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("an interrupted command says how to go on and exits with 130", () => {
  const module = fileURLToPath(new URL("../../src/util/interrupt.ts", import.meta.url));
  const script = `import { onInterrupt } from ${JSON.stringify(module)};
onInterrupt(() => "kept: every finished epoch");
setTimeout(() => process.kill(process.pid, "SIGINT"), 10);
setTimeout(() => {}, 5000);`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script],
    { encoding: "utf8", timeout: 20_000 });
  assert.equal(child.status, 130, child.stderr);
  assert.match(child.stderr, /kept: every finished epoch/);
});
