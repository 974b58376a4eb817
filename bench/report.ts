/**
 * The benchmark's printed report: definitions, the ceiling, a speed table, a
 * memory and tensor-leak table, and the data pipeline, from one run's results.
 */
import type { BackendName } from "../src/backend/types.js";
import type { ChildOutcome } from "./child.js";
import type { BenchOptions } from "./options.js";
import type { PipelineResult } from "./pipeline.js";
import type { BenchArch, CeilingResult, MatmulResult, TorchResult, TrainResult } from "./protocol.js";
import { bytes, formatTable, rate, ratio, tensorTrend, type Align } from "./table.js";

/** One model, step size and backend: our side and the reference. */
export interface BenchRow {
  model: BenchArch;
  imagesPerStep: number;
  backend: BackendName;
  /** Chunk size our step ran with (null: the whole step at once). */
  chunkSize: number | null;
  /** Analytic training FLOPs of one encoder image (see bench/flops.ts). */
  trainFlopsPerImage: number;
  ours: ChildOutcome<TrainResult>;
  torch: ChildOutcome<TorchResult>;
}

/** Everything one run measured; also the JSON file's content. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: {
    cpuModel: string;
    logicalCores: number;
    memoryGiB: number;
    node: string;
    loadAverageStart: number[];
    loadAverageEnd: number[];
  };
  options: BenchOptions;
  /** Requested backends that could not load, with the reason. */
  unavailable: Partial<Record<BackendName, string>>;
  ceiling: ChildOutcome<CeilingResult>;
  backendMatmul: Partial<Record<BackendName, ChildOutcome<MatmulResult>>>;
  rows: BenchRow[];
  pipeline: ChildOutcome<PipelineResult>;
}

/** The whole printed report. */
export function renderReport(report: BenchReport): string {
  const ceiling = machineCeiling(report);
  const torchVersion = report.rows.find((r) => r.torch.ok);
  return [
    header(report, torchVersion?.torch.ok ? torchVersion.torch.value.torchVersion : "?"),
    "",
    speedTable(report, ceiling),
    "",
    memoryTable(report),
    "",
    pipelineSection(report),
  ].join("\n");
}

/**
 * The best float32 product seen in this run: PyTorch's three ways and each of
 * our backends' own matMul (on a loaded machine any of them may come out top).
 */
export function machineCeiling(report: BenchReport): number | null {
  const seen = Object.values(report.backendMatmul)
    .flatMap((m) => (m?.ok ? [m.value.gflops] : []));
  if (report.ceiling.ok) seen.push(report.ceiling.value.ceilingGflops);
  return seen.length === 0 ? null : Math.max(...seen);
}

function header(report: BenchReport, torchVersion: string): string {
  const { machine, options } = report;
  const load = (l: number[]): string => l.map((v) => v.toFixed(1)).join(" ");
  const lines = [
    `Training step, ours (TensorFlow.js) vs PyTorch ${torchVersion}, ` +
      `${options.threads} threads each, ${options.warmup} warm-up + ${options.steps} timed steps`,
    `machine: ${machine.logicalCores} x ${machine.cpuModel}, ${machine.memoryGiB.toFixed(0)} GiB, ` +
      `node ${machine.node}; load average ${load(machine.loadAverageStart)} at the start, ` +
      `${load(machine.loadAverageEnd)} at the end`,
    "img/step = encoder images per step: two augmented views of img/step / 2 source images,",
    "  each view in its own forward pass (img/step - 2 negatives per anchor); img/s counts",
    "  encoder images. Loss: debiased (tau_plus 0.1, t 0.5); Adam lr 1e-3, weight decay 1e-6;",
    "  synthetic 32x32 inputs.",
    "GFLOP/s = (forward conv + linear MACs x 2 x 3) per encoder image x img/s; % of the ceiling.",
    "backend/N = our step in chunks of N images (embed all, then backward chunk by chunk;",
    "  one extra forward pass): on wasm chosen by the step itself when the whole step would",
    "  not fit in 4 GiB, else set by BENCH_CHUNK or the second try after a failed step.",
    ceilingLine(report),
  ];
  for (const [backend, reason] of Object.entries(report.unavailable)) {
    lines.push(`backend ${backend} not measured: ${reason}`);
  }
  return lines.join("\n");
}

function ceilingLine(report: BenchReport): string {
  const c = report.ceiling;
  const own = Object.entries(report.backendMatmul)
    .map(([b, m]) => (m.ok ? `${b} matMul ${m.value.size}^3: ${rate(m.value.gflops)}` : `${b} matMul failed: ${m.error}`))
    .join("; ");
  const best = machineCeiling(report);
  const title = `ceiling: ${best === null ? "-" : rate(best)} GFLOP/s = the best float32 ` +
    `product measured in this run, ${report.options.threads} threads`;
  if (!c.ok) return `${title}\n  (PyTorch: failed, ${c.error}; ${own} GFLOP/s)`;
  const v = c.value;
  return [
    title,
    `  (PyTorch via oneDNN ${v.onednnMatmulShape.join("x")}: ${rate(v.onednnGflops)}; ` +
      `torch.mm ${v.blasMatmulSize}^3: ${rate(v.torchMmGflops)}; numpy: ${rate(v.numpyGflops)};`,
    `  ${own} GFLOP/s; torch.mm and numpy use Debian's reference BLAS)`,
  ].join("\n");
}

