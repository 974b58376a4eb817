#!/usr/bin/env bash
# Side-by-side training throughput of one small ResNet: the native TensorFlow
# backend (native/bench_tfjs.ts) and PyTorch with 2 threads (native/bench_torch.py,
# needs Debian's python3-torch). The two sides alternate, so that load from
# other processes on the machine hits both; each run reports images per second
# of wall time and per second of CPU time (all threads), which depends less on
# that load, and the native/PyTorch ratios.
# Usage: native/bench.sh [batch] [timed steps] [rounds]   (from the repository root)
set -euo pipefail
batch="${1:-128}"
steps="${2:-8}"
rounds="${3:-2}"
python="${TORCH_PYTHON:-/usr/bin/python3}"
"$python" -c "import torch" 2>/dev/null ||
  { echo "native/bench.sh: $python has no torch (apt-get install python3-torch)" >&2
    exit 1; }

for round in $(seq "$rounds"); do
  tfjs="$(npx tsx native/bench_tfjs.ts "$batch" "$steps")"
  torch="$("$python" native/bench_torch.py "$batch" "$steps")"
  echo "$tfjs"
  echo "$torch"
  node -e '
    const [a, b] = process.argv.slice(1).map((s) => JSON.parse(s));
    const f = (x) => x.toFixed(1);
    console.log(`round ${process.argv[3]}: img/s native ${f(a.img_per_s)}, pytorch ` +
      `${f(b.img_per_s)}, ratio ${(a.img_per_s / b.img_per_s).toFixed(2)}; ` +
      `img per CPU-s native ${f(a.img_per_cpu_s)}, pytorch ${f(b.img_per_cpu_s)}, ` +
      `ratio ${(a.img_per_cpu_s / b.img_per_cpu_s).toFixed(2)}`);
  ' "$tfjs" "$torch" "$round"
done
