"""PyTorch reference for `make bench`: the same encoder, head, loss and optimiser
as the TypeScript training step, timed on synthetic inputs with 2 threads.

Run with the Debian interpreter (/usr/bin/python3, package python3-torch).
Modes, each printing one stdout line "BENCH_RESULT <JSON>":

  step     one training configuration: img/s and peak RSS of this process
  ceiling  a large float32 matmul: the GFLOP/s this machine gives 2 threads
  loss     the debiased loss of projections given on stdin (a cross-check)
"""
import argparse
import json
import math
import os
import resource
import sys
import time

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
# BLAS pools read these when they start, so they are set before any import.
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = str(THREADS)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)


# ---- model: ResNet basic blocks with a CIFAR stem, then the projection head ----

class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a residual connection."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        # A 1x1 projection only where the shape changes, as in torchvision.
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Encoder(nn.Module):
    """CIFAR-stem ResNet (3x3 stride-1 stem, no max-pool) plus projection head."""

    def __init__(self, widths, blocks, head_hidden=512, projection_dim=128):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, 1, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        layers = []
        c_in = widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(BasicBlock(c_in, width, stride))
                c_in = width
        self.stages = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Linear(c_in, head_hidden, bias=False),
            nn.BatchNorm1d(head_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(head_hidden, projection_dim),
        )

    def forward(self, x):  # x: (B, 3, 32, 32)
        h = self.stages(self.stem(x))
        h = torch.flatten(F.adaptive_avg_pool2d(h, 1), 1)  # (B, C)
        return self.head(h)  # (B, projection_dim)


ARCHS = {
    "small": dict(widths=[32, 64, 128], blocks=[2, 2, 2]),
    "resnet18": dict(widths=[64, 128, 256, 512], blocks=[2, 2, 2, 2]),
}


# ---- the debiased contrastive loss (Chuang et al. 2020, M = 1) ----

def debiased_loss(z1, z2, temperature=0.5, tau_plus=0.1):
    """Mean over the 2P anchors of -log(pos / (pos + Ng)), Ng debiased and floored."""
    pairs = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # (2P, d)
    scores = torch.exp(z @ z.t() / temperature)  # (2P, 2P)

    # Drop the anchor itself and its other view: 2P - 2 negatives per row.
    rows = torch.arange(2 * pairs)
    keep = torch.ones_like(scores, dtype=torch.bool)
    keep[rows, rows] = False
    keep[rows, (rows + pairs) % (2 * pairs)] = False
    negatives = scores[keep].view(2 * pairs, -1)  # (2P, 2P-2)

    positive = torch.exp((z[:pairs] * z[pairs:]).sum(1) / temperature)  # (P,)
    positive = torch.cat([positive, positive])  # (2P,)
    n = 2 * pairs - 2
    ng = (negatives.sum(1) - tau_plus * n * positive) / (1 - tau_plus)
    ng = torch.clamp(ng, min=n * math.exp(-1 / temperature))
    return (-torch.log(positive / (positive + ng))).mean()


# ---- modes ----

RESULT_MARKER = "BENCH_RESULT "
PROGRESS_MARKER = "BENCH_PROGRESS "


def progress(line):
    print(PROGRESS_MARKER + line, file=sys.stderr, flush=True)


