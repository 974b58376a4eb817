/**
 * What the notebooks import (as dist/experiments/notebook.js, because the
 * notebook kernel compiles only files under notebooks/). A Report reads one
 * profile's cache and returns HTML for `tslab.display.html`; it never trains.
 *
 * Profile and cache come from the environment: DCL_REPORT_PROFILE (default
 * "quick") and DCL_CACHE_ROOT (default <project>/results/cache).
 */
import path from "node:path";
import type { DatasetName } from "../data/types.js";
import { CIFAR10_CLASSES, STL10_CLASSES } from "../data/info.js";
import { answerOf, claimsOf } from "./claims.js";
import { imagenet100Best, paperValues, unverifiedFigures } from "./paper.js";
import { getProfile, profiles } from "./profiles.js";
import { pca2, tsne2 } from "./projection.js";
import { artefactCells, artefactNames, artefacts, type ArtefactName } from "./registry.js";
import {
  gridPoints, loadReportData, projectRoot, settingLabel, type GridPoint, type ReportData,
} from "./report-data.js";
import {
  escapeHtml, lineFigure, missingHtml, pagePreamble, plot, provenanceHtml, resultsTable,
  seriesOf, unreadableHtml,
} from "./report-html.js";

/** Display names of the datasets. */
export const datasetTitles: Readonly<Record<DatasetName, string>> = {
  cifar10: "CIFAR-10", stl10: "STL-10", imagenet100: "ImageNet-100",
};

/** One profile's results, rendered as HTML pieces. */
export class Report {
  private constructor(
    readonly profile: string, readonly root: string, readonly data: ReportData,
  ) {}

  /** Opens the cache of the profile named by DCL_REPORT_PROFILE (default quick). */
  static open(): Report {
    const root = projectRoot();
    const profile = process.env.DCL_REPORT_PROFILE ?? "quick";
    const cacheRoot = process.env.DCL_CACHE_ROOT ?? path.join(root, "results", "cache");
    return new Report(profile, root, loadReportData(profile, cacheRoot));
  }

  /** Page start: style, the Plotly bundle (once per page), title and profile. */
  intro(title: string, artefact?: ArtefactName): string {
    const known = Object.hasOwn(profiles, this.profile) ? getProfile(this.profile) : null;
    const about = known === null ? "custom profile" : known.summary;
    const figure = artefact === undefined ? undefined : unverifiedFigures[artefact];
    const a = artefact === undefined ? undefined : artefacts[artefact];
    return pagePreamble(this.root) +
      `<div class="dcl-report"><h1>${escapeHtml(title)}</h1>` +
      `<p><b>Profile:</b> ${escapeHtml(this.profile)} (${escapeHtml(about)}).</p>` +
      (a === undefined ? "" : `<p><b>In the paper:</b> ${escapeHtml(a.paperRef)}.</p>`) +
      (figure === undefined ? "" :
        `<p><span class="unverified">unverified</span> ${escapeHtml(figure)}.</p>`) +
      `</div>` + unreadableHtml(this.data.unreadable.map((f) => ({
        file: path.relative(this.root, f.file),
        // reports are committed: no absolute paths of the machine that made them
        error: f.error.split(this.root + path.sep).join(""),
      })));
  }

  /** Grid points of an artefact on a dataset. */
  points(artefact: ArtefactName, dataset: DatasetName): GridPoint[] {
    return gridPoints(this.data, artefact, dataset);
  }

  /** Provenance table of an artefact's runs on a dataset. */
  provenance(artefact: ArtefactName, dataset: DatasetName): string {
    const runs = this.points(artefact, dataset).flatMap((p) => p.runs);
    if (runs.length === 0) return "";
    return `<h3>How these numbers were produced (${datasetTitles[dataset]})</h3>` +
      provenanceHtml(runs);
  }

  /** Result table, or the command that produces it. */
  table(artefact: ArtefactName, dataset: DatasetName): string {
    const points = this.points(artefact, dataset);
    if (points.length === 0) return this.missing(artefact, dataset);
    return `<h3>${datasetTitles[dataset]}</h3>` + resultsTable(points);
  }

