/**
 * Resumable, checksum-verified download of one file over HTTP(S).
 *
 * Bytes go to "<dest>.part"; an interrupted transfer (or a later run) asks
 * the server for the rest with an HTTP Range request. Only a file whose md5
 * matches is renamed to its final name.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";

/** What to fetch and how to check it. */
export interface DownloadOptions {
  url: string;
  /** Final path of the file. */
  dest: string;
  /** Expected md5, lowercase hex. */
  md5: string;
  log?: (line: string) => void;
  /** Whole attempts (each resuming the last) before giving up (default 3). */
  attempts?: number;
  /** Draw a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

const REDIRECTS = 5;
const IDLE_TIMEOUT_MS = 30_000;

/** Download `url` to `dest`, resuming a partial file, and verify its md5. */
export async function downloadFile(options: DownloadOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const part = `${options.dest}.part`;
  const attempts = options.attempts ?? 3;
  let lastError: Error | undefined;

  // each attempt continues where the previous one stopped
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const before = await sizeOf(part);
    try {
      await transfer(
        options.url,
        part,
        options.progress ?? process.stderr.isTTY === true,
        log,
      );
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
      // retry only a transfer that got somewhere: an unreachable host stays so
      const progressed = (await sizeOf(part)) > before;
      if (lastError instanceof HttpStatusError || !progressed) break;
      if (attempt < attempts)
        log(`download interrupted (${lastError.message}); resuming`);
    }
  }
  if (lastError) throw lastError;

  // only a verified file gets its final name
  const actual = await md5File(part);
  if (actual !== options.md5.toLowerCase()) {
    await fs.promises.rm(part, { force: true });
    throw new Error(
      `${options.url} arrived with md5 ${actual}, expected ${options.md5}; ` +
        "the partial file was deleted: run the command again, or fetch the file by hand",
    );
  }
  await fs.promises.rename(part, options.dest);
  log(`downloaded ${options.dest} (md5 ${actual} verified)`);
}

/** Lowercase hex md5 of a file, streamed. */
export async function md5File(file: string): Promise<string> {
  const hash = crypto.createHash("md5");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** A response status that a retry will not change (404, 403, ...). */
class HttpStatusError extends Error {}

async function transfer(
  url: string,
  part: string,
  showBar: boolean,
  log: (line: string) => void,
): Promise<void> {
  const have = await sizeOf(part);
  const response = await request(url, have > 0 ? { Range: `bytes=${have}-` } : {});

  // 206: the server continues at our offset; 200: it sends everything again
  let offset = 0;
  if (response.statusCode === 206) {
    offset = rangeStart(response.headers["content-range"]);
    if (offset !== have) {
      response.destroy();
      throw new Error(`server resumed at byte ${offset}, expected ${have}`);
    }
  } else if (response.statusCode === 416 && have > 0) {
    // the part file is already complete (or longer than the file); md5 decides
    response.resume();
    return;
  } else if (response.statusCode !== 200) {
    response.resume();
    throw new HttpStatusError(`${url} answered HTTP ${response.statusCode}`);
  }
  const length = Number(response.headers["content-length"] ?? NaN);
  const total = Number.isFinite(length) ? offset + length : NaN;
  if (offset > 0) log(`resuming ${url} at ${formatBytes(offset)}`);

  // stream the body to the part file, appending after a 206
  const out = fs.createWriteStream(part, { flags: offset > 0 ? "a" : "w" });
  const bar = new ProgressBar(total, offset, showBar, log);
  let received = offset;
  try {
    for await (const chunk of response) {
      received += (chunk as Buffer).length;
      bar.update(received);
      if (!out.write(chunk))
        await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
    bar.done();
  }
  if (Number.isFinite(total) && received !== total) {
    throw new Error(`connection closed after ${received} of ${total} bytes`);
  }
}

function request(
  url: string,
  headers: Record<string, string>,
  redirects = REDIRECTS,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    const req = client.get(url, { headers }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        response.resume();
        if (redirects === 0) {
          reject(new HttpStatusError(`${url} redirects too many times`));
          return;
        }
        const next = new URL(location, url).toString();
        request(next, headers, redirects - 1).then(resolve, reject);
        return;
      }
      resolve(response);
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => {
      req.destroy(new Error(`no data from ${url} for ${IDLE_TIMEOUT_MS / 1000} s`));
    });
    req.on("error", reject);
  });
}

function rangeStart(header: string | undefined): number {
  const match = /^bytes (\d+)-/.exec(header ?? "");
  return match ? Number(match[1]) : -1;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return 0;
  }
}

/** Human-readable size, e.g. "162.6 MB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

/** A one-line progress bar on a terminal, a few log lines otherwise. */
class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private nextQuarter = 0.25;
  private received: number;

  constructor(
    private readonly total: number,
    private readonly start: number,
    private readonly tty: boolean,
    private readonly log: (line: string) => void,
  ) {
    this.received = start;
  }

  update(received: number): void {
    this.received = received;
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      process.stderr.write(`\r${this.line(received)}`);
      return;
    }
    const fraction = received / this.total;
    if (Number.isFinite(fraction) && fraction >= this.nextQuarter) {
      this.log(this.line(received));
      while (fraction >= this.nextQuarter) this.nextQuarter += 0.25;
    }
  }

  done(): void {
    // the last update may have been skipped by the redraw limit
    if (this.tty) process.stderr.write(`\r${this.line(this.received)}\n`);
  }

  private line(received: number): string {
    const seconds = Math.max(1e-3, (Date.now() - this.started) / 1000);
    const speed = `${formatBytes((received - this.start) / seconds)}/s`;
    if (!Number.isFinite(this.total)) return `${formatBytes(received)} ${speed}`;
    const fraction = Math.min(1, received / this.total);
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const percent = (fraction * 100).toFixed(0).padStart(3);
    return `[${bar}] ${percent}% ${formatBytes(received)} / ${formatBytes(this.total)} ${speed}`;
  }
}
