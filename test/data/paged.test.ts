/**
 * Splits paged from their cache file: the same bytes and views as resident
 * ones, decoding above residentLimit streamed into the cache file, and the
 * failures of that stream (bad image, full disk, damaged file) cleaned up.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  augmentBatch,
  defaultAugmentOptions,
  evalBatch,
  TwoViewLoader,
} from "../../src/augment/simclr.js";
import { datasetInfo, imagenet100Classes } from "../../src/data/index.js";
import { CIFAR10_CLASSES } from "../../src/data/info.js";
import { PagedPixels } from "../../src/data/pixels.js";
import type { ImageSplit } from "../../src/data/types.js";
import { Rng } from "../../src/util/rng.js";
import {
  assertSameSplit,
  cifarRecords,
  logSink,
  solidJpeg,
  splitBytes,
  splitLoader,
  tempDir,
  writeFile,
  writeTarGz,
  type TarMember,
} from "./fixtures.js";

/** Files of a cache folder, temporary ones included. */
function cacheFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** Two views of `indices` with one seed, and their evaluation images. */
function viewsOf(split: ImageSplit, indices: number[]): Float32Array[] {
  const options = defaultAugmentOptions;
  const stride = options.outSize * options.outSize * 3;
  const first = new Float32Array(indices.length * stride);
  const second = new Float32Array(indices.length * stride);
  const rng = new Rng(21);
  augmentBatch(split, indices, rng, first, options);
  augmentBatch(split, indices, rng, second, options);
  const plain = new Float32Array(indices.length * stride);
  evalBatch(split, indices, plain, options);
  return [first, second, plain];
}

describe("paged splits", () => {
  const tmp = tempDir("dcl-paged-");
  after(tmp.cleanup);

  // 100 CIFAR-10 binary records: more images than a paged store has slots
  const binDir = path.join(tmp.dir, "bin");
  const labels = Array.from({ length: 100 }, (_, i) => (i * 7) % 10);
  writeFile(path.join(binDir, "test_batch.bin"), cifarRecords(labels));

  it("give the bytes, labels and augmented views of the resident split", async () => {
    const cache = path.join(tmp.dir, "cache-binary");
    const load = splitLoader("cifar10", cache);
    const resident = await load(binDir, "test");
    assert.equal(resident.pixels.resident, true);

    // the cache entry read back above a limit of 0 bytes is paged
    const sink = logSink();
    const paged = await load(binDir, "test", { residentLimit: 0, log: sink.log });
    assert.ok(sink.lines.some((l) => /from the cache.*paged from disk/.test(l)));
    assert.equal(paged.pixels.resident, false);
    assertSameSplit(paged, resident);
    assert.deepEqual([...paged.labels], labels);

    // random order with repeats: slots are evicted and hit
    const rng = new Rng(3);
    const indices = Array.from({ length: 300 }, () => rng.int(100));
    const expected = viewsOf(resident, indices);
    viewsOf(paged, indices).forEach((views, v) => assert.deepEqual(views, expected[v]));

    // the two-view loader draws the same batches from either
    const options = { batchSize: 32, seed: 5, augment: defaultAugmentOptions };
    const a = new TwoViewLoader(resident, options).makeBatch(1, 2);
    const b = new TwoViewLoader(paged, options).makeBatch(1, 2);
    assert.deepEqual(b.view1, a.view1);
    assert.deepEqual(b.view2, a.view2);
    assert.deepEqual(b.labels, a.labels);

    // a paged store has no whole array and refuses use after close
    assert.throws(() => paged.pixels.whole(), /paged from .*\.u8.*residentLimit/);
    paged.pixels.close();
    assert.throws(() => paged.pixels.image(0), /closed; load it again/);
    assert.throws(() => resident.pixels.image(100), /outside \[0, 100\)/);
  });

  it("keep the last `slots` images valid, least recently used evicted first", async () => {
    const cache = path.join(tmp.dir, "cache-slots");
    const load = splitLoader("cifar10", cache);
    const resident = await load(binDir, "test");
    const file = path.join(cache, cacheFiles(cache)[0] as string);
    const imageBytes = 32 * 32 * 3;
    const fileSize = fs.statSync(file).size;
    const start = fileSize - 100 * imageBytes;
    const store = new PagedPixels({ file, start, count: 100, imageBytes, fileSize }, 3);
    const bytesOf = (i: number): number[] => {
      const { bytes, offset } = resident.pixels.image(i);
      return [...bytes.subarray(offset, offset + imageBytes)];
    };
    const view = (at: { bytes: Uint8Array; offset: number }): number[] => [
      ...at.bytes.subarray(at.offset, at.offset + imageBytes),
    ];

    // image 0 survives two more reads, and a hit makes it the most recent
    const zero = store.image(0);
    store.image(1);
    store.image(2);
    assert.deepEqual(view(zero), bytesOf(0));
    store.image(0);
    store.image(3); // evicts 1, the least recently used
    assert.deepEqual(view(zero), bytesOf(0));
    store.image(4); // evicts 2
    store.image(5); // evicts 0: its slot now holds image 5
    assert.deepEqual(view(zero), bytesOf(5));
    store.close();

    // a file that changed size since it was checked is refused
    assert.throws(
      () => new PagedPixels({ file, start, count: 100, imageBytes, fileSize: 1 }),
      /changed while it was opened/,
    );
  });

  it("are rejected above the 4 GiB a resident array can hold", async () => {
    const load = splitLoader("cifar10", path.join(tmp.dir, "cache-limit"));
    await assert.rejects(load(binDir, "test", { residentLimit: 2 ** 33 }), /residentLimit/);
  });
});