function speedTable(report: BenchReport, ceiling: number | null): string {
  const pipelineRate = report.pipeline.ok ? report.pipeline.value.pipelineViewsPerSecond : NaN;
  const gflops = (imagesPerSecond: number, flops: number): string => {
    const g = (imagesPerSecond * flops) / 1e9;
    return ceiling === null ? rate(g) : `${rate(g)} (${((100 * g) / ceiling).toFixed(0)}%)`;
  };
  const rows: string[][] = [];
  for (const row of report.rows) {
    const ours = row.ours.ok ? row.ours.value : null;
    const torch = row.torch.ok ? row.torch.value : null;
    rows.push([
      row.model,
      String(row.imagesPerStep),
      backendLabel(row),
      ours ? rate(ours.imagesPerSecond) : "crashed",
      torch ? rate(torch.imagesPerSecond) : "failed",
      ours && torch ? ratio(ours.imagesPerSecond / torch.imagesPerSecond) : "-",
      ours ? gflops(ours.imagesPerSecond, row.trainFlopsPerImage) : "-",
      torch ? gflops(torch.imagesPerSecond, row.trainFlopsPerImage) : "-",
      `${ours ? ours.coresUsed.toFixed(1) : "-"} / ${torch ? torch.coresUsed.toFixed(1) : "-"}`,
      ours ? ratio(pipelineRate / ours.imagesPerSecond) : "-",
    ]);
    if (!row.ours.ok) rows.push([`  ours crashed: ${row.ours.error}`]);
    if (!row.torch.ok) rows.push([`  PyTorch failed: ${row.torch.error}`]);
  }
  const head = [
    "model", "img/step", "backend", "ours img/s", "torch img/s", "ours/torch",
    "ours GFLOP/s", "torch GFLOP/s", "cores ours/torch", "pipeline/ours",
  ];
  const align: Align[] = ["left", "right", "left", "right", "right", "right", "right", "right", "right", "right"];
  return [
    "Speed (cores = CPU seconds per wall second each side actually got; pipeline/ours =",
    "  encoder images/s the data pipeline makes on one thread / images/s our step consumes)",
    formatTable(head, rows, align),
  ].join("\n");
}

/** "wasm", or "wasm/128" when the step ran in chunks of 128 images. */
function backendLabel(row: BenchRow): string {
  return row.chunkSize === null || row.chunkSize >= row.imagesPerStep
    ? row.backend
    : `${row.backend}/${row.chunkSize}`;
}

function memoryTable(report: BenchReport): string {
  const rows: string[][] = report.rows.map((row) => {
    const ours = row.ours.ok ? row.ours.value : null;
    const torch = row.torch.ok ? row.torch.value : null;
    return [
      row.model,
      String(row.imagesPerStep),
      backendLabel(row),
      ours ? bytes(ours.peakRssBytes) : "crashed",
      ours ? bytes(ours.wasmHeapBytes) : "-",
      torch ? bytes(torch.peakRssBytes) : "-",
      ours ? tensorTrend(ours.numTensors) : "-",
    ];
  });
  const head = [
    "model", "img/step", "backend", "ours peak RSS", "ours wasm heap", "torch peak RSS",
    "ours tf.memory().numTensors: before step 1 > after each step",
  ];
  const align: Align[] = ["left", "right", "left", "right", "right", "right", "left"];
  return [
    "Memory (peak RSS = the process's high-water mark, one fresh process per configuration;",
    "  wasm heap = size of the wasm linear memory at the end, which only grows, 4 GiB at most)",
    formatTable(head, rows, align),
  ].join("\n");
}

function pipelineSection(report: BenchReport): string {
  const p = report.pipeline;
  if (!p.ok) return `Data pipeline: failed (${p.error})`;
  const v = p.value;
  const decode = v.decodeImagesPerSecond === null
    ? `  JPEG decode: not measured (${v.note})`
    : `  JPEG decode of ${v.decodedImages} images (tar.gz read + decode + cache write): ` +
      `${rate(v.decodeImagesPerSecond)} images/s`;
  const fastest = report.rows
    .filter((r) => r.ours.ok)
    .map((r) => ({ r, rate: r.ours.ok ? r.ours.value.imagesPerSecond : 0 }))
    .sort((a, b) => b.rate - a.rate)[0];
  const consume = fastest === undefined
    ? "no training configuration finished to compare with"
    : `${ratio(v.pipelineViewsPerSecond / fastest.rate)} what our fastest configuration ` +
      `consumes (${fastest.r.model} ${fastest.r.imagesPerStep} ${fastest.r.backend}: ` +
      `${rate(fastest.rate)} img/s)`;
  return [
    `Data pipeline alone, one thread, source: ${v.source}`,
    decode,
    `  two augmented views per image: ${rate(v.augmentViewsPerSecond)} views/s ` +
      `(${rate(v.augmentViewsPerCpuSecond)} per CPU second)`,
    `  decode + two views: ${rate(v.pipelineViewsPerSecond)} encoder images/s, ${consume}`,
  ].join("\n");
}
