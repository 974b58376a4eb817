import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it, mock } from "node:test";
import { cacheFileName } from "../../src/data/cache.js";
import { loadSplit } from "../../src/data/index.js";
import { cifarRecords, logSink, tempDir, writeFile } from "./fixtures.js";

describe("decoded-split cache", () => {
  const tmp = tempDir();
  after(tmp.cleanup);
  const batch = path.join(tmp.dir, "data", "test_batch.bin");
  writeFile(batch, cifarRecords([3, 1, 4, 1, 5]));
  const options = (cacheDir: string, sink = logSink()) => ({
    dataset: "cifar10" as const,
    dataDir: path.join(tmp.dir, "data"),
    split: "test",
    cacheDir,
    log: sink.log,
  });
  const cacheFiles = (dir: string): string[] =>
    fs.existsSync(dir) ? fs.readdirSync(dir) : [];

  it("decodes once, then reads the same split from one cache file", async () => {
    const cache = path.join(tmp.dir, "cache-a");
    const first = logSink();
    const decoded = await loadSplit(options(cache, first));
    assert.ok(first.lines.some((l) => l.includes("decoding cifar10-binary")));
    assert.equal(cacheFiles(cache).length, 1);
    assert.match(
      cacheFiles(cache)[0] as string,
      /^cifar10-test-32-[0-9a-f]{8}-[0-9a-f]{16}\.u8$/,
    );

    const second = logSink();
    const cached = await loadSplit(options(cache, second));
    assert.ok(second.lines.some((l) => l.includes("from the cache")));
    assert.ok(!second.lines.some((l) => l.includes("decoding")));
    assert.deepEqual(cached.pixels.whole(), decoded.pixels.whole());
    assert.deepEqual(cached.labels, decoded.labels);
    assert.deepEqual(cached.classes, decoded.classes);
    assert.equal(cached.checksum, decoded.checksum);
    assert.equal(cached.count, 5);
  });

  it("rebuilds after the source changes and drops the stale entry", async () => {
    const cache = path.join(tmp.dir, "cache-b");
    const before = await loadSplit(options(cache));
    const oldFile = cacheFiles(cache)[0];

    // same length, one label changed, a later modification time
    const bytes = fs.readFileSync(batch);
    bytes[0] = 9;
    fs.writeFileSync(batch, bytes);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(batch, later, later);

    const sink = logSink();
    const after = await loadSplit(options(cache, sink));
    assert.ok(sink.lines.some((l) => l.includes("decoding")));
    assert.equal(after.labels[0], 9);
    assert.notEqual(after.checksum, before.checksum);
    assert.equal(cacheFiles(cache).length, 1);
    assert.notEqual(cacheFiles(cache)[0], oldFile);
  });

  it("ignores a damaged cache file and rebuilds it", async () => {
    const cache = path.join(tmp.dir, "cache-c");
    const good = await loadSplit(options(cache));
    const file = path.join(cache, cacheFiles(cache)[0] as string);
    const wholeSize = fs.statSync(file).size;
    fs.truncateSync(file, wholeSize - 10);

    const sink = logSink();
    const again = await loadSplit(options(cache, sink));
    assert.ok(
      sink.lines.some((l) =>
        /ignoring damaged cache.*bytes, its header promises/.test(l),
      ),
    );
    assert.deepEqual(again.pixels.whole(), good.pixels.whole());
    assert.equal(fs.statSync(file).size, wholeSize);
    const reread = logSink();
    await loadSplit(options(cache, reread));
    assert.ok(reread.lines.some((l) => l.includes("from the cache")));
  });

  it("leaves no file behind when writing fails (full disk)", async (t) => {
    const cache = path.join(tmp.dir, "cache-d");
    fs.mkdirSync(cache);
    const realOpen = fs.promises.open.bind(fs.promises);

    // every cache file handle fails on its second write, as on a full disk
    t.mock.method(
      fs.promises,
      "open",
      async (...args: Parameters<typeof fs.promises.open>) => {
        const handle = await realOpen(...args);
        if (!String(args[0]).startsWith(cache)) return handle;
        let writes = 0;
        const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<unknown>;
        Object.defineProperty(handle, "write", {
          value: async (...a: unknown[]) => {
            if (++writes === 2) {
              throw Object.assign(new Error("ENOSPC: no space left on device, write"), {
                code: "ENOSPC",
              });
            }
            return write(...a);
          },
        });
        return handle;
      },
    );

    const sink = logSink();
    const split = await loadSplit(options(cache, sink));
    mock.restoreAll();
    assert.equal(split.count, 5);
    assert.ok(sink.lines.some((l) => /could not write the cache.*ENOSPC/.test(l)));
    assert.deepEqual(cacheFiles(cache), []);
  });

  it("keys entries by size, split and location", () => {
    const key = {
      dataset: "cifar10" as const,
      split: "test",
      size: 32,
      location: "/a",
      fingerprint: "f".repeat(64),
    };
    const names = new Set([
      cacheFileName(key),
      cacheFileName({ ...key, split: "train" }),
      cacheFileName({ ...key, size: 64 }),
      cacheFileName({ ...key, location: "/b" }),
      cacheFileName({ ...key, fingerprint: "e".repeat(64) }),
    ]);
    assert.equal(names.size, 5);
  });
});
