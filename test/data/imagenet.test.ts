import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import jpeg from "jpeg-js";
import sharp from "sharp";
import { imagenet100Classes, loadSplit } from "../../src/data/index.js";
import { prepareDataset } from "../../src/data/prepare.js";
import { checkSplitBytes } from "../../src/data/source.js";
import { grayJpeg, logSink, tempDir, writeFile } from "./fixtures.js";

/** A 40x24 JPEG: left third red, middle green, right third blue. */
function stripesJpeg(): Buffer {
  const [width, height] = [40, 24];
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 4 * (y * width + x);
      const band = Math.floor((x * 3) / width);
      data[p + band] = 255;
      data[p + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width, height }, 100).data);
}

describe("ImageNet-100 from an ImageNet-1k tree", () => {
  const tmp = tempDir();
  after(tmp.cleanup);
  const cache = path.join(tmp.dir, "cache");
  const wnids = imagenet100Classes();
  const root = path.join(tmp.dir, "imagenet");
  const stripes = stripesJpeg();

  // the 100 classes plus two that are not in the subset, one image each
  const extra = ["n00000001", "n99999999"];
  for (const split of ["train", "val"]) {
    for (const wnid of [...wnids, ...extra]) {
      writeFile(path.join(root, split, wnid, `${wnid}_0.JPEG`), stripes);
    }
  }

  it("keeps the 100 classes in sorted order and resizes with a centre crop", async () => {
    const gray = await grayJpeg(30, 20, 90);
    writeFile(path.join(root, "val", wnids[5]!, "z_gray.JPEG"), gray);
    const png = await sharp(Buffer.alloc(8 * 8 * 3, 200), {
      raw: { width: 8, height: 8, channels: 3 },
    })
      .png()
      .toBuffer();
    writeFile(path.join(root, "val", wnids[7]!, "z_png.JPEG"), png); // PNG bytes, JPEG name

    const split = await loadSplit({
      dataset: "imagenet100",
      dataDir: root,
      split: "val",
      size: 16,
      cacheDir: cache,
    });
    assert.equal(split.count, 102);
    assert.equal(split.height, 16);
    assert.equal(split.classes.length, 100);
    assert.deepEqual([...split.classes], [...wnids].sort());
    assert.equal(split.labels[0], 0);
    assert.equal(split.labels[101], 99);

    // image 0: left edge red, centre green, right edge blue
    const px = (n: number, y: number, x: number): number[] => [
      ...split.pixels.whole().subarray(
        ((n * 16 + y) * 16 + x) * 3,
        ((n * 16 + y) * 16 + x) * 3 + 3,
      ),
    ];
    const [r0, g0] = px(0, 8, 0) as [number, number];
    assert.ok(r0 > 150 && g0 < 120, `left ${px(0, 8, 0)}`);
    const [, g1, b1] = px(0, 8, 8) as [number, number, number];
    assert.ok(g1 > 150 && b1 < 100, `centre ${px(0, 8, 8)}`);
    assert.ok((px(0, 8, 15)[2] as number) > 150, `right ${px(0, 8, 15)}`);

    // class 5 has its stripes image then the gray one; class 7 then the PNG
    const grayIndex = 6; // five images of classes 0..4, then class 5's stripes
    for (const v of px(grayIndex, 8, 8))
      assert.ok(Math.abs(v - 90) <= 2, `gray ${px(grayIndex, 8, 8)}`);
    assert.equal(split.labels[grayIndex], 5);
    const pngIndex = 9; // eight images of classes 0..6, then class 7's stripes
    assert.deepEqual(px(pngIndex, 3, 3), [200, 200, 200]);
  });

  it("lists the missing classes", async () => {
    const partial = path.join(tmp.dir, "partial");
    for (const wnid of wnids.slice(2))
      writeFile(path.join(partial, "train", wnid, "a.JPEG"), stripes);
    await assert.rejects(
      loadSplit({
        dataset: "imagenet100",
        dataDir: partial,
        split: "train",
        size: 16,
        cacheDir: cache,
      }),
      new RegExp(`lacks 2 ImageNet-100 class folder\\(s\\): ${wnids[0]} ${wnids[1]}`),
    );
    await assert.rejects(
      prepareDataset({
        dataset: "imagenet100",
        dataDir: path.join(tmp.dir, "x"),
        from: partial,
      }),
      /train lacks 2 of the ImageNet-100 classes/,
    );
  });

  it("builds the subset as links with make data and loads it", async () => {
    const dataDir = path.join(tmp.dir, "subset");
    const sink = logSink();
    await prepareDataset({ dataset: "imagenet100", dataDir, from: root, log: sink.log });
    assert.equal(fs.readdirSync(path.join(dataDir, "train")).length, 100);
    assert.ok(fs.lstatSync(path.join(dataDir, "train", wnids[0]!)).isSymbolicLink());
    const split = await loadSplit({
      dataset: "imagenet100",
      dataDir,
      split: "train",
      size: 8,
      cacheDir: cache,
    });
    assert.equal(split.count, 100);
    assert.deepEqual(
      [...split.labels],
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it("explains how to get ImageNet when nothing is there", async () => {
    await assert.rejects(
      prepareDataset({ dataset: "imagenet100", dataDir: path.join(tmp.dir, "empty") }),
      /cannot be downloaded automatically.*FROM=\/path\/to\/imagenet/s,
    );
  });

  it("refuses to allocate a split that cannot fit in one array", () => {
    assert.throws(
      () => checkSplitBytes(126_689, 224, "imagenet100/train"),
      /need 17\.8 GiB.*residentLimit below its size so that it is paged/,
    );
    assert.equal(checkSplitBytes(10, 32, "x"), 10 * 32 * 32 * 3);
  });

  it("decodes the paper size by default", async () => {
    const dir = path.join(tmp.dir, "one");
    for (const wnid of wnids) writeFile(path.join(dir, "val", wnid, "a.JPEG"), stripes);
    const split = await loadSplit({
      dataset: "imagenet100",
      dataDir: dir,
      split: "val",
      cacheDir: cache,
    });
    assert.equal(split.height, 224);
    assert.equal(split.width, 224);
  });
});
