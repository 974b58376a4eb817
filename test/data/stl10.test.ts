import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  assertSameSplit,
  splitLoader,
  stlImages,
  stlValue,
  tempDir,
  writeFile,
  writeTarGz,
} from "./fixtures.js";

const SIDE = 96;

describe("STL-10 binary release", () => {
  const tmp = tempDir();
  after(tmp.cleanup);
  const load = splitLoader("stl10", path.join(tmp.dir, "cache"));
  const dataDir = path.join(tmp.dir, "release");
  const binDir = path.join(dataDir, "stl10_binary");
  writeFile(path.join(binDir, "train_X.bin"), stlImages(3));
  writeFile(path.join(binDir, "train_y.bin"), Buffer.from([1, 10, 4]));
  writeFile(path.join(binDir, "unlabeled_X.bin"), stlImages(2));
  const at = (n: number, y: number, x: number, c: number): number =>
    ((n * SIDE + y) * SIDE + x) * 3 + c;

  it("turns column-major planes into row-major HWC pixels", async () => {
    const split = await load(dataDir, "train");
    assert.equal(split.count, 3);
    assert.equal(split.height, 96);
    assert.equal(split.width, 96);
    assert.deepEqual([...split.labels], [0, 9, 3]);
    assert.equal(split.classes[9], "truck");

    // (row 0, column 1) and (row 1, column 0) differ; a row-major reading swaps them
    assert.equal(split.pixels.whole()[at(0, 0, 1, 0)], 5);
    assert.equal(split.pixels.whole()[at(0, 1, 0, 0)], 2);
    assert.equal(split.pixels.whole()[at(2, 40, 7, 2)], stlValue(2, 2, 40, 7));
    assert.equal(split.pixels.whole()[at(1, 95, 3, 1)], stlValue(1, 1, 95, 3));
    for (let i = 0; i < 200; i++) {
      const [n, y, x, c] = [i % 3, (i * 37) % SIDE, (i * 53) % SIDE, i % 3];
      assert.equal(split.pixels.whole()[at(n, y, x, c)], stlValue(n, c, y, x));
    }
  });

  it("gives unlabeled images the label -1", async () => {
    const split = await load(dataDir, "unlabeled");
    assert.equal(split.count, 2);
    assert.deepEqual([...split.labels], [-1, -1]);
    assert.equal(split.pixels.whole()[at(1, 3, 4, 0)], stlValue(1, 0, 3, 4));
  });

  it("streams a split above residentLimit into its cache file", async () => {
    const streamed = splitLoader("stl10", path.join(tmp.dir, "cache-stream"));
    const paged = await streamed(dataDir, "train", { residentLimit: 1 });
    assert.equal(paged.pixels.resident, false);
    assertSameSplit(paged, await load(dataDir, "train"));
    const { bytes, offset } = paged.pixels.image(2);
    assert.equal(bytes[offset + (40 * SIDE + 7) * 3 + 2], stlValue(2, 2, 40, 7));
  });

  it("reads stl10_binary.tar.gz to the same pixels and checksum", async () => {
    const names = ["train_X.bin", "train_y.bin", "unlabeled_X.bin"];
    writeTarGz(path.join(tmp.dir, "archive", "stl10_binary.tar.gz"), [
      { name: "stl10_binary" },
      // labels before images: the reader must not depend on member order
      ...names.reverse().map((n) => ({
        name: `stl10_binary/${n}`,
        data: fs.readFileSync(path.join(binDir, n)),
      })),
    ]);
    const fromDir = await load(dataDir, "train");
    const fromArchive = await load(path.join(tmp.dir, "archive"), "train");
    assertSameSplit(fromArchive, fromDir);
  });

  it("names a truncated image file", async () => {
    const dir = path.join(tmp.dir, "short");
    writeFile(path.join(dir, "test_X.bin"), stlImages(2).subarray(0, 30000));
    writeFile(path.join(dir, "test_y.bin"), Buffer.from([1, 2]));
    await assert.rejects(load(dir, "test"), /test_X\.bin has 30000 bytes.*truncated/);
  });

  it("rejects labels outside 1..10 and label files of the wrong length", async () => {
    const dir = path.join(tmp.dir, "labels");
    writeFile(path.join(dir, "test_X.bin"), stlImages(2));
    writeFile(path.join(dir, "test_y.bin"), Buffer.from([1, 0]));
    await assert.rejects(
      load(dir, "test"),
      /test_y\.bin: label 0 of image 1 is outside 1\.\.10/,
    );
    writeFile(path.join(dir, "test_y.bin"), Buffer.from([1, 2, 3]));
    await assert.rejects(load(dir, "test"), /describes 3 images but its partner file 2/);
  });

  it("asks for the missing label file", async () => {
    const dir = path.join(tmp.dir, "nolabels");
    writeFile(path.join(dir, "stl10_binary", "test_X.bin"), stlImages(1));
    await assert.rejects(load(dir, "test"), /lacks test_y\.bin of the STL-10 test split/);
  });
});
