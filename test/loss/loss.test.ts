import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { contrastiveLoss, type ContrastiveLossOptions } from "../../src/loss.js";
import { Rng } from "../../src/util/rng.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** Rows of unit length, as the encoder produces them. */
function unitRows(rows: number, dim: number, rng: Rng): number[][] {
  return Array.from({ length: rows }, () => {
    const v = Array.from({ length: dim }, () => rng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}

function dot(a: number[], b: number[]): number {
  return a.reduce((s, x, i) => s + x * b[i], 0);
}

/**
 * The objectives written out directly from the paper's formulas, in double
 * precision and without any of the implementation's rescaling.
 */
function referenceLoss(
  z1: number[][],
  z2: number[][],
  o: ContrastiveLossOptions,
  extra: number[][][] = [],
): number {
  const B = z1.length;
  const z = [...z1, ...z2];
  const t = o.temperature;
  const N = 2 * B - 2;
  const tau = o.tauPlus ?? 0.1;
  const beta = o.beta ?? 1;
  let total = 0;
  for (let i = 0; i < 2 * B; i++) {
    const img = i % B;
    const partner = i < B ? i + B : i - B;
    const pos = Math.exp(dot(z[i], z[partner]) / t);
    // the M positive views of anchor i: its partner and every extra view
    const posMean =
      (pos + extra.reduce((a, view) => a + Math.exp(dot(z[i], view[img]) / t), 0)) /
      (extra.length + 1);
    const negs: number[] = [];
    const sims: number[] = [];
    const sameLabel: boolean[] = [];
    for (let j = 0; j < 2 * B; j++) {
      if (j % B === img) continue;
      sims.push(dot(z[i], z[j]));
      negs.push(Math.exp(dot(z[i], z[j]) / t));
      sameLabel.push(o.labels !== undefined && o.labels[j % B] === o.labels[img]);
    }
    let ng: number;
    if (o.kind === "biased") {
      ng = negs.reduce((a, b) => a + b, 0);
    } else if (o.kind === "unbiased") {
      const kept = negs.filter((_, k) => !sameLabel[k]);
      ng = kept.length === 0 ? 0 : (N * kept.reduce((a, b) => a + b, 0)) / kept.length;
    } else {
      let sum = negs.reduce((a, b) => a + b, 0);
      if (o.kind === "hard") {
        const w = sims.map((s) => Math.exp((beta * s) / t));
        const meanW = w.reduce((a, b) => a + b, 0) / N;
        sum = w.reduce((a, wk, k) => a + wk * negs[k], 0) / meanW;
      }
      ng = Math.max((sum - tau * N * posMean) / (1 - tau), N * Math.exp(-1 / t));
    }
    total += -Math.log(pos / (pos + ng));
  }
  return total / (2 * B);
}

function lossOf(z1: number[][], z2: number[][], o: ContrastiveLossOptions): number {
  return tf.tidy(() =>
    contrastiveLoss(tf.tensor2d(z1), tf.tensor2d(z2), o).dataSync()[0],
  );
}

describe("contrastiveLoss on a hand-computed example", () => {
  // B = 2 orthogonal images, both views identical: each anchor has s = 1 with
  // its positive and s = 0 with its two negatives; t = 0.5, N = 2.
  const z1 = [
    [1, 0],
    [0, 1],
  ];

  test("biased: log(1 + 2 e^-2)", () => {
    const loss = lossOf(z1, z1, { kind: "biased", temperature: 0.5 });
    assert.ok(Math.abs(loss - 0.2395447662) < 1e-6, `got ${loss}`);
  });

  test("debiased, tau+ 0.1: Ng = (2 - 0.2 e^2) / 0.9", () => {
    const loss = lossOf(z1, z1, { kind: "debiased", temperature: 0.5, tauPlus: 0.1 });
    assert.ok(Math.abs(loss - 0.0755923750) < 1e-6, `got ${loss}`);
  });

  test("debiased, tau+ 0.2: the estimate is negative and the floor 2 e^-2 binds", () => {
    const loss = lossOf(z1, z1, { kind: "debiased", temperature: 0.5, tauPlus: 0.2 });
    assert.ok(Math.abs(loss - 0.0359762997) < 1e-6, `got ${loss}`);
  });
});

describe("contrastiveLoss against the written-out formulas", () => {
  const rng = new Rng(7);
  const B = 6;
  const z1 = unitRows(B, 5, rng);
  const z2 = unitRows(B, 5, rng);
  const labels = [0, 1, 0, 2, 1, 0];
  const cases: ContrastiveLossOptions[] = [
    { kind: "biased", temperature: 0.5 },
    { kind: "biased", temperature: 0.1 },
    { kind: "biased", temperature: 0.05 },
    { kind: "debiased", temperature: 0.05, tauPlus: 0.1 },
    { kind: "unbiased", temperature: 0.05, labels },
    { kind: "hard", temperature: 0.05, tauPlus: 0.1, beta: 3 },
    { kind: "debiased", temperature: 0.5, tauPlus: 0.1 },
    { kind: "debiased", temperature: 0.2, tauPlus: 0.05 },
    { kind: "debiased", temperature: 0.5, tauPlus: 0.9 },
    { kind: "unbiased", temperature: 0.5, labels },
    { kind: "hard", temperature: 0.5, tauPlus: 0.1, beta: 1 },
    { kind: "hard", temperature: 0.5, tauPlus: 0.1, beta: 3 },
  ];
  for (const o of cases) {
    test(`${o.kind} t=${o.temperature} tau+=${o.tauPlus ?? "-"} beta=${o.beta ?? "-"}`, () => {
      const got = lossOf(z1, z2, o);
      const want = referenceLoss(z1, z2, o);
      assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, Math.abs(want)), `got ${got}, want ${want}`);
    });
  }
});

describe("relations between the objectives", () => {
  const rng = new Rng(11);
  const z1 = unitRows(8, 4, rng);
  const z2 = unitRows(8, 4, rng);

  test("tau+ = 0 gives exactly the biased loss", () => {
    const biased = lossOf(z1, z2, { kind: "biased", temperature: 0.5 });
    const debiased = lossOf(z1, z2, { kind: "debiased", temperature: 0.5, tauPlus: 0 });
    assert.ok(Math.abs(biased - debiased) < 1e-6, `${biased} vs ${debiased}`);
  });

  test("beta = 0 gives exactly the debiased loss", () => {
    const debiased = lossOf(z1, z2, { kind: "debiased", temperature: 0.5, tauPlus: 0.1 });
    const hard = lossOf(z1, z2, { kind: "hard", temperature: 0.5, tauPlus: 0.1, beta: 0 });
    assert.ok(Math.abs(debiased - hard) < 1e-6, `${debiased} vs ${hard}`);
  });

  test("unbiased with all labels distinct is the biased loss", () => {
    const labels = [0, 1, 2, 3, 4, 5, 6, 7];
    const biased = lossOf(z1, z2, { kind: "biased", temperature: 0.5 });
    const unbiased = lossOf(z1, z2, { kind: "unbiased", temperature: 0.5, labels });
    assert.ok(Math.abs(biased - unbiased) < 1e-6, `${biased} vs ${unbiased}`);
  });

  test("unbiased ignores exactly the same-label pairs", () => {
    // moving image 2 (label 0, like image 0) changes nothing for anchors of
    // label 0 except through its own rows; compare anchor sets by moving an
    // image whose label is shared and checking against the reference
    const labels = [0, 1, 0, 1, 2, 2, 3, 3];
    const moved = z1.map((r) => [...r]);
    moved[2] = [...z1[0]]; // a same-label negative made identical to the anchor
    const o: ContrastiveLossOptions = { kind: "unbiased", temperature: 0.5, labels };
    assert.ok(Math.abs(lossOf(moved, z2, o) - referenceLoss(moved, z2, o)) < 1e-5);
    // with labels ignored that image would count as a (very similar) negative
    const asBiased = referenceLoss(moved, z2, { kind: "biased", temperature: 0.5 });
    assert.notEqual(Math.round(asBiased * 1e4), Math.round(lossOf(moved, z2, o) * 1e4));
  });

  test("M = 3 positives average the correction over the extra views", () => {
    const extra = [unitRows(8, 4, rng), unitRows(8, 4, rng)];
    for (const kind of ["debiased", "hard"] as const) {
      const o: ContrastiveLossOptions = { kind, temperature: 0.5, tauPlus: 0.1 };
      const got = tf.tidy(() =>
        contrastiveLoss(tf.tensor2d(z1), tf.tensor2d(z2), {
          ...o,
          extraPositives: extra.map((v) => tf.tensor2d(v)),
        }).dataSync()[0],
      );
      const want = referenceLoss(z1, z2, o, extra);
      assert.ok(Math.abs(got - want) < 1e-5, `${kind}: got ${got}, want ${want}`);
      assert.ok(Math.abs(got - referenceLoss(z1, z2, o)) > 1e-4, "extra views had no effect");
    }
  });

  test("the floor engages only when the estimate falls below N e^(-1/t)", () => {
    // identical images: every negative equals the positive, so the estimate
    // (N pos - tau N pos) / (1 - tau) = N pos never falls below the floor
    const same = Array.from({ length: 4 }, () => [1, 0]);
    const loss = lossOf(same, same, { kind: "debiased", temperature: 0.5, tauPlus: 0.5 });
    assert.ok(Math.abs(loss - Math.log(1 + 6)) < 1e-5, `got ${loss}`);
  });
});

describe("gradients", () => {
  test("agree with central finite differences for every objective", () => {
    const rng = new Rng(3);
    const B = 4;
    const D = 3;
    const z1 = unitRows(B, D, rng);
    const z2 = unitRows(B, D, rng);
    const kinds: ContrastiveLossOptions[] = [
      { kind: "biased", temperature: 0.5 },
      { kind: "debiased", temperature: 0.5, tauPlus: 0.1 },
      { kind: "unbiased", temperature: 0.5, labels: [0, 1, 0, 1] },
      { kind: "hard", temperature: 0.5, tauPlus: 0.1, beta: 1 },
    ];
    for (const o of kinds) {
      const [g1] = tf.tidy(() =>
        tf
          .grads((a: tf.Tensor, b: tf.Tensor) => contrastiveLoss(a as tf.Tensor2D, b as tf.Tensor2D, o))([
            tf.tensor2d(z1),
            tf.tensor2d(z2),
          ])
          .map((g) => g.arraySync() as number[][]),
      );
      const h = 1e-3;
      for (let i = 0; i < B; i++) {
        for (let d = 0; d < D; d++) {
          const plus = z1.map((r) => [...r]);
          const minus = z1.map((r) => [...r]);
          plus[i][d] += h;
          minus[i][d] -= h;
          const numeric = (referenceLoss(plus, z2, o) - referenceLoss(minus, z2, o)) / (2 * h);
          assert.ok(
            Math.abs(numeric - g1[i][d]) < 2e-4 + 1e-2 * Math.abs(numeric),
            `${o.kind} d/dz1[${i}][${d}]: analytic ${g1[i][d]}, numeric ${numeric}`,
          );
        }
      }
    }
  });
});

describe("invalid options", () => {
  const a = () => tf.tensor2d([[1, 0], [0, 1]]);
  const cases: [string, () => unknown, RegExp][] = [
    ["tau+ = 1", () => contrastiveLoss(a(), a(), { kind: "debiased", temperature: 0.5, tauPlus: 1 }), /tauPlus must lie in \[0, 1\)/],
    ["tau+ < 0", () => contrastiveLoss(a(), a(), { kind: "debiased", temperature: 0.5, tauPlus: -0.1 }), /tauPlus/],
    ["unbiased without labels", () => contrastiveLoss(a(), a(), { kind: "unbiased", temperature: 0.5 }), /needs the true labels/],
    ["wrong label count", () => contrastiveLoss(a(), a(), { kind: "unbiased", temperature: 0.5, labels: [1] }), /1 labels for a batch of 2/],
    ["B < 2", () => contrastiveLoss(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0]]), { kind: "biased", temperature: 0.5 }), /B >= 2/],
    ["temperature 0", () => contrastiveLoss(a(), a(), { kind: "biased", temperature: 0 }), /temperature/],
    ["temperature below the float32 limit", () => contrastiveLoss(a(), a(), { kind: "biased", temperature: 0.01 }), /underflow/],
    ["shape mismatch", () => contrastiveLoss(a(), tf.tensor2d([[1, 0, 0], [0, 1, 0]]), { kind: "biased", temperature: 0.5 }), /same shape/],
    ["negative beta", () => contrastiveLoss(a(), a(), { kind: "hard", temperature: 0.5, beta: -1 }), /beta/],
  ];
  for (const [name, call, message] of cases) {
    test(name, () => assert.throws(call, message));
  }
});