def peak_rss_bytes():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_step(args):
    torch.manual_seed(0)
    model = Encoder(**ARCHS[args.arch])
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
    pairs = args.images // 2
    view1 = torch.randn(pairs, 3, 32, 32)
    view2 = torch.randn(pairs, 3, 32, 32)

    def step():
        optimiser.zero_grad(set_to_none=True)
        # Each view has its own forward pass, so batch-norm statistics are per view.
        loss = debiased_loss(model(view1), model(view2))
        loss.backward()
        optimiser.step()
        return loss.item()

    for index in range(args.warmup):
        start = time.perf_counter()
        loss = step()
        progress(f"warm-up step {index + 1}: {time.perf_counter() - start:.1f} s loss {loss:.4f}")
    seconds = []
    losses = []
    cpu_before = cpu_seconds()
    for index in range(args.steps):
        start = time.perf_counter()
        losses.append(step())
        seconds.append(time.perf_counter() - start)
        progress(f"step {index + 1}: {seconds[-1]:.1f} s loss {losses[-1]:.4f}")
    total = sum(seconds)
    cpu = cpu_seconds() - cpu_before
    return {
        "side": "pytorch",
        "arch": args.arch,
        "imagesPerStep": args.images,
        "steps": args.steps,
        "warmup": args.warmup,
        "stepSeconds": seconds,
        "imagesPerSecond": args.images * args.steps / total,
        # CPU seconds of all threads per wall second: how many cores it got
        "coresUsed": cpu / total,
        "losses": losses,
        "peakRssBytes": peak_rss_bytes(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
        "torchVersion": torch.__version__,
    }


def best_gflops(multiply, flops, repeats):
    multiply()  # first call pays for allocation and thread start-up
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        multiply()
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e9


def run_ceiling(args):
    """Best of three ways torch and numpy can multiply two float32 matrices."""
    n = args.size
    flops = 2.0 * n ** 3
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    torch_gflops = best_gflops(lambda: torch.mm(a, b), flops, args.repeats)
    an = a.numpy()
    bn = b.numpy()
    numpy_gflops = best_gflops(lambda: an @ bn, flops, args.repeats)

    # Debian's torch and numpy link the reference BLAS (BLAS_INFO=generic), far
    # below what the cores can do. The same product as a 1x1 convolution runs in
    # oneDNN, the library PyTorch's convolutions use: pixels are rows, channels
    # the inner dimension. (64, n, 8, 8) is the fastest layout measured here.
    rows, channels = 64 * 8 * 8, 2048
    pixels = torch.randn(64, channels, 8, 8)
    kernel = torch.randn(channels, channels, 1, 1)
    onednn_gflops = best_gflops(
        lambda: F.conv2d(pixels, kernel), 2.0 * rows * channels ** 2, args.repeats
    )
    return {
        "blasMatmulSize": n,
        "onednnMatmulShape": [rows, channels, channels],
        "torchMmGflops": torch_gflops,
        "numpyGflops": numpy_gflops,
        "onednnGflops": onednn_gflops,
        "ceilingGflops": max(torch_gflops, numpy_gflops, onednn_gflops),
        "threads": torch.get_num_threads(),
    }


def run_loss(args):
    """The loss of given projections (JSON on stdin), to check both sides agree."""
    given = json.load(sys.stdin)
    z1 = torch.tensor(given["z1"], dtype=torch.float32)
    z2 = torch.tensor(given["z2"], dtype=torch.float32)
    loss = debiased_loss(z1, z2, given["temperature"], given["tauPlus"])
    return {"loss": loss.item()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    step = modes.add_parser("step")
    step.add_argument("--arch", choices=sorted(ARCHS), required=True)
    step.add_argument("--images", type=int, required=True,
                      help="encoder images per step (two views of images/2 pairs)")
    step.add_argument("--steps", type=int, default=3)
    step.add_argument("--warmup", type=int, default=1)
    ceiling = modes.add_parser("ceiling")
    ceiling.add_argument("--size", type=int, default=1024,
                         help="side of the square BLAS matmul")
    ceiling.add_argument("--repeats", type=int, default=3)
    modes.add_parser("loss", help="debiased loss of {z1, z2, temperature, tauPlus} on stdin")
    args = parser.parse_args()
    if args.mode == "step" and (args.images < 4 or args.images % 2):
        parser.error(f"--images must be an even number >= 4, got {args.images}")
    run = {"step": run_step, "ceiling": run_ceiling, "loss": run_loss}[args.mode]
    result = run(args)
    print(RESULT_MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