describe("streaming decode of an ImageFolder tree", () => {
  const tmp = tempDir("dcl-stream-");
  after(tmp.cleanup);

  // CIFAR-10 JPEG tree: 10 classes x 8 images, colour encodes class and index
  const colour = (c: number, i: number): [number, number, number] => [
    c * 25,
    250 - i * 30,
    (c * 40 + i * 9) & 255,
  ];
  const tree = path.join(tmp.dir, "jpeg");
  const members: TarMember[] = [];
  CIFAR10_CLASSES.forEach((name, c) => {
    for (let i = 0; i < 8; i++) {
      const bytes = solidJpeg(32, colour(c, i));
      writeFile(path.join(tree, "test", name, `${i}.jpg`), bytes);
      members.push({ name: `test/${name}/${i}.jpg`, data: bytes });
    }
  });
  const tiny = { residentLimit: 1 };

  it("writes the cache file while decoding and pages from it", async () => {
    const cache = path.join(tmp.dir, "cache-a");
    const load = splitLoader("cifar10", cache);
    const sink = logSink();
    const paged = await load(tree, "test", { ...tiny, log: sink.log });
    assert.equal(paged.pixels.resident, false);
    assert.equal(paged.count, 80);
    assert.ok(sink.lines.some((l) => /streamed to .*\.u8, paged from disk/.test(l)));
    assert.ok(!sink.lines.some((l) => /could not write/.test(l)));

    // one complete entry and no temporary file
    const files = cacheFiles(cache);
    assert.equal(files.length, 1);
    assert.match(files[0] as string, /\.u8$/);
    const file = path.join(cache, files[0] as string);
    const headerLength = fs.readFileSync(file).readUInt32LE(8);
    assert.equal(fs.statSync(file).size, 12 + headerLength + 80 * 4 + 80 * 32 * 32 * 3);

    // the same as a decode into memory, and read back without decoding
    const inMemory = await splitLoader("cifar10", path.join(tmp.dir, "cache-b"))(
      tree,
      "test",
    );
    assert.equal(inMemory.pixels.resident, true);
    assertSameSplit(paged, inMemory);
    const again = logSink();
    const reread = await load(tree, "test", { ...tiny, log: again.log });
    assert.ok(again.lines.some((l) => l.includes("from the cache")));
    assert.ok(!again.lines.some((l) => l.includes("decoding")));
    assert.equal(reread.pixels.resident, false);
    assertSameSplit(reread, inMemory);
    const resident = await load(tree, "test");
    assert.equal(resident.pixels.resident, true);
    assertSameSplit(resident, inMemory);

    // the centre of image n has its class and index colour
    const bytes = splitBytes(paged);
    for (const n of [0, 13, 79]) {
      const centre = (n * 32 * 32 + 16 * 32 + 16) * 3;
      const expected = colour(Math.floor(n / 8), n % 8);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs((bytes[centre + c] as number) - expected[c]!) <= 3);
      }
    }
  });

  it("streams a <split>.tar.gz the same way", async () => {
    const archiveDir = path.join(tmp.dir, "archive");
    writeTarGz(path.join(archiveDir, "test.tar.gz"), members);
    const load = splitLoader("cifar10", path.join(tmp.dir, "cache-c"));
    const fromArchive = await load(archiveDir, "test", tiny);
    const fromFolder = await load(tree, "test", tiny);
    assert.equal(fromArchive.pixels.resident, false);
    assertSameSplit(fromArchive, fromFolder);
  });

  it("reports a truncated cache file above the limit as damaged and re-decodes", async () => {
    const cache = path.join(tmp.dir, "cache-d");
    const load = splitLoader("cifar10", cache);
    const good = splitBytes(await load(tree, "test", tiny));
    const file = path.join(cache, cacheFiles(cache)[0] as string);
    const wholeSize = fs.statSync(file).size;
    fs.truncateSync(file, wholeSize - 100);

    const sink = logSink();
    const again = await load(tree, "test", { ...tiny, log: sink.log });
    assert.ok(sink.lines.some((l) => /ignoring damaged cache.*its header promises/.test(l)));
    assert.ok(sink.lines.some((l) => l.includes("decoding")));
    assert.equal(again.pixels.resident, false);
    assert.deepEqual(splitBytes(again), good);
    assert.equal(fs.statSync(file).size, wholeSize);
  });

  it("removes the temporary file when an image mid-stream is corrupt", async () => {
    const broken = path.join(tmp.dir, "broken");
    fs.cpSync(tree, broken, { recursive: true });
    const victim = path.join(broken, "test", CIFAR10_CLASSES[5]!, "3.jpg");
    const jpeg = fs.readFileSync(victim);
    fs.writeFileSync(victim, jpeg.subarray(0, Math.floor(jpeg.length / 2)));

    const cache = path.join(tmp.dir, "cache-e");
    const load = splitLoader("cifar10", cache);
    await assert.rejects(
      load(broken, "test", tiny),
      (err: Error) =>
        err.message.includes(victim) && /fetch the dataset again/.test(err.message),
    );
    assert.deepEqual(cacheFiles(cache), []);
  });

  it("removes the temporary file and says what to do on a full disk", async (t) => {
    const cache = path.join(tmp.dir, "cache-f");
    const realWrite = fs.writeSync;
    let writes = 0;
    t.mock.method(fs, "writeSync", (...args: Parameters<typeof fs.writeSync>) => {
      if (++writes === 30) {
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), {
          code: "ENOSPC",
        });
      }
      return (realWrite as (...a: unknown[]) => number)(...args);
    });
    await assert.rejects(
      splitLoader("cifar10", cache)(tree, "test", tiny),
      /could not write image \d+ to the cache file .*\.tmp-.*ENOSPC.*free space there/,
    );
    assert.ok(writes >= 30);
    assert.deepEqual(cacheFiles(cache), []);
  });

  it("refuses to start when the cache folder lacks the space", async (t) => {
    const cache = path.join(tmp.dir, "cache-g");
    const realStatfs = fs.statfsSync;
    t.mock.method(fs, "statfsSync", (...args: Parameters<typeof fs.statfsSync>) => ({
      ...(realStatfs as (...a: unknown[]) => fs.StatsFs)(...args),
      bavail: 0,
    }));
    await assert.rejects(
      splitLoader("cifar10", cache)(tree, "test", tiny),
      /has 0\.00 GiB free, the decoded cifar10\/test \(80 images of 32x32\) needs/,
    );
    assert.deepEqual(cacheFiles(cache), []);
  });

  it("deletes the temporary file of a writer that no longer runs", async () => {
    const cache = path.join(tmp.dir, "cache-h");
    const load = splitLoader("cifar10", cache);
    await load(tree, "test", tiny);
    const entry = cacheFiles(cache)[0] as string;
    // pid 99999999 is above any Linux pid limit, so no process has it
    const older = entry.replace(/-[0-9a-f]{16}\.u8$/, "-0123456789abcdef.u8");
    const orphan = path.join(cache, `${older}.tmp-99999999-00ff`);
    fs.writeFileSync(orphan, "half an entry");
    const touched = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(tree, "test", CIFAR10_CLASSES[0]!, "0.jpg"), touched, touched);

    await load(tree, "test", tiny);
    assert.ok(!fs.existsSync(orphan));
    assert.equal(cacheFiles(cache).length, 1);
  });
});

