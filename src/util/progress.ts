/**
 * A one-line progress bar on stderr for long loops, drawn only when stderr
 * is a terminal (logs and CI output stay clean), and a duration formatter.
 */

export class ProgressBar {
  private label = "";
  private done = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly total: number,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? process.stderr.isTTY === true;
  }

  start(label: string): void {
    this.label = label;
    this.done = 0;
    this.draw("");
  }

  /** One more unit finished; `detail` is shown after the bar. */
  tick(detail = ""): void {
    this.done += 1;
    this.draw(detail);
  }

  /** Clear the bar so the next log line starts on a clean line. */
  stop(): void {
    if (this.enabled) process.stderr.write("\r\x1b[2K");
  }

  private draw(detail: string): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = this.total === 0 ? width : Math.round((width * this.done) / this.total);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    process.stderr.write(`\r\x1b[2K${this.label} [${bar}] ${this.done}/${this.total} ${detail}`);
  }
}

/** "1h02m", "4m05s", "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}
