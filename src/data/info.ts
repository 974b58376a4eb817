/**
 * Static facts about each dataset: class names, class prior, which splits
 * serve pretraining and evaluation, image sizes and normalisation.
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { EncoderStem } from "../config.js";
import type { DatasetInfo, DatasetName } from "./types.js";

/** Every dataset name the project knows, for validating flags. */
export const DATASET_NAMES: readonly DatasetName[] = ["cifar10", "stl10", "imagenet100"];

/** CIFAR-10 class names in the label order of the official release. */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** STL-10 class names in label order (label 1 of the release is index 0). */
export const STL10_CLASSES: readonly string[] = [
  "airplane",
  "bird",
  "car",
  "cat",
  "deer",
  "dog",
  "horse",
  "monkey",
  "ship",
  "truck",
];

/** Side of ImageNet-100 images in the paper's setting. */
export const IMAGENET_PAPER_SIZE = 224;

// the normalisation of the official training code, used for STL-10 as well
const CIFAR_MEAN = [0.4914, 0.4822, 0.4465] as const;
const CIFAR_STD = [0.2023, 0.1994, 0.201] as const;
const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * The encoder stem that suits a dataset's pretraining size: the ImageNet one
 * for ImageNet-100 (a CIFAR stem at 224 px would cost about 16 times the
 * paper's network), the official CIFAR one elsewhere.
 */
export function encoderStem(name: DatasetName): EncoderStem {
  return name === "imagenet100" ? "imagenet" : "cifar";
}

/**
 * The command that puts a dataset under data/: ImageNet cannot be downloaded,
 * so its command names the local copy it needs.
 */
export function dataCommand(name: DatasetName): string {
  return name === "imagenet100"
    ? "make data DATASET=imagenet100 FROM=/path/to/imagenet"
    : `make data DATASET=${name}`;
}

/** Options of datasetInfo. */
export interface DatasetInfoOptions {
  /** ImageNet-100 image side for pretraining and evaluation (default 224). */
  imagenetSize?: number;
}

/** The facts about one dataset; the single place each of them is written. */
export function datasetInfo(
  name: DatasetName,
  options: DatasetInfoOptions = {},
): DatasetInfo {
  switch (name) {
    case "cifar10":
      return {
        name,
        classes: CIFAR10_CLASSES,
        classPrior: 0.1,
        pretrainSplits: ["train"],
        evalTrainSplit: "train",
        evalTestSplit: "test",
        pretrainSize: 32,
        evalSize: 32,
        mean: CIFAR_MEAN,
        std: CIFAR_STD,
      };
    case "stl10":
      // pretraining crops 96x96 images down to 32x32; evaluation keeps 96
      return {
        name,
        classes: STL10_CLASSES,
        classPrior: 0.1,
        pretrainSplits: ["train", "unlabeled"],
        evalTrainSplit: "train",
        evalTestSplit: "test",
        pretrainSize: 32,
        evalSize: 96,
        mean: CIFAR_MEAN,
        std: CIFAR_STD,
      };
    case "imagenet100": {
      const size = checkSize(options.imagenetSize ?? IMAGENET_PAPER_SIZE);
      return {
        name,
        classes: imagenet100Classes(),
        classPrior: 0.01,
        pretrainSplits: ["train"],
        evalTrainSplit: "train",
        evalTestSplit: "val",
        pretrainSize: size,
        evalSize: size,
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
      };
    }
    default:
      throw new Error(
        `unknown dataset "${String(name)}": use one of ${DATASET_NAMES.join(", ")}`,
      );
  }
}

/** The splits a dataset release provides. */
export function datasetSplits(name: DatasetName): readonly string[] {
  if (name === "stl10") return ["train", "test", "unlabeled"];
  if (name === "imagenet100") return ["train", "val"];
  return ["train", "test"];
}

let imagenetClasses: readonly string[] | undefined;

/**
 * The 100 ImageNet class ids (wnids) of the common ImageNet-100 subset,
 * sorted, so that label i is the i-th folder an ImageFolder listing finds.
 */
export function imagenet100Classes(): readonly string[] {
  if (imagenetClasses) return imagenetClasses;
  const text = readClassList();
  const wnids = text.split(/\s+/).filter((w) => w.length > 0);
  if (wnids.length !== 100 || new Set(wnids).size !== 100) {
    throw new Error(
      `imagenet100-classes.txt lists ${wnids.length} ids, expected 100 distinct ones; ` +
        "restore the file from the repository",
    );
  }
  imagenetClasses = Object.freeze([...wnids].sort());
  return imagenetClasses;
}

function readClassList(): string {
  // beside this module in src/, or back in src/ when running from dist/
  const candidates = [
    new URL("./imagenet100-classes.txt", import.meta.url),
    new URL("../../src/data/imagenet100-classes.txt", import.meta.url),
  ];
  for (const url of candidates) {
    const file = fileURLToPath(url);
    if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
  }
  throw new Error(
    "imagenet100-classes.txt is missing from src/data/; restore it from the repository",
  );
}

function checkSize(size: number): number {
  if (!Number.isInteger(size) || size < 8 || size > 1024) {
    throw new Error(
      `ImageNet-100 image size ${size} is invalid: use an integer in 8..1024`,
    );
  }
  return size;
}
