/**
 * The paper's artefacts as named grids of RunConfigs. Each artefact lists the
 * datasets it covers and expands a profile into cells (one cell = one run =
 * one cache file); seeds are a grid dimension like any other.
 */
import type { LossConfig, LossKind, RunConfig } from "../config.js";
import { defaultLoss } from "../config.js";
import { encoderStem } from "../data/info.js";
import type { DatasetName } from "../data/types.js";
import { withStem } from "../models/encoder.js";
import type { Profile } from "./profiles.js";

/** Names of the artefacts, in the order the reports present them. */
export const artefactNames = [
  "negatives", "imagenet100", "tau-plus", "positives", "embeddings", "hard",
] as const;

/** One artefact's name. */
export type ArtefactName = (typeof artefactNames)[number];

/** One run of a grid. */
export interface Cell {
  artefact: ArtefactName;
  dataset: DatasetName;
  /** Human-readable grid point, e.g. "biased B=32 seed 1". */
  label: string;
  config: RunConfig;
  /** Test embeddings the run must keep for the 2-D projection (0 = none). */
  embeddingSamples: number;
}

/** A paper figure or table, or an extension beyond the paper. */
export interface Artefact {
  name: ArtefactName;
  title: string;
  /** Where it sits in the paper ("beyond the paper" for extensions). */
  paperRef: string;
  datasets: readonly DatasetName[];
  /** The grid for one dataset at one profile. */
  cells(profile: Profile, dataset: DatasetName, dataRoot: string): Cell[];
}

/**
 * tau_plus of the debiased runs: the class prior of the dataset (the paper uses
 * 0.1 on the 10-class sets; 0.01 on ImageNet-100 follows the same rule and is
 * this project's choice).
 */
export const debiasedTauPlus: Readonly<Record<DatasetName, number>> = {
  cifar10: 0.1,
  stl10: 0.1,
  imagenet100: 0.01,
};

/** One grid point before seeds are applied. */
interface Point {
  label: string;
  loss: LossConfig;
  batchSize: number;
}

const negatives: Artefact = {
  name: "negatives",
  title: "Top-1 accuracy against the number of negatives N = 2B - 2",
  paperRef: "figure: accuracy vs N, CIFAR-10 and STL-10 panels (unverified values)",
  datasets: ["cifar10", "stl10"],
  cells: (profile, dataset, dataRoot) => {
    const points = profile.negativesBatchSizes.flatMap((b) =>
      (["biased", "debiased", "unbiased"] as const).map((kind) => ({
        label: `${kind} B=${b}`,
        loss: lossOf(kind, dataset),
        batchSize: b,
      })),
    );
    return expand("negatives", profile, dataset, dataRoot, points, 0);
  },
};

const imagenet100: Artefact = {
  name: "imagenet100",
  title: "ImageNet-100 top-1: biased (SimCLR) against debiased",
  paperRef: "table: ImageNet-100 top-1 (unverified except the third-party 74.6 %)",
  datasets: ["imagenet100"],
  cells: (profile, dataset, dataRoot) => {
    const points = (["biased", "debiased"] as const).map((kind) => ({
      label: kind,
      loss: lossOf(kind, dataset),
      batchSize: profile.batchSize,
    }));
    return expand("imagenet100", profile, dataset, dataRoot, points, 0);
  },
};

const tauPlus: Artefact = {
  name: "tau-plus",
  title: "Sensitivity to the class prior tau_plus (biased run as baseline)",
  paperRef: "figure: sensitivity to tau_plus (unverified values)",
  datasets: ["cifar10", "stl10"],
  cells: (profile, dataset, dataRoot) => {
    const baseline = { label: "biased", loss: lossOf("biased", dataset),
      batchSize: profile.batchSize };
    const sweep = profile.tauPlusValues.map((tau) => ({
      label: `debiased tau+=${tau}`,
      loss: { ...lossOf("debiased", dataset), tauPlus: tau },
      batchSize: profile.batchSize,
    }));
    return expand("tau-plus", profile, dataset, dataRoot, [baseline, ...sweep], 0);
  },
};

const positives: Artefact = {
  name: "positives",
  title: "Debiased objective with M positive views in the correction",
  paperRef: "figure: number of positives M (unverified values)",
  datasets: ["cifar10", "stl10"],
  cells: (profile, dataset, dataRoot) => {
    const points = profile.positiveCounts.map((m) => ({
      label: `debiased M=${m}`,
      loss: { ...lossOf("debiased", dataset), positives: m },
      batchSize: profile.batchSize,
    }));
    return expand("positives", profile, dataset, dataRoot, points, 0);
  },
};

