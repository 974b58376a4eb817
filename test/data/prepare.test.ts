import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import { downloadFile } from "../../src/data/download.js";
import { loadSplit } from "../../src/data/index.js";
import { parsePrepareArgs } from "../../src/data/prepare-main.js";
import { RELEASES, prepareDataset } from "../../src/data/prepare.js";
import { cifarRecords, logSink, tarBytes, tempDir, writeFile } from "./fixtures.js";

/** A loopback HTTP server for one payload, with Range support and a fault switch. */
class FixtureServer {
  readonly requests: Array<{ path: string; range?: string }> = [];
  /** Close the connection after this many body bytes on the next request. */
  dropAfter: number | undefined;
  private server = http.createServer((req, res) => this.handle(req, res));

  constructor(private readonly files: Record<string, Buffer>) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const range = req.headers.range;
    this.requests.push({ path: req.url ?? "", range });
    if (req.url === "/moved") {
      res.writeHead(302, { location: "/cifar-10-binary.tar.gz" }).end();
      return;
    }
    const body = this.files[req.url ?? ""];
    if (!body) {
      res.writeHead(404).end("not here");
      return;
    }
    const start = range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
    if (start >= body.length && range) {
      res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = { "content-length": body.length - start };
    if (range)
      headers["content-range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(range ? 206 : 200, headers);
    const drop = this.dropAfter;
    this.dropAfter = undefined;
    if (drop !== undefined) {
      // send part of the body, then close the connection (FIN, so it all arrives)
      res.write(body.subarray(start, start + drop), () => res.socket?.end());
      return;
    }
    res.end(body.subarray(start));
  }
}

const md5 = (bytes: Buffer): string =>
  crypto.createHash("md5").update(bytes).digest("hex");

describe("downloads and make data", () => {
  const tmp = tempDir();
  // a small archive in the layout of cifar-10-binary.tar.gz
  const archive = zlib.gzipSync(
    tarBytes([
      { name: "cifar-10-batches-bin" },
      ...[1, 2, 3, 4, 5].map((b) => ({
        name: `cifar-10-batches-bin/data_batch_${b}.bin`,
        data: cifarRecords([b, b + 1]),
      })),
      { name: "cifar-10-batches-bin/test_batch.bin", data: cifarRecords([0, 9, 5]) },
    ]),
  );
  const payload = crypto.randomBytes(300_000);
  const server = new FixtureServer({
    "/cifar-10-binary.tar.gz": archive,
    "/payload": payload,
  });
  let base = "";
  before(async () => {
    base = await server.start();
  });
  after(async () => {
    await server.stop();
    tmp.cleanup();
  });

  it("resumes a dropped transfer with a Range request and verifies md5", async () => {
    const dest = path.join(tmp.dir, "dl", "payload.bin");
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    server.requests.length = 0;
    server.dropAfter = 100_000;
    const sink = logSink();
    await downloadFile({
      url: `${base}/payload`,
      dest,
      md5: md5(payload),
      log: sink.log,
      progress: false,
    });
    assert.deepEqual(fs.readFileSync(dest), payload);
    assert.equal(fs.existsSync(`${dest}.part`), false);
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0]?.range, undefined);
    // the client keeps what it wrote before the cut (buffered bytes may be lost)
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(server.requests[1]?.range ?? "")?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 100_000, `resumed at ${resumedAt}`);
    assert.ok(sink.lines.some((l) => l.includes("resuming")));
  });

  it("continues a .part file left by an earlier run", async () => {
    const dest = path.join(tmp.dir, "dl", "again.bin");
    fs.writeFileSync(`${dest}.part`, payload.subarray(0, 123_456));
    server.requests.length = 0;
    await downloadFile({
      url: `${base}/payload`,
      dest,
      md5: md5(payload),
      progress: false,
    });
    assert.deepEqual(fs.readFileSync(dest), payload);
    assert.deepEqual(
      server.requests.map((r) => r.range),
      ["bytes=123456-"],
    );
  });

  it("deletes a download whose md5 does not match", async () => {
    const dest = path.join(tmp.dir, "dl", "wrong.bin");
    await assert.rejects(
      downloadFile({
        url: `${base}/payload`,
        dest,
        md5: "0".repeat(32),
        progress: false,
      }),
      /arrived with md5 [0-9a-f]{32}, expected 0{32}/,
    );
    assert.equal(fs.existsSync(dest), false);
    assert.equal(fs.existsSync(`${dest}.part`), false);
  });

  it("downloads, unpacks and cleans up CIFAR-10, then loads it", async () => {
    const dataDir = path.join(tmp.dir, "cifar");
    const sink = logSink();
    await prepareDataset({
      dataset: "cifar10",
      dataDir,
      log: sink.log,
      download: { url: `${base}/moved`, md5: md5(archive) },
    });
    assert.ok(
      fs.existsSync(path.join(dataDir, "cifar-10-batches-bin", "test_batch.bin")),
    );
    // the fixture has 2 records per file, so it is reported as incomplete and kept
    assert.ok(sink.lines.some((l) => /not the complete release/.test(l)));
    assert.ok(fs.existsSync(path.join(dataDir, "cifar-10-binary.tar.gz")));
    const split = await loadSplit({
      dataset: "cifar10",
      dataDir,
      split: "test",
      cacheDir: path.join(tmp.dir, "cache"),
    });
    assert.deepEqual([...split.labels], [0, 9, 5]);
  });

  it("explains how to fetch the file by hand when the download fails", async () => {
    const dataDir = path.join(tmp.dir, "offline", "stl10");
    const release = RELEASES.stl10!;
    await assert.rejects(
      prepareDataset({
        dataset: "stl10",
        dataDir,
        download: { url: `${base}/missing`, md5: release.md5 },
      }),
      (err: Error) => {
        assert.match(err.message, /HTTP 404/);
        assert.ok(err.message.includes(release.url));
        assert.ok(err.message.includes(release.md5));
        assert.ok(err.message.includes(path.join(dataDir, "stl10_binary.tar.gz")));
        assert.match(err.message, /FROM=/);
        return true;
      },
    );
    // the folders this call made are gone again, nothing was downloaded into them
    assert.equal(fs.existsSync(path.join(tmp.dir, "offline")), false);
  });

  it("checks the md5 of an official archive given with --from", async () => {
    const local = path.join(tmp.dir, "local", "cifar-10-binary.tar.gz");
    writeFile(local, archive);
    await assert.rejects(
      prepareDataset({
        dataset: "cifar10",
        dataDir: path.join(tmp.dir, "from"),
        from: local,
      }),
      /has md5 [0-9a-f]{32}, expected c32a1d4ab5d03f1284b67883e8d87530.*under another name with FROM=/s,
    );
  });

  it("checks an archive put in the data folder by hand and says how to use a repacked one", async () => {
    const dataDir = path.join(tmp.dir, "by-hand");
    writeFile(path.join(dataDir, "cifar-10-binary.tar.gz"), archive);
    await assert.rejects(
      prepareDataset({ dataset: "cifar10", dataDir }),
      /expected c32a1d4ab5d03f1284b67883e8d87530.*packed cifar-10-binary\.tar\.gz yourself/s,
    );
  });

  it("unpacks a repacked archive under another name without the md5 check", async () => {
    const repacked = path.join(tmp.dir, "local", "my-cifar.tar.gz");
    writeFile(repacked, archive);
    const dataDir = path.join(tmp.dir, "repacked");
    const lines: string[] = [];
    await prepareDataset({ dataset: "cifar10", dataDir, from: repacked, log: (l) => lines.push(l) });
    assert.ok(lines.some((l) => l.includes("unpacking it unchecked")), lines.join("\n"));
    assert.ok(fs.existsSync(path.join(dataDir, "cifar-10-batches-bin")));
  });

  it("fails when an archive given with --from holds no split of the dataset", async () => {
    const other = path.join(tmp.dir, "local", "not-cifar.tar.gz");
    writeFile(other, zlib.gzipSync(tarBytes([{ name: "stl10_binary/train_X.bin", data: Buffer.alloc(8) }])));
    await assert.rejects(
      prepareDataset({ dataset: "cifar10", dataDir: path.join(tmp.dir, "wrong"), from: other }),
      /cifar10/,
    );
  });

  it("links a local folder given with --from", async () => {
    const folder = path.join(tmp.dir, "jpeg-copy");
    writeFile(path.join(folder, "test.tar.gz"), zlib.gzipSync(tarBytes([])));
    writeFile(path.join(folder, "train.tar.gz"), zlib.gzipSync(tarBytes([])));
    const dataDir = path.join(tmp.dir, "linked");
    await prepareDataset({ dataset: "cifar10", dataDir, from: folder });
    assert.equal(
      fs.readlinkSync(path.join(dataDir, "test.tar.gz")),
      path.join(folder, "test.tar.gz"),
    );
  });
});

describe("prepare-main flags", () => {
  it("accepts the three flags in both spellings", () => {
    assert.deepEqual(
      parsePrepareArgs(["--dataset", "stl10", "--data-dir=/d", "--from", "/f"]),
      {
        dataset: "stl10",
        dataDir: "/d",
        from: "/f",
      },
    );
  });

  it("rejects unknown, repeated, empty and missing flags", () => {
    assert.throws(
      () => parsePrepareArgs(["--dataset", "cifar10", "--force"]),
      /unknown argument "--force"/,
    );
    assert.throws(
      () => parsePrepareArgs(["--dataset", "cifar10", "--dataset", "stl10"]),
      /given twice/,
    );
    assert.throws(
      () => parsePrepareArgs(["--dataset", "--from", "x"]),
      /--dataset needs a value/,
    );
    assert.throws(() => parsePrepareArgs(["--from", "x"]), /--dataset is required/);
    assert.throws(() => parsePrepareArgs(["--dataset", "mnist"]), /mnist is unknown/);
    assert.throws(() => parsePrepareArgs(["cifar10"]), /unknown argument/);
  });
});
