#!/usr/bin/env bash
# Takes a headless Chromium screenshot of every rendered report, for a visual
# check that tables and figures show up offline.
# Usage: scripts/screenshot-reports.sh [results/reports/quick] [out-folder]
set -euo pipefail
REPORTS=${1:-results/reports/quick}
OUT=${2:-$(mktemp -d)}
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
  echo "screenshot-reports: no chromium found (Debian: apt-get install chromium)" >&2
  exit 1
fi
mkdir -p "$OUT"
for page in "$REPORTS"/*.html; do
  profile_dir=$(mktemp -d)
  # no network, no background services: the page must render from its own bytes
  "$BROWSER" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$profile_dir" --virtual-time-budget=10000 \
    --screenshot="$OUT/$(basename "$page" .html).png" --window-size=1200,1600 \
    "file://$(realpath "$page")" 2>/dev/null
  rm -rf "$profile_dir"
done
echo "screenshot-reports: images in $OUT"
