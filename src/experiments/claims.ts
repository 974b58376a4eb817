/**
 * The paper's claims, checked on our grid: each claim compares two grid
 * points (say debiased against biased at the same N) on the headline metric.
 * Runs with the same seed share the initial weights, the data order and the
 * augmentations, so the comparison is paired: the per-seed differences get a
 * mean and a 95 % Student-t interval, and the verdict says whether that
 * interval lies above zero, below it, or straddles it.
 */
import type { LossKind } from "../config.js";
import { settingLabel, type GridPoint } from "./report-data.js";
import { summarise, type SeedSummary } from "./stats.js";

/** What the interval of the paired differences says. */
export type Verdict = "higher" | "lower" | "no clear difference" | "too few seeds";

/** One paired comparison: `candidate` minus `baseline`, per seed. */
export interface Comparison {
  candidate: GridPoint;
  baseline: GridPoint;
  /** "linear top-1" or "kNN top-1": linear only when both points were probed. */
  metric: string;
  /** Seeds present in both points, ascending. */
  seeds: number[];
  /** candidate - baseline in accuracy points, over the shared seeds. */
  difference: SeedSummary;
  verdict: Verdict;
}

/** A claim of the paper and the comparisons that test it on our grid. */
export interface Claim {
  /** The claim as a question, e.g. "Does debiased beat biased?". */
  question: string;
  comparisons: Comparison[];
}

/** Paired comparison of two grid points on the metric both of them have. */
export function compare(candidate: GridPoint, baseline: GridPoint): Comparison {
  const useLinear = candidate.linear !== null && baseline.linear !== null;
  const metric = useLinear ? "linear top-1" : "kNN top-1";
  const bySeed = (point: GridPoint) => new Map(point.runs.map((r) => [
    r.result.config.pretrain.seed,
    useLinear ? r.result.linearTop1 : r.result.knnTop1,
  ]));
  const a = bySeed(candidate);
  const b = bySeed(baseline);
  const seeds = [...a.keys()]
    .filter((s) => b.has(s) && a.get(s) !== null && b.get(s) !== null)
    .sort((x, y) => x - y);
  const difference = summarise(seeds.map((s) => (a.get(s) as number) - (b.get(s) as number)));
  return { candidate, baseline, metric, seeds, difference, verdict: verdictOf(difference) };
}

/** The verdict of a summary of differences. */
export function verdictOf(difference: SeedSummary): Verdict {
  if (difference.n < 2 || !Number.isFinite(difference.halfWidth)) return "too few seeds";
  if (difference.low > 0) return "higher";
  if (difference.high < 0) return "lower";
  return "no clear difference";
}

/** Which objectives a claim pits against each other, matched at equal other settings. */
interface Pairing {
  question: string;
  candidate: (p: GridPoint) => boolean;
  baseline: (p: GridPoint) => boolean;
  /** Whether a candidate and a baseline point belong to the same comparison. */
  match: (candidate: GridPoint, baseline: GridPoint) => boolean;
}

const kind = (k: LossKind) => (p: GridPoint) => p.kind === k;
const sameBatch = (a: GridPoint, b: GridPoint) => a.batchSize === b.batchSize;

/** The claims each artefact's figure or table makes in the paper. */
const pairings: Readonly<Record<string, readonly Pairing[]>> = {
  negatives: [
    { question: "Does debiased beat biased (SimCLR) at each N?",
      candidate: kind("debiased"), baseline: kind("biased"), match: sameBatch },
    { question: "Does unbiased (the oracle) beat biased at each N?",
      candidate: kind("unbiased"), baseline: kind("biased"), match: sameBatch },
    { question: "Does unbiased beat debiased at each N?",
      candidate: kind("unbiased"), baseline: kind("debiased"), match: sameBatch },
  ],
  imagenet100: [
    { question: "Does debiased beat biased (SimCLR)?",
      candidate: kind("debiased"), baseline: kind("biased"), match: sameBatch },
  ],
  "tau-plus": [
    { question: "Does debiased beat biased at each tau_plus?",
      candidate: kind("debiased"), baseline: kind("biased"), match: sameBatch },
  ],
  positives: [
    { question: "Do more positive views M help the debiased objective?",
      candidate: (p) => p.positives > 1, baseline: (p) => p.positives === 1,
      match: (a, b) => sameBatch(a, b) && a.tauPlus === b.tauPlus },
  ],
  hard: [
    { question: "Does hard-negative weighting (beta > 0) beat debiased (beta = 0)?",
      candidate: (p) => p.kind === "hard" && p.beta > 0,
      baseline: (p) => p.kind === "debiased" || (p.kind === "hard" && p.beta === 0),
      match: (a, b) => sameBatch(a, b) && a.tauPlus === b.tauPlus },
  ],
};

/** The claims of an artefact checked on its grid points (empty when it makes none). */
export function claimsOf(artefact: string, points: readonly GridPoint[]): Claim[] {
  return (pairings[artefact] ?? []).map((pairing) => {
    const baselines = points.filter(pairing.baseline);
    const comparisons = points.filter(pairing.candidate).flatMap((candidate) => {
      const baseline = baselines.find((b) => pairing.match(candidate, b));
      return baseline === undefined ? [] : [compare(candidate, baseline)];
    });
    return { question: pairing.question, comparisons };
  }).filter((claim) => claim.comparisons.length > 0);
}

/**
 * One plain sentence answering a claim, e.g. "No clear difference at any
 * setting (2 of 2 intervals include zero)."
 */
export function answerOf(claim: Claim): string {
  const counts = new Map<Verdict, number>();
  for (const c of claim.comparisons) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  const n = claim.comparisons.length;
  const higher = counts.get("higher") ?? 0;
  const lower = counts.get("lower") ?? 0;
  const unclear = counts.get("no clear difference") ?? 0;
  const few = counts.get("too few seeds") ?? 0;
  const settings = n === 1 ? "the one setting" : n === 2 ? "both settings" : `all ${n} settings`;
  if (few === n) return "Not yet answerable: fewer than two seeds are shared by both sides.";
  if (higher === n) return `Yes at ${settings}: every interval of the difference is above zero.`;
  if (lower === n) return `No, the reverse at ${settings}: every interval is below zero.`;
  if (unclear + few === n) {
    return `No clear difference: at ${settings} the interval of the difference includes zero` +
      (few > 0 ? ` (${few} with too few seeds)` : "") + ".";
  }

  // some settings decided, others not: name the decided ones
  const at = (verdict: Verdict) => claim.comparisons
    .filter((c) => c.verdict === verdict).map((c) => settingLabel(c.candidate)).join(", ");
  const decided = [higher > 0 ? `higher at ${at("higher")}` : "",
    lower > 0 ? `lower at ${at("lower")}` : ""].filter((part) => part !== "").join(", ");
  const opening = higher === 0 ? "No" : lower === 0 ? "Partly" : "Mixed";
  const rest = n - higher - lower;
  return `${opening}: ${decided}` +
    (rest === 0 ? "" : `; no clear difference at the other ${rest} of ${n} settings` +
      (few > 0 ? ` (${few} with too few seeds)` : "")) + ".";
}
