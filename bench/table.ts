/**
 * Plain fixed-width tables and the number formats the benchmark prints.
 */

/** Column alignment: text to the left, numbers to the right. */
export type Align = "left" | "right";

/**
 * Lay out rows under a header, each column as wide as its widest cell, two
 * spaces apart, with a dashed rule under the header. A row with one cell is a
 * note printed as is, across the whole table.
 */
export function formatTable(header: string[], rows: string[][], align: Align[]): string {
  const widths = header.map((title, c) =>
    Math.max(title.length, ...rows.filter((r) => r.length > 1).map((r) => (r[c] ?? "").length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (align[c] === "right" ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const body = rows.map((row) => (row.length === 1 ? row[0] : line(row)));
  return [line(header), rule, ...body].join("\n");
}

/** A rate with three significant digits or one decimal, e.g. 37.2, 412, 2480. */
export function rate(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Bytes as MiB or GiB, e.g. "812 MiB", "3.61 GiB". */
export function bytes(value: number | null): string {
  if (value === null) return "-";
  const mib = value / 2 ** 20;
  return mib >= 1024 ? `${(mib / 1024).toFixed(2)} GiB` : `${mib.toFixed(0)} MiB`;
}

/** A ratio such as 0.17x. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}x` : "-";
}

/** Tensor counts across steps, e.g. "166 > 366 > 366 > 366 (flat)". */
export function tensorTrend(counts: readonly number[]): string {
  const verdict = counts.length < 3 ? "too few steps to tell" : tensorsFlat(counts) ? "flat" : "GROWING";
  return `${counts.join(" > ")} (${verdict})`;
}

/**
 * True when no tensors accumulate across steps. counts[0] is taken before the
 * first step and counts[i] after step i; the first step may add tensors for
 * good (the optimiser's moment estimates), every later one must add none.
 */
export function tensorsFlat(counts: readonly number[]): boolean {
  const settled = counts.slice(1);
  return settled.every((n) => n === settled[0]);
}
