/**
 * `make bench`: our training step against the same step in PyTorch, side by
 * side in one run, plus the data pipeline alone. Each configuration runs in a
 * fresh child process; the table goes to stdout, progress to stderr, and
 * every number to a JSON file (BENCH_OUT). Settings: see bench/options.ts.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BackendName } from "../src/backend/types.js";
import { loadNative } from "../src/backend/native.js";
import { encoderPresets } from "../src/models/encoder.js";
import { runChild, type ChildOutcome } from "./child.js";
import { trainFlopsPerImage } from "../src/models/cost.js";
import { readOptions, type BenchOptions } from "./options.js";
import type { PipelineResult } from "./pipeline.js";
import type {
  BenchArch, CeilingResult, MatmulJob, MatmulResult, TorchResult, TrainJob, TrainResult,
} from "./protocol.js";
import { renderReport, type BenchReport, type BenchRow } from "./report.js";

/** Our step may take this many reference steps before it counts as hung. */
const STALL_FACTOR = 15;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
/** Children run from the project root, where `--import tsx` resolves. */
const projectDir = path.dirname(benchDir);

async function main(): Promise<void> {
  const options = readOptions();
  const startedAt = new Date().toISOString();
  const loadStart = os.loadavg();

  // which of our backends can run at all
  const { backends, unavailable } = await usableBackends(options.backends);

  // ceilings: the machine's best float32 product, and each backend's own matmul
  const ceiling = await runPython<CeilingResult>(options, ["ceiling"], "ceiling");
  const backendMatmul: Partial<Record<BackendName, ChildOutcome<MatmulResult>>> = {};
  for (const backend of backends) {
    const job: MatmulJob = { kind: "matmul", backend, threads: options.threads, size: 1024, repeats: 3 };
    backendMatmul[backend] = await runOurs<MatmulResult>(options, job, `matmul ${backend}`);
  }

  // every model and step size: the reference first, then each of our backends
  const rows: BenchRow[] = [];
  for (const model of options.models) {
    for (const imagesPerStep of options.sizes) {
      const torch = await runTorch(options, model, imagesPerStep);
      const stallSeconds = oursStallSeconds(options, torch);
      for (const backend of backends) {
        const job: TrainJob = {
          kind: "train", backend, threads: options.threads, arch: model, imagesPerStep,
          warmup: options.warmup, steps: options.steps, chunkSize: options.chunkSize,
        };
        const row = (ours: ChildOutcome<TrainResult>, chunkSize: number | null): BenchRow => ({
          model, imagesPerStep, backend, chunkSize,
          trainFlopsPerImage: trainFlopsPerImage(encoderPresets[model]),
          ours,
          torch,
        });
        const label = `${model} ${imagesPerStep} ${backend}`;
        const ours = await runOurs<TrainResult>(options, job, label, stallSeconds);
        rows.push(row(ours, ours.ok ? ours.value.chunkSize : job.chunkSize));

        // a step that does not fit gets a second try in chunks, as the quick profile runs
        const retry = options.retryChunk;
        if (!ours.ok && retry !== null && (job.chunkSize ?? Infinity) > retry && imagesPerStep > retry) {
          const chunked = { ...job, chunkSize: retry };
          const again = await runOurs<TrainResult>(options, chunked, `${label} chunk ${retry}`, stallSeconds);
          rows.push(row(again, again.ok ? again.value.chunkSize : retry));
        }
      }
    }
  }

  // the data pipeline alone
  const pipeline = await runChild<PipelineResult>(
    process.execPath,
    ["--import", "tsx", path.join(benchDir, "pipeline.ts"), options.dataDir],
    { stallSeconds: options.stallSeconds, onProgress: progressTo("pipeline"), cwd: projectDir },
  );

  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      logicalCores: os.cpus().length,
      memoryGiB: os.totalmem() / 2 ** 30,
      node: process.version,
      loadAverageStart: loadStart,
      loadAverageEnd: os.loadavg(),
    },
    options,
    unavailable,
    ceiling,
    backendMatmul,
    rows,
    pipeline,
  };
  process.stdout.write(renderReport(report) + "\n");
  await mkdir(path.dirname(options.out), { recursive: true });
  await writeFile(options.out, JSON.stringify(report, null, 2) + "\n");
  process.stderr.write(`results written to ${options.out}\n`);
}

/** The requested backends that load here, and why the others do not. */
async function usableBackends(requested: BackendName[]): Promise<{
  backends: BackendName[];
  unavailable: Partial<Record<BackendName, string>>;
}> {
  const backends: BackendName[] = [];
  const unavailable: Partial<Record<BackendName, string>> = {};
  for (const backend of requested) {
    if (backend === "native" || backend === "native-gpu") {
      try {
        await loadNative(backend);
      } catch (err) {
        unavailable[backend] = err instanceof Error ? err.message : String(err);
        process.stderr.write(`bench: skipping backend ${backend}: ${unavailable[backend]}\n`);
        continue;
      }
    }
    backends.push(backend);
  }
  return { backends, unavailable };
}

function runOurs<T>(
  options: BenchOptions,
  job: TrainJob | MatmulJob,
  label: string,
  stallSeconds = options.stallSeconds,
) {
  return runChild<T>(
    process.execPath,
    ["--import", "tsx", path.join(benchDir, "ours.ts"), JSON.stringify(job)],
    { stallSeconds, onProgress: progressTo(`ours ${label}`), cwd: projectDir },
  );
}

/**
 * How long our side may go without finishing a step: a fixed floor, or
 * STALL_FACTOR reference steps when that is longer. Threaded wasm that runs
 * out of heap hangs without a word, so this bounds what such a hang costs.
 */
function oursStallSeconds(options: BenchOptions, torch: ChildOutcome<TorchResult>): number {
  if (!torch.ok) return options.stallSeconds;
  const steps = torch.value.stepSeconds;
  const mean = steps.reduce((a, b) => a + b, 0) / steps.length;
  return Math.max(options.stallSeconds, Math.ceil(STALL_FACTOR * mean));
}

function runTorch(options: BenchOptions, model: BenchArch, imagesPerStep: number) {
  const args = [
    "step", "--arch", model, "--images", String(imagesPerStep),
    "--steps", String(options.steps), "--warmup", String(options.warmup),
  ];
  return runPython<TorchResult>(options, args, `${model} ${imagesPerStep}`);
}

function runPython<T>(options: BenchOptions, args: string[], label: string) {
  return runChild<T>(options.python, [path.join(benchDir, "torch_reference.py"), ...args], {
    stallSeconds: options.stallSeconds,
    onProgress: progressTo(`torch ${label}`),
    env: { ...process.env, BENCH_THREADS: String(options.threads) },
  });
}

function progressTo(label: string): (line: string) => void {
  return (line) => process.stderr.write(`  [${label}] ${line}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
