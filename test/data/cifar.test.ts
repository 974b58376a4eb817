import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadSplit } from "../../src/data/index.js";
import { CIFAR10_CLASSES as CLASSES } from "../../src/data/info.js";
import {
  assertSameSplit,
  cifarRecords,
  cifarValue,
  grayJpeg,
  cmykJpeg,
  jpegComponents,
  logSink,
  solidJpeg,
  splitLoader,
  tempDir,
  writeClassTree,
  writeFile,
  writeTarGz,
} from "./fixtures.js";

describe("CIFAR-10 binary release", () => {
  const tmp = tempDir();
  after(tmp.cleanup);
  const load = splitLoader("cifar10", path.join(tmp.dir, "cache"));

  // five train batches of 3 records each, one test batch of 4
  const binDir = path.join(tmp.dir, "bin", "cifar-10-batches-bin");
  const trainLabels = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [9, 0, 1],
    [2, 3, 4],
  ];
  trainLabels.forEach((labels, b) => {
    writeFile(path.join(binDir, `data_batch_${b + 1}.bin`), cifarRecords(labels, b * 3));
  });
  writeFile(path.join(binDir, "test_batch.bin"), cifarRecords([9, 8, 7, 6]));

  it("decodes planar records into HWC pixels with their labels", async () => {
    const split = await load(path.join(tmp.dir, "bin"), "train");
    assert.equal(split.count, 15);
    assert.equal(split.height, 32);
    assert.deepEqual([...split.labels], trainLabels.flat());
    assert.deepEqual(split.classes, CLASSES);
    assert.equal(split.pixels.whole().length, 15 * 32 * 32 * 3);
    // image 7 (batch 3, record 1), row 5, column 11, every channel
    for (let c = 0; c < 3; c++) {
      assert.equal(
        split.pixels.whole()[((7 * 32 + 5) * 32 + 11) * 3 + c],
        cifarValue(7, c, 5, 11),
      );
    }
    assert.match(split.checksum, /^[0-9a-f]{64}$/);
  });

  it("reads the same split from cifar-10-binary.tar.gz with the same checksum", async () => {
    const members = [
      { name: "cifar-10-batches-bin" },
      ...fs.readdirSync(binDir).map((n) => ({
        name: `cifar-10-batches-bin/${n}`,
        data: fs.readFileSync(path.join(binDir, n)),
      })),
    ];
    writeTarGz(path.join(tmp.dir, "archive", "cifar-10-binary.tar.gz"), members);
    const fromDir = await load(path.join(tmp.dir, "bin"), "test");
    const fromArchive = await load(path.join(tmp.dir, "archive"), "test");
    assert.equal(fromArchive.count, 4);
    assert.deepEqual([...fromArchive.labels], [9, 8, 7, 6]);
    assertSameSplit(fromArchive, fromDir);
  });

  it("names a truncated batch file and says what to do", async () => {
    const dir = path.join(tmp.dir, "truncated");
    writeFile(path.join(dir, "test_batch.bin"), cifarRecords([1, 2]).subarray(0, 5000));
    await assert.rejects(
      load(dir, "test"),
      /test_batch\.bin has 5000 bytes.*truncated.*make data/,
    );
  });

  it("rejects a label outside 0..9, naming the file and record", async () => {
    const dir = path.join(tmp.dir, "badlabel");
    writeFile(path.join(dir, "test_batch.bin"), cifarRecords([1, 12]));
    await assert.rejects(load(dir, "test"), /test_batch\.bin: record 1 has label 12/);
  });

  it("lists missing batch files", async () => {
    const dir = path.join(tmp.dir, "partial");
    writeFile(path.join(dir, "data_batch_1.bin"), cifarRecords([1]));
    await assert.rejects(
      load(dir, "train"),
      /lacks data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin/,
    );
  });

  it("says where it looked when there is no data at all", async () => {
    await assert.rejects(
      loadSplit({
        dataset: "cifar10",
        dataDir: path.join(tmp.dir, "nothing"),
        split: "test",
      }),
      /no cifar10 test data in .*cifar-10-binary\.tar\.gz.*make data DATASET=cifar10/,
    );
  });

  it("refuses sizes other than 32 and unknown splits", async () => {
    const dataDir = path.join(tmp.dir, "bin");
    await assert.rejects(load(dataDir, "test", { size: 64 }), /32x32; size 64/);
    await assert.rejects(load(dataDir, "unlabeled"), /no split "unlabeled"/);
  });
});

