/**
 * Top-k accuracy of class scores, shared by the kNN monitor and the linear probe.
 *
 * Ties are broken towards the lower class index, the same order a stable
 * descending sort gives, so a row of equal scores predicts class 0.
 */

/**
 * Rank of `label` among the classes of one score row: the number of classes
 * that would be listed before it (higher score, or equal score and lower index).
 */
export function labelRank(
  scores: ArrayLike<number>,
  offset: number,
  classes: number,
  label: number,
): number {
  const own = scores[offset + label];
  let rank = 0;
  for (let c = 0; c < classes; c++) {
    const s = scores[offset + c];
    if (s > own || (s === own && c < label)) rank++;
  }
  return rank;
}

/** Number of rows of `scores` [rows, classes] whose label is among the k best. */
export function topKHits(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
): number {
  const rows = labels.length;
  const classes = classesOf(scores.length, rows);
  let hits = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    checkLabel(label, classes, r);
    if (labelRank(scores, r * classes, classes, label) < k) hits++;
  }
  return hits;
}

/**
 * Top-k accuracy in percent of row-major scores or logits [rows, classes]
 * against integer labels [rows]. With fewer than k classes every row counts
 * as a hit, as the usual `argsort()[:, :k]` formulation gives.
 */
export function topKAccuracy(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
): number {
  if (labels.length === 0) {
    throw new Error("topKAccuracy: no rows to score; pass at least one label");
  }
  if (!Number.isInteger(k) || k < 1) {
    throw new Error(`topKAccuracy: k must be a positive integer, got ${k}`);
  }
  return (100 * topKHits(scores, labels, k)) / labels.length;
}

function classesOf(length: number, rows: number): number {
  if (rows === 0) return 0;
  if (length % rows !== 0 || length === 0) {
    throw new Error(
      `topKAccuracy: ${length} scores do not split into ${rows} rows; ` +
        "pass a row-major [rows, classes] array and one label per row",
    );
  }
  return length / rows;
}

function checkLabel(label: number, classes: number, row: number): void {
  if (!Number.isInteger(label) || label < 0 || label >= classes) {
    throw new Error(
      `topKAccuracy: label ${label} of row ${row} is outside 0..${classes - 1}`,
    );
  }
}