  /**
   * The paper's claims for an artefact, each answered in one sentence from
   * paired per-seed differences with 95 % intervals ("" without runs).
   */
  claims(artefact: ArtefactName, dataset: DatasetName): string {
    const claims = claimsOf(artefact, this.points(artefact, dataset));
    if (claims.length === 0) return "";
    const scale = Object.hasOwn(profiles, this.profile)
      ? getProfile(this.profile).summary : "custom profile";
    const sections = claims.map((claim) => {
      const rows = claim.comparisons.map((c) => {
        const d = c.difference;
        const value = d.n < 2 ? `${signed(d.mean)} (${d.n} seed)`
          : `${signed(d.mean)} ± ${d.halfWidth.toFixed(2)} [${signed(d.low)}, ${signed(d.high)}]`;
        return `<tr><td>${escapeHtml(settingLabel(c.candidate))}</td>` +
          `<td>${escapeHtml(settingLabel(c.baseline))}</td><td>${c.metric}</td>` +
          `<td>${value}</td><td>${c.seeds.join(", ")}</td>` +
          `<td class="verdict-${c.verdict.replaceAll(" ", "-")}">${c.verdict}</td></tr>`;
      });
      return `<h4>${escapeHtml(claim.question)}</h4>` +
        `<p class="answer"><b>${escapeHtml(answerOf(claim))}</b></p>` +
        `<table class="results"><tr><th>setting</th><th>against</th><th>metric</th>` +
        `<th>difference, points</th><th>paired seeds</th><th>verdict</th></tr>` +
        `${rows.join("")}</table>`;
    });
    return `<h3>${datasetTitles[dataset]}: the paper's claims at this scale</h3>` +
      `<p class="note">Scale: ${escapeHtml(this.profile)} (${escapeHtml(scale)}). ` +
      `Difference = setting minus the one it is compared against, per seed (same seed: ` +
      `same initial weights, data order and augmentations), then the mean ± half-width ` +
      `of the 95 % Student-t interval. "higher" / "lower": the interval excludes zero; ` +
      `"no clear difference": it includes zero. A verdict at this scale says nothing ` +
      `about the paper's scale.</p>` + sections.join("");
  }

  /** Accuracy against N = 2B - 2 negatives, one line per objective ("" without runs). */
  negativesFigure(dataset: DatasetName): string {
    const points = this.points("negatives", dataset);
    if (points.length === 0) return ""; // the table says what to run
    return lineFigure(`${datasetTitles[dataset]}: ${metricName(points)} vs negatives N`,
      seriesOf(points, (p) => settingLabel(p, false), (p) => p.negatives),
      { x: "negatives N = 2B - 2 (log scale)", y: `${metricName(points)} %`, logX: true });
  }

  /** Accuracy against tau_plus; the biased baseline is drawn as a flat line. */
  tauPlusFigure(dataset: DatasetName): string {
    const points = this.points("tau-plus", dataset);
    if (points.length === 0) return "";
    const debiased = points.filter((p) => p.kind !== "biased");
    const series = seriesOf(debiased, () => "debiased", (p) => p.tauPlus);
    const biased = points.find((p) => p.kind === "biased");
    const xs = debiased.map((p) => p.tauPlus);
    if (biased !== undefined && xs.length > 0) {
      const y = seriesOf([biased], () => "", () => 0)[0];
      // the biased objective is tau_plus = 0 exactly: draw it from there
      series.push({ name: "biased (baseline)", x: [0, Math.max(...xs)],
        y: [y.y[0], y.y[0]], error: [NaN, NaN] });
    }
    return lineFigure(`${datasetTitles[dataset]}: ${metricName(points)} vs tau_plus`, series,
      { x: "tau_plus", y: `${metricName(points)} %` });
  }

