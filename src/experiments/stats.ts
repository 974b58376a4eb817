/**
 * Summary statistics of accuracies over seeds: the mean and a two-sided
 * Student-t confidence interval, computed without any statistics library.
 */

/** Mean, sample standard deviation and a t-interval of a set of values. */
export interface SeedSummary {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); NaN when n < 2. */
  std: number;
  /** Half-width of the interval; NaN when n < 2 (no spread can be estimated). */
  halfWidth: number;
  low: number;
  high: number;
  level: number;
}

/** Mean and `level` (default 95 %) t-interval of `values` (NaN fields when undefined). */
export function summarise(values: readonly number[], level = 0.95): SeedSummary {
  const n = values.length;
  if (n === 0) {
    return { n, mean: NaN, std: NaN, halfWidth: NaN, low: NaN, high: NaN, level };
  }
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, std: NaN, halfWidth: NaN, low: NaN, high: NaN, level };

  // interval: mean +- t_{(1+level)/2, n-1} * s / sqrt(n)
  const squares = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  const std = Math.sqrt(squares / (n - 1));
  const halfWidth = studentTQuantile((1 + level) / 2, n - 1) * std / Math.sqrt(n);
  return { n, mean, std, halfWidth, low: mean - halfWidth, high: mean + halfWidth, level };
}

/** Quantile of Student's t distribution with `df` degrees of freedom (p in (0, 1)). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) {
    throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  }
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);

  // bracket, then bisect on the CDF (monotone), to double precision
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * Math.max(1, high); i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** CDF of Student's t distribution, via the regularised incomplete beta function. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * regularisedBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** I_x(a, b) by the continued fraction (Numerical Recipes' modified Lentz method). */
function regularisedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // the fraction converges fast only on one side of the mean; use symmetry otherwise
  if (x > (a + 1) / (a + b + 2)) return 1 - regularisedBeta(1 - x, b, a);
  return (front * betaFraction(x, a, b)) / a;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const num of [
      (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
      (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
    ]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** log Gamma(z) for z > 0 (Lanczos approximation, g = 7, 9 terms). */
function logGamma(z: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const shifted = z - 1;
  let sum = coefficients[0];
  for (let i = 1; i < 9; i++) sum += coefficients[i] / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}
