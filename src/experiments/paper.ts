/**
 * The paper's reported numbers that the reports compare against, each with its
 * source and whether anyone here could verify it. Values nobody could read in
 * the paper are listed with top1 = null or flagged unverified; a report must
 * never present them as fact.
 */
import type { LossKind } from "../config.js";
import type { DatasetName } from "../data/types.js";

/** One reported accuracy and where it comes from. */
export interface PaperValue {
  dataset: DatasetName;
  kind: LossKind;
  tauPlus: number;
  beta: number;
  /** Top-1 % of the linear evaluation. */
  top1: number;
  /** Where the number was read. */
  source: string;
  /** False for values recalled or taken from a figure nobody here could read. */
  verified: boolean;
  /** Setting the value was measured in. */
  setting: string;
}

const STL_SETTING = "ResNet-50, batch 256 (N = 510), 400 epochs, linear evaluation";

/** Every reference value the reports can show. */
export const paperValues: readonly PaperValue[] = [
  { dataset: "stl10", kind: "biased", tauPlus: 0, beta: 0, top1: 80.15,
    source: "chingyaoc/DCL README", verified: true, setting: STL_SETTING },
  { dataset: "stl10", kind: "debiased", tauPlus: 0.05, beta: 0, top1: 81.85,
    source: "chingyaoc/DCL README", verified: true, setting: STL_SETTING },
  { dataset: "stl10", kind: "debiased", tauPlus: 0.1, beta: 0, top1: 84.26,
    source: "chingyaoc/DCL README", verified: true, setting: STL_SETTING },
  { dataset: "stl10", kind: "hard", tauPlus: 0.1, beta: 0.5, top1: 86.38,
    source: "joshr17/HCL README", verified: true, setting: STL_SETTING },
  { dataset: "stl10", kind: "hard", tauPlus: 0.1, beta: 1.0, top1: 87.44,
    source: "joshr17/HCL README", verified: true, setting: STL_SETTING },
  { dataset: "stl10", kind: "hard", tauPlus: 0.1, beta: 2.0, top1: 87.09,
    source: "joshr17/HCL README", verified: true, setting: STL_SETTING },
  { dataset: "imagenet100", kind: "biased", tauPlus: 0, beta: 0, top1: 70.2,
    source: "paper's ImageNet-100 table, recalled", verified: false,
    setting: "SimCLR-based, ResNet-50" },
  { dataset: "imagenet100", kind: "debiased", tauPlus: 0.01, beta: 0, top1: 71.5,
    source: "paper's ImageNet-100 table, recalled", verified: false,
    setting: "SimCLR-based, ResNet-50 (tau_plus of the paper not verified)" },
];

/** The best ImageNet-100 figure of the paper, from a third-party list of results. */
export const imagenet100Best: PaperValue = {
  dataset: "imagenet100", kind: "debiased", tauPlus: 0.01, beta: 0, top1: 74.6,
  source: "third-party list of contrastive-learning results (CMC-based debiased)",
  verified: false, setting: "CMC-based, not the SimCLR setting run here",
};

/** Figures whose values nobody here could read: what each shows. */
export const unverifiedFigures: Readonly<Record<string, string>> = {
  negatives: "accuracy vs N for biased, debiased (tau_plus 0.1) and unbiased on CIFAR-10 " +
    "and STL-10, probably N in {30, 62, 126, 254, 510}: values unverified",
  "tau-plus": "sensitivity to tau_plus: values unverified",
  positives: "accuracy vs number of positives M: values unverified",
  embeddings: "t-SNE of CIFAR-10 embeddings for biased, debiased and unbiased: unverified",
  imagenet100: "ImageNet-100 table: SimCLR vs debiased values recalled, unverified",
};

/** Reference value for an objective on a dataset, if one is known. */
export function paperValueFor(
  dataset: DatasetName, kind: LossKind, tauPlus: number, beta: number,
): PaperValue | undefined {
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  return paperValues.find((v) => v.dataset === dataset && v.kind === kind &&
    close(v.tauPlus, tauPlus) && close(v.beta, beta));
}