  /** Accuracy against the number of positives M. */
  positivesFigure(dataset: DatasetName): string {
    const points = this.points("positives", dataset);
    if (points.length === 0) return "";
    return lineFigure(`${datasetTitles[dataset]}: ${metricName(points)} vs positives M`,
      seriesOf(points, () => "debiased", (p) => p.positives),
      { x: "positive views M", y: `${metricName(points)} %` });
  }

  /** Accuracy against beta (beta = 0 is the debiased objective). */
  hardFigure(dataset: DatasetName): string {
    const points = this.points("hard", dataset);
    if (points.length === 0) return "";
    return lineFigure(`${datasetTitles[dataset]}: ${metricName(points)} vs beta`,
      seriesOf(points, () => `tau+=${points[0].tauPlus}`, (p) => p.beta),
      { x: "hardness concentration beta", y: `${metricName(points)} %` });
  }

  /** Pretraining loss per epoch of every run of an artefact, one line per run. */
  lossCurves(artefact: ArtefactName, dataset: DatasetName): string {
    const points = this.points(artefact, dataset);
    if (points.length === 0) return "";
    // one colour and one legend entry per setting; its seeds share them
    const traces = points.flatMap((p, i) => p.runs.map((r, j) => ({
      type: "scatter", mode: "lines+markers",
      name: settingLabel(p), legendgroup: settingLabel(p), showlegend: j === 0,
      line: { color: PALETTE[i % PALETTE.length], width: 1.5 },
      hovertext: `${settingLabel(p)} seed ${r.result.config.pretrain.seed}`,
      x: r.result.epochs.map((e) => e.epoch), y: r.result.epochs.map((e) => e.loss),
    })));
    return plot(traces, {
      title: { text: `${datasetTitles[dataset]}: pretraining loss (one line per seed)` },
      height: 380, xaxis: { title: { text: "epoch" }, dtick: 1 },
      yaxis: { title: { text: "loss" } }, showlegend: true });
  }

  /** 2-D projection of stored test embeddings, one panel per objective. */
  embeddingsFigure(dataset: DatasetName, method: "pca" | "tsne"): string {
    const runs = this.points("embeddings", dataset)
      .flatMap((p) => p.runs.map((r) => ({ point: p, run: r })))
      .filter(({ run }) => run.embeddings !== null);
    if (runs.length === 0) {
      // the table below says what to run when there are no runs at all
      const runsExist = this.points("embeddings", dataset).length > 0;
      return runsExist ? `<p class="note">These runs stored no test embeddings, so ` +
        `there is nothing to project; their accuracies are in the table.</p>` : "";
    }
    const traces: object[] = [];
    runs.forEach(({ point, run }, panel) => {
      const e = run.embeddings!;
      const count = e.labels.length;
      // unit-length rows: the geometry the kNN monitor and the loss see
      const unit = normaliseRows(e.values, count, e.dim);
      const xy = method === "pca" ? pca2(unit, count, e.dim)
        : tsne2(unit, count, e.dim, { seed: 0 });
      const classes = [...new Set(e.labels)].sort((a, b) => a - b);
      for (const c of classes) {
        const rows = [...e.labels.keys()].filter((i) => e.labels[i] === c);
        const name = classNames[dataset][c] ?? `class ${c}`;
        traces.push({ type: "scattergl", mode: "markers", name,
          legendgroup: name, showlegend: panel === 0,
          marker: { size: 4, color: PALETTE[c % PALETTE.length] },
          x: rows.map((i) => xy[i * 2]), y: rows.map((i) => xy[i * 2 + 1]),
          xaxis: `x${panel + 1}`, yaxis: `y${panel + 1}` });
      }
    });
    const layout: Record<string, unknown> = {
      title: { text: `${datasetTitles[dataset]}: ${method === "pca" ? "PCA" : "t-SNE"} of ` +
        `test embeddings (colour = true class)` },
      // a horizontal legend below the panels shows all ten classes without scrolling
      height: 470, grid: { rows: 1, columns: runs.length, pattern: "independent" },
      legend: { orientation: "h", x: 0, y: -0.12 },
      annotations: runs.map(({ point }, i) => ({ text: settingLabel(point, false),
        xref: `x${i + 1} domain`, yref: `y${i + 1} domain`, x: 0.5, y: 1.08,
        showarrow: false })),
    };
    return plot(traces, layout);
  }

