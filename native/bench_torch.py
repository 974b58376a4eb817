"""Times training steps of the small ResNet of native/bench_tfjs.ts in PyTorch
(same layers, loss, optimizer and batch; 2 threads) and prints one JSON line.

Usage: /usr/bin/python3 native/bench_torch.py [batch] [timed steps]
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = int(sys.argv[1]) if len(sys.argv) > 1 else 128
TIMED_STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
WARMUP_STEPS = 2
TEMPERATURE = 0.5


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(h + (self.shortcut(x) if self.shortcut is not None else x))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.blocks = nn.Sequential(
            BasicBlock(32, 32, 1), BasicBlock(32, 32, 1),
            BasicBlock(32, 64, 2), BasicBlock(64, 64, 1),
            BasicBlock(64, 128, 2), BasicBlock(128, 128, 1))
        self.head = nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 128))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):                                # x: (B, 3, 32, 32)
        h = self.blocks(self.stem(x))                    # (B, 128, 8, 8)
        return self.head(h.mean(dim=(2, 3)))             # (B, 128)


def nt_xent(z):
    """Rows 2i and 2i+1 are a positive pair; the other 2N-2 rows are negatives."""
    n = z.shape[0]
    unit = F.normalize(z, dim=1)
    logits = unit @ unit.t() / TEMPERATURE - 1e9 * torch.eye(n)
    partner = torch.arange(n) ^ 1
    return F.cross_entropy(logits, partner)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(1)
    model = SmallResNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.rand(BATCH, 3, 32, 32)
    times = []
    cpu_seconds = 0.0  # user + system time of all threads over the timed steps
    loss = float("nan")
    for step in range(WARMUP_STEPS + TIMED_STEPS):
        start = time.perf_counter()
        cpu_start = time.process_time()
        optimizer.zero_grad()
        value = nt_xent(model(images))
        value.backward()
        optimizer.step()
        loss = value.item()
        if step >= WARMUP_STEPS:
            times.append(time.perf_counter() - start)
            cpu_seconds += time.process_time() - cpu_start
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        "side": "pytorch", "torch": torch.__version__, "batch": BATCH,
        "params": sum(p.numel() for p in model.parameters()), "steps": TIMED_STEPS,
        "median_step_s": median, "img_per_s": BATCH / median,
        "img_per_cpu_s": BATCH * TIMED_STEPS / cpu_seconds, "last_loss": loss}))


if __name__ == "__main__":
    main()
