import assert from "node:assert/strict";
import { test } from "node:test";
import "@tensorflow/tfjs-backend-cpu";
import { encoderCost, trainFlopsPerImage } from "../../src/models/cost.js";
import { createEncoder, encoderPresets, withStem } from "../../src/models/encoder.js";

test("ResNet-18 (CIFAR stem) costs the well-known 0.56 GMACs per 32x32 image", () => {
  // layer by layer: stem; stage 1 at 32x32; stages 2-4 each a strided conv,
  // three more 3x3 convs and a 1x1 shortcut, at 16, 8 and 4 pixels a side
  const stage = (side: number, cin: number, cout: number): number =>
    side * side * (9 * cin * cout + 3 * 9 * cout * cout + cin * cout);
  const backbone = 32 * 32 * 27 * 64 + 4 * 32 * 32 * 9 * 64 * 64 +
    stage(16, 64, 128) + stage(8, 128, 256) + stage(4, 256, 512);
  const cost = encoderCost(encoderPresets.resnet18);
  assert.equal(cost.forwardMacs - cost.headMacs, backbone);
  assert.equal(backbone, 555_417_600);
  assert.equal(cost.headMacs, 512 * 512 + 512 * 128);
  assert.equal(trainFlopsPerImage(encoderPresets.resnet18), 6 * cost.forwardMacs);
});

test("parameter counts match the PyTorch reference models", () => {
  // sum(p.numel() for p in model.parameters()) of bench/torch_reference.py
  assert.equal(encoderCost(encoderPresets.small).parameters, 827_552);
  assert.equal(encoderCost(encoderPresets.resnet18).parameters, 11_497_664);
  assert.equal(encoderCost(encoderPresets.small).featureDim, 128);
});

test("with the ImageNet stem at 224 px the costs are torchvision's", () => {
  // torchvision counts (convolutions only): ResNet-18 1.81 GMACs, ResNet-50 4.09
  const r18 = encoderCost(withStem(encoderPresets.resnet18, "imagenet"), 224);
  const r50 = encoderCost(withStem(encoderPresets.resnet50, "imagenet"), 224);
  assert.ok(Math.abs((r18.forwardMacs - r18.headMacs) / 1.814e9 - 1) < 0.005);
  assert.ok(Math.abs((r50.forwardMacs - r50.headMacs) / 4.087e9 - 1) < 0.005);
  // torchvision resnet18 without its classifier: 11,176,512 parameters
  const head = 512 * 512 + 2 * 512 + 512 * 128 + 128;
  assert.equal(r18.parameters, 11_176_512 + head);
});

test("the cost model counts the parameters the encoder really has", () => {
  for (const config of [encoderPresets.small, withStem(encoderPresets.small, "imagenet")]) {
    const encoder = createEncoder(config, 0);
    const count = encoder.trainableVariables.reduce((n, v) => n + v.size, 0);
    encoder.dispose();
    assert.equal(encoderCost(config).parameters, count, config.stem ?? "cifar");
  }
});

test("activations count every convolution output of one image", () => {
  // stem 32x32x32; stage 1: four 32x32x32 maps; stages 2 and 3: five maps each
  // (two blocks of two convolutions and one shortcut) at 16x16x64 and 8x8x128
  const small = 32 * 1024 + 4 * 32 * 1024 + 5 * 64 * 256 + 5 * 128 * 64;
  assert.equal(encoderCost(encoderPresets.small).activations, small);
  assert.equal(encoderCost(encoderPresets.small, 64).activations, 4 * small);
});