  /** Overview: how many runs each artefact has at this profile, per dataset. */
  overviewTable(): string {
    const known = Object.hasOwn(profiles, this.profile) ? getProfile(this.profile) : null;
    const rows = artefactNames.flatMap((name) => artefacts[name].datasets.map((dataset) => {
      const have = this.points(name, dataset).reduce((n, p) => n + p.runs.length, 0);
      const expected = known === null ? "?"
        : String(artefactCells(artefacts[name], known, [dataset]).length);
      const status = have === 0 ? `<span class="absent">not run</span>` : "";
      return `<tr><td>${name}</td><td>${datasetTitles[dataset]}</td>` +
        `<td>${have} / ${expected}</td><td>${status}</td></tr>`;
    }));
    return `<table class="results"><tr><th>artefact</th><th>dataset</th>` +
      `<th>runs cached / cells in grid</th><th></th></tr>${rows.join("")}</table>`;
  }

  /** The profiles, what each is for and what it costs. */
  profilesTable(): string {
    const rows = Object.values(profiles).map((p) => {
      const enc = p.encoder.arch === "small"
        ? `small ResNet [${p.encoder.widths.join(", ")}]` : p.encoder.arch;
      const mark = p.name === this.profile ? " (this report)" : "";
      return `<tr><td><b>${p.name}</b>${mark}</td><td>${escapeHtml(p.summary)}</td>` +
        `<td>${enc}, ${p.pretrainSubset ?? "all"} images, ${p.epochs} epoch(s), ` +
        `${p.seeds.length} seeds</td><td>${escapeHtml(p.costNote)}</td></tr>`;
    });
    return `<table class="results"><tr><th>profile</th><th>purpose</th><th>scale</th>` +
      `<th>cost</th></tr>${rows.join("")}</table>`;
  }

  /** Links to the other reports of the same folder. */
  reportLinks(pages: readonly [string, string][]): string {
    return `<ul>${pages.map(([file, title]) =>
      `<li><a href="${escapeHtml(file)}.html">${escapeHtml(title)}</a></li>`).join("")}</ul>`;
  }

  /** Every reference value the reports use, with source and verification status. */
  paperTable(): string {
    const rows = [...paperValues, imagenet100Best].map((v) =>
      `<tr><td>${datasetTitles[v.dataset]}</td>` +
      `<td>${v.kind}</td><td>${v.tauPlus}</td><td>${v.kind === "hard" ? v.beta : "–"}</td>` +
      `<td>${v.top1.toFixed(2)}</td><td>${escapeHtml(v.source)}</td>` +
      `<td>${v.verified ? "verified" : UNVERIFIED}</td></tr>`);
    return `<table class="results"><tr><th>dataset</th><th>objective</th><th>tau_plus</th>` +
      `<th>beta</th><th>top-1 %</th><th>source</th><th>status</th></tr>` +
      `${rows.join("")}</table>`;
  }

  private missing(artefact: ArtefactName, dataset: DatasetName): string {
    return missingHtml(`${artefacts[artefact].title}, ${datasetTitles[dataset]}`,
      this.profile, artefact, dataset);
  }
}

function normaliseRows(values: Float32Array, count: number, dim: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += values[i * dim + k] ** 2;
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    for (let k = 0; k < dim; k++) out[i * dim + k] = values[i * dim + k] * scale;
  }
  return out;
}

function metricName(points: readonly GridPoint[]): string {
  return points.every((p) => p.linear !== null) ? "linear top-1" : "kNN top-1";
}

const UNVERIFIED = `<span class="unverified">unverified</span>`;

// ImageNet-100 has too many classes to name in a legend
const classNames: Readonly<Record<DatasetName, readonly string[]>> = {
  cifar10: CIFAR10_CLASSES, stl10: STL10_CLASSES, imagenet100: [],
};

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** A difference with its sign always shown: "+1.20", "-0.35". */
function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;
}
