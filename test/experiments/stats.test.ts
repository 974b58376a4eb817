import assert from "node:assert/strict";
import { test } from "node:test";
import { studentTQuantile, summarise } from "../../src/experiments/stats.js";

const close = (a: number, b: number, tol: number) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("t quantiles match the printed table", () => {
  // two-sided 95 %: t_{0.975, df}
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776],
    [9, 2.262], [29, 2.045]];
  for (const [df, t] of table) close(studentTQuantile(0.975, df), t, 5e-4);
  close(studentTQuantile(0.995, 5), 4.032, 5e-4);
  close(studentTQuantile(0.025, 4), -2.776, 5e-4);
});

test("mean and 95 % interval of three seeds, worked by hand", () => {
  // mean 72, s = 2, half-width = 4.303 * 2 / sqrt(3) = 4.9683
  const s = summarise([70, 72, 74]);
  assert.equal(s.n, 3);
  assert.equal(s.mean, 72);
  close(s.std, 2, 1e-12);
  close(s.halfWidth, 4.9683, 5e-4);
  close(s.low, 67.0317, 5e-4);
  close(s.high, 76.9683, 5e-4);
});

test("two seeds use t with one degree of freedom", () => {
  // values 80 and 82: mean 81, s = sqrt(2), half-width = 12.706 * sqrt(2) / sqrt(2)
  const s = summarise([80, 82]);
  close(s.halfWidth, 12.706, 1e-3);
});

test("one seed has a mean but no interval; no seed has neither", () => {
  const one = summarise([55.5]);
  assert.equal(one.mean, 55.5);
  assert.ok(Number.isNaN(one.halfWidth));
  assert.ok(Number.isNaN(summarise([]).mean));
});
