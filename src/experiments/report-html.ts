/**
 * HTML pieces of the reports: the provenance header, result tables that put
 * our mean and 95 % t-interval next to the paper's value, and Plotly figures.
 * Every function returns a string for `tslab.display.html`.
 */
import fs from "node:fs";
import path from "node:path";
import { dataCommand } from "../data/info.js";
import type { DatasetName } from "../data/types.js";
import type { CachedRun } from "./cache.js";
import { paperValueFor } from "./paper.js";
import { distinct, headline, settingLabel, type GridPoint } from "./report-data.js";
import type { SeedSummary } from "./stats.js";

/** One line of a Plotly figure: x, y and the interval half-widths. */
export interface Series {
  name: string;
  x: number[];
  y: number[];
  /** Half-widths of the 95 % intervals (NaN where fewer than 2 seeds). */
  error: number[];
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** The page style and the Plotly bundle, inlined so the HTML works offline. */
export function pagePreamble(root: string): string {
  const bundle = fs.readFileSync(
    path.join(root, "node_modules", "plotly.js-dist-min", "plotly.min.js"), "utf8");
  // "</script" inside the bundle would end the script element early
  const safe = bundle.replace(/<\/script/gi, "<\\/script");
  return `<style>${STYLE}</style><script type="text/javascript">${safe}</script>`;
}

/** "72.00 ± 4.97 [67.03, 76.97] (3 seeds)", or the single value with a note. */
export function formatSummary(s: SeedSummary): string {
  if (s.n === 0) return "–";
  if (s.n === 1) return `${s.mean.toFixed(2)} (1 seed, no interval)`;
  return `${s.mean.toFixed(2)} ± ${s.halfWidth.toFixed(2)} ` +
    `[${s.low.toFixed(2)}, ${s.high.toFixed(2)}] (${s.n} seeds)`;
}

/** Provenance of a set of runs: scale, dataset copy, backend, code and libraries. */
export function provenanceHtml(runs: readonly CachedRun[]): string {
  if (runs.length === 0) return "";
  const configs = runs.map((r) => r.result.config);
  const first = configs[0];
  const enc = first.pretrain.encoder;
  const arch = enc.arch === "small"
    ? `small ResNet, widths [${enc.widths.join(", ")}], blocks [${enc.blocks.join(", ")}]`
    : enc.arch;
  const values = <T>(pick: (r: CachedRun) => T) => distinct(runs, pick).join("; ");
  const rows: [string, string][] = [
    ["encoder", `${arch}, head ${enc.headHidden} -> ${enc.projectionDim}`],
    ["pretraining", `${values((r) => `${r.result.pretrainImages} images`)}, ` +
      `${values((r) => `${r.result.config.pretrain.epochs} epoch(s)`)}, Adam lr ` +
      `${first.pretrain.lr}, weight decay ${first.pretrain.weightDecay}`],
    ["evaluation", `kNN k=${first.eval.knnK} (bank ${first.eval.trainSubset ?? "all"} ` +
      `train images, ${first.eval.testSubset ?? "all"} test images); linear probe ` +
      `${first.eval.linearEpochs} epochs`],
    ["dataset copy", values((r) => r.provenance.datasetCopy)],
    ["backend", values((r) => `${r.result.backend.name} (${r.result.backend.threads} ` +
      `thread(s), ${r.result.backend.selection})`)],
    ["code", values((r) => `${r.provenance.gitCommit.slice(0, 10)}` +
      `${r.provenance.gitDirty ? " (uncommitted changes)" : ""}`)],
    ["libraries", values((r) => Object.entries(r.provenance.libraries)
      .map(([name, v]) => `${name} ${v}`).join(", "))],
    ["node", values((r) => r.provenance.node)],
    ["runs", `${runs.length}, written ${dateRange(runs)}`],
  ];
  return `<table class="provenance">${rows.map(([k, v]) =>
    `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`;
}

/** Result table of grid points: our numbers and, where known, the paper's. */
export function resultsTable(points: readonly GridPoint[]): string {
  const header = ["setting", "seeds", "kNN top-1 %", "linear top-1 %",
    "paper top-1 % (source)"];
  const body = points.map((p) => {
    const paper = paperValueFor(p.dataset, p.kind, p.tauPlus, p.beta);
    const paperCell = paper === undefined ? "–"
      : `${paper.top1.toFixed(2)} (${escapeHtml(paper.source)}; ` +
        `${escapeHtml(paper.setting)})` +
        (paper.verified ? "" : ` <span class="unverified">unverified</span>`);
    return `<tr><td>${escapeHtml(settingLabel(p))}</td><td>${p.seeds.join(", ")}</td>` +
      `<td>${formatSummary(p.knn)}</td>` +
      `<td>${p.linear === null ? "not probed" : formatSummary(p.linear)}</td>` +
      `<td>${paperCell}</td></tr>`;
  });
  return `<table class="results"><tr>${header.map((h) => `<th>${h}</th>`).join("")}</tr>` +
    `${body.join("")}</table>` +
    `<p class="note">Intervals: mean ± half-width of the two-sided 95 % Student-t ` +
    `interval over seeds. Paper values were measured at the paper's scale, not this one.</p>`;
}

/** Message shown where a grid has no results at this profile. */
export function missingHtml(
  what: string, profile: string, artefact: string, dataset: DatasetName,
): string {
  return `<p class="missing">${escapeHtml(what)}: not run at this scale yet: run ` +
    `<code>make reproduce PROFILE=${escapeHtml(profile)}</code> (or <code>npx tsx ` +
    `src/experiments/main.ts run --profile ${escapeHtml(profile)} --artefact ` +
    `${escapeHtml(artefact)}</code>) once the dataset is under data/ ` +
    `(<code>${escapeHtml(dataCommand(dataset))}</code>, see data/README.md).</p>`;
}

/** Warning listing cache files that were rejected. */
export function unreadableHtml(files: readonly { file: string; error: string }[]): string {
  if (files.length === 0) return "";
  return `<div class="warning"><b>${files.length} cache file(s) could not be read and ` +
    `are left out</b> (<code>make reproduce</code> retrains them where the dataset is ` +
    `present):<ul>${files.map((f) => `<li>${escapeHtml(f.error)}</li>`).join("")}` +
    `</ul></div>`;
}

let figureCount = 0;

/** A Plotly line figure with 95 % interval error bars. */
export function lineFigure(
  title: string, series: readonly Series[], axes: { x: string; y: string; logX?: boolean },
): string {
  const traces = series.map((s) => ({
    type: "scatter", mode: "lines+markers", name: s.name, x: s.x, y: s.y,
    error_y: { type: "data", array: s.error.map((e) => (Number.isFinite(e) ? e : 0)),
      visible: s.error.some((e) => Number.isFinite(e)) },
  }));
  const layout = {
    title: { text: title }, height: 420,
    // ticks exactly at the grid's settings, not at round numbers between them
    xaxis: { title: { text: axes.x }, type: axes.logX === true ? "log" : "linear",
      tickvals: [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b) },
    yaxis: { title: { text: axes.y } }, legend: { orientation: "h", y: -0.2 },
    margin: { t: 50, l: 60, r: 20, b: 80 },
  };
  return plot(traces, layout);
}

/** A Plotly figure from raw traces and layout. */
export function plot(traces: readonly object[], layout: object): string {
  figureCount++;
  const id = `figure-${figureCount}`;
  return `<div id="${id}" class="figure"></div><script type="text/javascript">` +
    `Plotly.newPlot(${JSON.stringify(id)}, ${JSON.stringify(traces)}, ` +
    `${JSON.stringify(layout)}, {responsive: true, displaylogo: false});</script>`;
}

/** Series of a grid's headline metric against one setting, one line per group. */
export function seriesOf(
  points: readonly GridPoint[], group: (p: GridPoint) => string, x: (p: GridPoint) => number,
): Series[] {
  const names = [...new Set(points.map(group))];
  return names.map((name) => {
    const members = points.filter((p) => group(p) === name).sort((a, b) => x(a) - x(b));
    return {
      name,
      x: members.map(x),
      y: members.map((p) => headline(p).summary.mean),
      error: members.map((p) => headline(p).summary.halfWidth),
    };
  });
}

function dateRange(runs: readonly CachedRun[]): string {
  const days = runs.map((r) => r.provenance.createdAt.slice(0, 10)).sort();
  const [first, last] = [days[0], days[days.length - 1]];
  return first === last ? first : `${first} to ${last}`;
}

const STYLE = `
.dcl-report, .provenance, .results { font-family: system-ui, sans-serif; font-size: 13px; }
table.provenance, table.results { border-collapse: collapse; margin: 8px 0; }
table.provenance th, table.provenance td, table.results th, table.results td {
  border: 1px solid #ccc; padding: 3px 8px; vertical-align: top;
  text-align: left !important; }
table.provenance th, table.results th { background: #f2f2f2; }
.unverified { background: #fde2b8; color: #7a4500; padding: 0 4px; border-radius: 3px; }
.absent { color: #2c5aa0; font-weight: 600; }
.missing { background: #eef3fb; border-left: 4px solid #5b8bd9; padding: 6px 10px; }
.warning { background: #fdecea; border-left: 4px solid #d9534f; padding: 6px 10px; }
.note { color: #555; font-size: 12px; }
.answer { font-family: system-ui, sans-serif; font-size: 14px; }
.verdict-higher { color: #1e7b34; font-weight: 600; }
.verdict-lower { color: #b02a37; font-weight: 600; }
.figure { width: 100%; max-width: 900px; }
`;