describe("CIFAR-10 as a JPEG ImageFolder tree", () => {
  const tmp = tempDir();
  after(tmp.cleanup);
  const load = splitLoader("cifar10", path.join(tmp.dir, "cache"));

  // two images per class: colour encodes the class, file order the index
  const colour = (c: number, i: number): [number, number, number] => [
    c * 25,
    200 - c * 20,
    i * 100,
  ];
  const tree = path.join(tmp.dir, "jpeg");
  CLASSES.forEach((name, c) => {
    for (const i of [1, 0]) {
      writeFile(path.join(tree, "test", name, `${i}.jpg`), solidJpeg(32, colour(c, i)));
    }
  });

  it("decodes in sorted path order with CIFAR-10 label order", async () => {
    const split = await load(tree, "test");
    assert.equal(split.count, 20);
    assert.deepEqual(
      [...split.labels],
      CLASSES.flatMap((_, c) => [c, c]),
    );
    for (let n = 0; n < 20; n++) {
      const expected = colour(Math.floor(n / 2), n % 2);
      const centre = (n * 32 * 32 + 16 * 32 + 16) * 3;
      for (let c = 0; c < 3; c++) {
        const got = split.pixels.whole()[centre + c] as number;
        assert.ok(Math.abs(got - expected[c]!) <= 3, `image ${n} channel ${c}: ${got}`);
      }
    }
  });

  it("reads <split>.tar.gz to the same pixels and checksum", async () => {
    const members = CLASSES.flatMap((name) =>
      [0, 1].map((i) => ({
        name: `test/${name}/${i}.jpg`,
        data: fs.readFileSync(path.join(tree, "test", name, `${i}.jpg`)),
      })),
    );
    // archive order differs from sorted order on purpose
    writeTarGz(path.join(tmp.dir, "archive", "test.tar.gz"), members.reverse());
    const fromTree = await load(tree, "test");
    const fromArchive = await load(path.join(tmp.dir, "archive"), "test");
    assertSameSplit(fromArchive, fromTree);
  });

  it("turns grayscale and CMYK JPEGs into RGB", async () => {
    const dir = path.join(tmp.dir, "colour");
    writeClassTree(dir, "test", CLASSES, "a.jpg", solidJpeg(32, [9, 9, 9]));
    const gray = await grayJpeg(32, 32, 77);
    const cmyk = await cmykJpeg(32, [200, 40, 40]);
    assert.equal(jpegComponents(gray), 1);
    assert.equal(jpegComponents(cmyk), 4);
    writeFile(path.join(dir, "test", "bird", "b.jpg"), gray);
    writeFile(path.join(dir, "test", "cat", "b.jpg"), cmyk);
    const split = await load(dir, "test");
    assert.equal(split.count, 12);
    const pixel = (n: number): number[] => [
      ...split.pixels.whole().subarray(n * 3072, n * 3072 + 3),
    ];
    // sorted order: airplane/a, automobile/a, bird/a, bird/b (gray), cat/a, cat/b (cmyk)
    for (const v of pixel(3)) assert.ok(Math.abs(v - 77) <= 2, `gray pixel ${pixel(3)}`);
    const [r, g, b] = pixel(5) as [number, number, number];
    assert.ok(r > 150 && g < 100 && b < 100, `cmyk pixel ${pixel(5)}`);
  });

  it("names a file that is not a JPEG", async () => {
    const dir = path.join(tmp.dir, "corrupt");
    writeClassTree(dir, "test", CLASSES, "a.jpg", solidJpeg(32, [1, 2, 3]));
    writeFile(path.join(dir, "test", "frog", "b.jpg"), "<html>not an image</html>");
    await assert.rejects(
      load(dir, "test"),
      /frog[/\\]b\.jpg is not a JPEG or PNG image.*remove or replace/,
    );
  });

  it("names a truncated JPEG", async () => {
    const dir = path.join(tmp.dir, "cut");
    writeClassTree(dir, "test", CLASSES, "a.jpg", solidJpeg(32, [1, 2, 3]));
    const whole = solidJpeg(32, [50, 60, 70]);
    writeFile(path.join(dir, "test", "ship", "b.jpg"), whole.subarray(0, 300));
    await assert.rejects(load(dir, "test"), /ship[/\\]b\.jpg could not be decoded/);
  });

  it("names an image of the wrong size", async () => {
    const dir = path.join(tmp.dir, "size");
    writeClassTree(dir, "test", CLASSES, "a.jpg", solidJpeg(32, [1, 2, 3]));
    writeFile(path.join(dir, "test", "dog", "b.jpg"), solidJpeg(24, [1, 2, 3]));
    await assert.rejects(load(dir, "test"), /dog[/\\]b\.jpg is 24x24, expected 32x32/);
  });

  it("rejects an unknown class folder and reports missing ones", async () => {
    const dir = path.join(tmp.dir, "folders");
    writeClassTree(dir, "test", CLASSES, "a.jpg", solidJpeg(32, [1, 2, 3]));
    writeFile(path.join(dir, "test", "aeroplane", "a.jpg"), solidJpeg(32, [1, 2, 3]));
    await assert.rejects(
      load(dir, "test"),
      /folder\(s\) aeroplane that are not CIFAR-10 classes/,
    );
    fs.rmSync(path.join(dir, "test", "aeroplane"), { recursive: true });
    fs.rmSync(path.join(dir, "test", "horse"), { recursive: true });
    await assert.rejects(load(dir, "test"), /lacks 1 CIFAR-10 class folder\(s\): horse/);
  });

  it("warns when a split is smaller than the official one", async () => {
    const sink = logSink();
    const fresh = path.join(tmp.dir, "fresh-cache");
    await load(tree, "test", { log: sink.log, cacheDir: fresh });
    assert.ok(
      sink.lines.some((l) => /holds 20 test images, the official .* has 10000/.test(l)),
    );
  });
});

describe("CIFAR-10 JPEG copy in ../shared (when present)", () => {
  // ../shared beside the project root
  const shared = fileURLToPath(
    new URL("../../../shared/data/cifar10-jpeg", import.meta.url),
  );
  const present = fs.existsSync(path.join(shared, "test.tar.gz"));
  const tmp = tempDir();
  after(tmp.cleanup);
  const load = splitLoader("cifar10", path.join(tmp.dir, "cache"));

  it(
    "loads the real test split: 10000 images, 1000 per class",
    {
      skip: present
        ? false
        : `no ${shared}/test.tar.gz here; skipping the real-data check`,
    },
    async () => {
      const split = await load(shared, "test");
      assert.equal(split.count, 10000);
      assert.equal(split.height, 32);
      const counts = new Array(10).fill(0);
      for (const label of split.labels) counts[label]++;
      assert.deepEqual(counts, new Array(10).fill(1000));
      // not a blank decode: real photographs have varied pixels
      const sample = new Set(split.pixels.whole().subarray(0, 3072 * 10));
      assert.ok(sample.size > 100);
    },
  );
});