const embeddings: Artefact = {
  name: "embeddings",
  title: "2-D projection of test embeddings: biased, debiased, unbiased",
  paperRef: "figure: t-SNE of CIFAR-10 embeddings (unverified)",
  datasets: ["cifar10"],
  cells: (profile, dataset, dataRoot) => {
    const points = (["biased", "debiased", "unbiased"] as const).map((kind) => ({
      label: kind,
      loss: lossOf(kind, dataset),
      batchSize: profile.batchSize,
    }));
    // one seed is enough for a picture; the accuracy artefacts carry the spread
    const firstSeed = { ...profile, seeds: profile.seeds.slice(0, 1) };
    return expand("embeddings", firstSeed, dataset, dataRoot, points,
      profile.embeddingSamples);
  },
};

const hard: Artefact = {
  name: "hard",
  title: "Hard-negative weighting beta on top of debiasing (beyond the paper)",
  paperRef: "beyond the paper: HCL (Robinson et al., ICLR 2021) README values",
  datasets: ["cifar10", "stl10"],
  cells: (profile, dataset, dataRoot) => {
    const debiased = { label: "debiased (beta=0)", loss: lossOf("debiased", dataset),
      batchSize: profile.batchSize };
    const sweep = profile.betaValues.map((beta) => ({
      label: `hard beta=${beta}`,
      loss: { ...lossOf("hard", dataset), beta },
      batchSize: profile.batchSize,
    }));
    return expand("hard", profile, dataset, dataRoot, [debiased, ...sweep], 0);
  },
};

/** Every artefact by name. */
export const artefacts: Readonly<Record<ArtefactName, Artefact>> = {
  negatives, imagenet100, "tau-plus": tauPlus, positives, embeddings, hard,
};

/** Looks an artefact up by name; the error lists the valid names. */
export function getArtefact(name: string): Artefact {
  if (!(artefactNames as readonly string[]).includes(name)) {
    throw new Error(`unknown artefact "${name}"; choose one of: ${artefactNames.join(", ")}`);
  }
  return artefacts[name as ArtefactName];
}

/** Every cell of one artefact over the given datasets (others are ignored). */
export function artefactCells(
  artefact: Artefact, profile: Profile, datasets: readonly DatasetName[], dataRoot = "data",
): Cell[] {
  return artefact.datasets
    .filter((d) => datasets.includes(d))
    .flatMap((d) => artefact.cells(profile, d, dataRoot));
}

/** Number of negatives per anchor for a batch of B images (two views each). */
export function negativesFor(batchSize: number): number {
  return 2 * batchSize - 2;
}

/**
 * Loss settings of each objective. Fields an objective ignores are pinned to 0
 * so that equal objectives always hash to the same cache key.
 */
export function lossOf(kind: LossKind, dataset: DatasetName): LossConfig {
  const tau = debiasedTauPlus[dataset];
  switch (kind) {
    case "biased":
      return { ...defaultLoss, kind, tauPlus: 0, beta: 0, positives: 1 };
    case "unbiased":
      return { ...defaultLoss, kind, tauPlus: 0, beta: 0, positives: 1 };
    case "debiased":
      return { ...defaultLoss, kind, tauPlus: tau, beta: 0, positives: 1 };
    case "hard":
      return { ...defaultLoss, kind, tauPlus: tau, positives: 1 };
  }
}

function expand(
  artefact: ArtefactName, profile: Profile, dataset: DatasetName, dataRoot: string,
  points: readonly Point[], embeddingSamples: number,
): Cell[] {
  return points.flatMap((point) =>
    profile.seeds.map((seed) => ({
      artefact,
      dataset,
      label: `${point.label} seed ${seed}`,
      embeddingSamples,
      config: {
        profile: profile.name,
        pretrain: {
          dataset,
          dataDir: `${dataRoot}/${dataset}`,
          subset: profile.pretrainSubset,
          encoder: withStem({ ...profile.encoder, widths: [...profile.encoder.widths],
            blocks: [...profile.encoder.blocks] }, encoderStem(dataset)),
          loss: point.loss,
          batchSize: point.batchSize,
          epochs: profile.epochs,
          lr: 1e-3,
          weightDecay: 1e-6,
          seed,
          chunkSize: profile.chunkSize,
        },
        eval: { ...profile.eval },
      },
    })),
  );
}