describe("ImageNet-100 at the paper's 224 px, paged", () => {
  const tmp = tempDir("dcl-paper-");
  after(tmp.cleanup);

  it("decodes, caches and evaluates one image per class through the paged store", async () => {
    const dataDir = path.join(tmp.dir, "imagenet");
    imagenet100Classes().forEach((wnid, c) => {
      const rgb: [number, number, number] = [c * 2, 255 - c * 2, (c * 37) & 255];
      writeFile(path.join(dataDir, "val", wnid, "a.JPEG"), solidJpeg(40, rgb));
    });
    const load = splitLoader("imagenet100", path.join(tmp.dir, "cache"));
    const paged = await load(dataDir, "val", tiny());
    assert.equal(paged.pixels.resident, false);
    assert.equal(paged.height, 224);
    assert.equal(paged.pixels.imageBytes, 224 * 224 * 3);
    assert.deepEqual([...paged.labels], Array.from({ length: 100 }, (_, i) => i));

    // the evaluation transform and augmentation at the paper's sizes
    const info = datasetInfo("imagenet100");
    assert.equal(info.evalSize, 224);
    const indices = [0, 99, 42];
    const plain = new Float32Array(indices.length * 224 * 224 * 3);
    const transform = { outSize: 224, mean: info.mean, std: info.std };
    evalBatch(paged, indices, plain, transform);
    const resident = await load(dataDir, "val");
    assert.equal(resident.pixels.resident, true);
    const expected = new Float32Array(plain.length);
    evalBatch(resident, indices, expected, transform);
    assert.deepEqual(plain, expected);
    // indices[1] is image 99, whose red is 198
    const centre = 224 * 224 * 3 + (112 * 224 + 112) * 3;
    const red = (plain[centre] as number) * info.std[0] + info.mean[0];
    assert.ok(Math.abs(red * 255 - 99 * 2) < 3, `image 99 centre red ${red * 255}`);
  });

  function tiny(): { residentLimit: number } {
    return { residentLimit: 1 };
  }
});
