import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { after, describe, it } from "node:test";
import { extractTar, listTar, readTar } from "../../src/data/tar.js";
import { tarBytes, tempDir, writeFile, writeTarGz } from "./fixtures.js";

describe("tar reader", () => {
  const tmp = tempDir();
  after(tmp.cleanup);
  const longName = `deep/${"x".repeat(120)}/file.bin`;
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 0);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 255;
  const members = [
    { name: "top" },
    { name: "top/a.txt", data: Buffer.from("hello") },
    { name: "top/empty.bin", data: Buffer.alloc(0) },
    { name: longName, data: Buffer.from("long") },
    { name: "top/big.bin", data: big },
  ];
  const archive = path.join(tmp.dir, "fixture.tar.gz");
  writeTarGz(archive, members);

  it("lists files with sizes and long names, skipping folders", async () => {
    const entries = await listTar(archive);
    assert.deepEqual(
      entries.map((e) => [e.path, e.size]),
      [
        ["top/a.txt", 5],
        ["top/empty.bin", 0],
        [longName, 4],
        ["top/big.bin", big.length],
      ],
    );
  });

  it("streams bodies exactly, and skips bodies left unread", async () => {
    const seen = new Map<string, Buffer>();
    await readTar(archive, async (entry, body) => {
      if (entry.path === "top/a.txt") return; // not read: must be skipped cleanly
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      seen.set(entry.path, Buffer.concat(chunks));
    });
    assert.deepEqual(seen.get("top/big.bin"), big);
    assert.equal(seen.get(longName)?.toString(), "long");
  });

  it("reads an uncompressed .tar as well", async () => {
    const plain = path.join(tmp.dir, "plain.tar");
    fs.writeFileSync(plain, tarBytes(members.slice(0, 2)));
    assert.deepEqual(
      (await listTar(plain)).map((e) => e.path),
      ["top/a.txt"],
    );
  });

  it("reads archives written by the system tar (pax and GNU headers)", async (t) => {
    if (spawnSync("tar", ["--version"]).status !== 0) {
      t.skip("no system tar here");
      return;
    }
    const src = path.join(tmp.dir, "src");
    const deepName = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(60)}.jpg`;
    writeFile(path.join(src, deepName), "deep");
    writeFile(path.join(src, "small.txt"), "s");
    for (const format of ["gnu", "pax", "ustar"]) {
      const out = path.join(tmp.dir, `sys-${format}.tar.gz`);
      const result = spawnSync("tar", [
        "-czf",
        out,
        `--format=${format}`,
        "-C",
        src,
        ".",
      ]);
      assert.equal(result.status, 0, String(result.stderr));
      const names = (await listTar(out)).map((e) => e.path).sort();
      assert.deepEqual(names, [deepName, "small.txt"], format);
    }
  });

  it("reports a truncated archive as truncated", async () => {
    const whole = fs.readFileSync(archive);
    const cut = path.join(tmp.dir, "cut.tar.gz");
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await assert.rejects(listTar(cut), /cut\.tar\.gz .*truncated.*download it again/);
  });

  it("reports a damaged header", async () => {
    const bytes = tarBytes(members.slice(0, 2));
    bytes[600] = bytes[600]! ^ 0xff; // inside the second header's name
    const bad = path.join(tmp.dir, "bad.tar.gz");
    fs.writeFileSync(bad, zlib.gzipSync(bytes));
    await assert.rejects(listTar(bad), /not a valid tar archive \(header checksum/);
  });

  it("extracts files and refuses members that leave the folder", async () => {
    const dest = path.join(tmp.dir, "out");
    assert.equal(await extractTar(archive, dest), 4);
    assert.deepEqual(fs.readFileSync(path.join(dest, "top", "big.bin")), big);
    assert.equal(fs.readFileSync(path.join(dest, longName), "utf8"), "long");

    const evil = path.join(tmp.dir, "evil.tar.gz");
    writeTarGz(evil, [{ name: "../escaped.txt", data: Buffer.from("x") }]);
    await assert.rejects(extractTar(evil, path.join(tmp.dir, "out2")), /outside/);
    assert.equal(fs.existsSync(path.join(tmp.dir, "escaped.txt")), false);
  });
});
