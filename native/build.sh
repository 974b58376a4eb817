#!/usr/bin/env bash
# Builds the native TensorFlow backend: tfjs-node's N-API addon compiled against
# the TensorFlow C library that ships inside the `tensorflow` wheel on PyPI.
#
# Usage: native/build.sh        (run from the repository root; `make native` does)
#
# Needs: python3 with pip, npm, node's own C headers, g++ and make. Reaches only
# PyPI (the wheel) and the npm registry (tfjs-node's sources, google-protobuf).
#
# Output, all under native/build/ (ignored by git):
#   tensorflow/lib/   libtensorflow_cc.so.2, libtensorflow_framework.so.2
#   tensorflow/include/  the C API headers the addon compiles against
#   lib/tfjs_binding.node  the addon; its RUNPATH finds ../tensorflow/lib
#   js/node_modules/  tfjs-node's backend JavaScript, google-protobuf, and a
#                     stand-in for @tensorflow/tfjs (see native/shim/)
#   js/gradients.cjs  tfjs-core's gradient functions as one CommonJS file
set -euo pipefail

TF_VERSION="${TF_VERSION:-2.20.0}"
TFJS_NODE_VERSION=4.22.0
PROTOBUF_VERSION=3.21.4

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cache="$here/cache"
build="$here/build"
mkdir -p "$cache" "$build"

say() { printf 'native: %s\n' "$*"; }
die() { printf 'native: error: %s\n' "$*" >&2; exit 1; }

# 1. The wheel (about 620 MB), downloaded once into native/cache/.
wheel="$(ls "$cache"/tensorflow-"$TF_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
if [[ -z "$wheel" ]]; then
  say "downloading tensorflow==$TF_VERSION from PyPI (about 620 MB)"
  python3 -m pip download --quiet --no-cache-dir --no-deps --only-binary=:all: \
    -d "$cache" "tensorflow==$TF_VERSION" ||
    die "pip could not download tensorflow==$TF_VERSION (is PyPI reachable?)"
  wheel="$(ls "$cache"/tensorflow-"$TF_VERSION"-*.whl | head -n 1)"
fi

# 2. The two shared libraries and the C API headers out of the wheel. Only the
# header folders that c_api.h and eager/c_api.h reach are unpacked (the full
# include tree is 320 MB of C++ headers the addon never reads).
tf="$build/tensorflow"
if [[ ! -f "$tf/.version" || "$(cat "$tf/.version")" != "$TF_VERSION" ]]; then
  say "unpacking the C library from $(basename "$wheel")"
  rm -rf "$tf"
  python3 - "$wheel" "$tf" <<'PY'
import os, shutil, sys, zipfile

wheel, out = sys.argv[1], sys.argv[2]
libs = ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2")
headers = ("tensorflow/c/", "tensorflow/core/platform/", "tsl/platform/", "xla/tsl/c/")
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name in libs:
            target = os.path.join(out, "lib", os.path.basename(name))
        elif name.startswith("tensorflow/include/") and name.endswith(".h") and \
                name[len("tensorflow/include/"):].startswith(headers):
            target = os.path.join(out, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with archive.open(name) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
for lib in libs:
    if not os.path.exists(os.path.join(out, "lib", os.path.basename(lib))):
        sys.exit(f"{lib} is not in {wheel}: this wheel does not ship the C library")
PY
  for header in tensorflow/c/c_api.h tensorflow/c/eager/c_api.h; do
    [[ -f "$tf/include/$header" ]] || die "$header is missing from $(basename "$wheel")"
  done

  # 3. The C API functions the addon calls must be exported by the libraries
  # (checked once per unpack: nm reads 1.2 GB).
  needed="TFE_NewContext TFE_NewOp TFE_Execute TFE_TensorHandleResolve
    TFE_TensorHandleCopyToDevice TFE_ContextListDevices TF_LoadSessionFromSavedModel
    TF_SessionRun TF_Version"
  exported="$(nm -D --defined-only "$tf"/lib/*.so.2 |
    awk '{ sub(/@.*/, "", $3); print $3 }')"
  for symbol in $needed; do
    grep -qx "$symbol" <<<"$exported" ||
      die "$symbol is not exported by the wheel's libtensorflow (TF $TF_VERSION)"
  done
  echo "$TF_VERSION" > "$tf/.version"
fi

# 4. tfjs-node's sources (C++ addon and compiled JavaScript) from the npm registry.
src="$build/tfjs-node"
if [[ ! -f "$src/package.json" ]] ||
   ! grep -q "\"version\": \"$TFJS_NODE_VERSION\"" "$src/package.json"; then
  say "fetching @tensorflow/tfjs-node@$TFJS_NODE_VERSION sources from npm"
  tarball="$cache/tensorflow-tfjs-node-$TFJS_NODE_VERSION.tgz"
  [[ -f "$tarball" ]] || (cd "$cache" && npm pack --silent \
    "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null)
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$tarball" -C "$src" --strip-components=1
fi

# 5. Compile the addon with npm's own node-gyp against node's local headers; a
# node-gyp that had to fetch headers would fail here (no nodejs.org).
node_prefix="$(cd "$(dirname "$(readlink -f "$(command -v node)")")/.." && pwd)"
[[ -f "$node_prefix/include/node/node_api.h" ]] ||
  die "node's C headers are not in $node_prefix/include/node (install node's headers)"
npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
gyp="$npm_dir/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$gyp" ]] || die "npm's bundled node-gyp is not at $gyp"
addon="$build/lib/tfjs_binding.node"
if [[ ! -f "$addon" || "$here/binding.gyp" -nt "$addon" ||
      "$tf/.version" -nt "$addon" ]]; then
  say "compiling tfjs_binding.node"
  cp "$here/binding.gyp" "$src/binding.gyp"
  (cd "$src" && JOBS=2 node "$gyp" rebuild --nodedir="$node_prefix" --loglevel=warn)
  mkdir -p "$build/lib"
  cp "$src/build/Release/tfjs_binding.node" "$addon"
fi

# 6. The JavaScript side: tfjs-node's backend modules, their one outside
# dependency, the @tensorflow/tfjs stand-in, and a gradient bundle.
js="$build/js"
modules="$js/node_modules"
if [[ ! -f "$modules/google-protobuf/package.json" ]]; then
  say "installing google-protobuf@$PROTOBUF_VERSION into native/build/js"
  npm install --silent --prefix "$js" --no-save --no-package-lock --ignore-scripts \
    --no-audit --no-fund "google-protobuf@$PROTOBUF_VERSION"
fi
rm -rf "$modules/@tensorflow/tfjs" "$modules/@tensorflow/tfjs-node"
mkdir -p "$modules/@tensorflow/tfjs-node"
cp -r "$here/shim" "$modules/@tensorflow/tfjs"
cp -r "$src/dist" "$src/package.json" "$modules/@tensorflow/tfjs-node/"
[[ ! -e "$modules/@tensorflow/tfjs-core" ]] ||
  die "$modules/@tensorflow/tfjs-core exists: it would shadow the project's tfjs-core"

# tfjs-core registers no gradients by itself (the @tensorflow/tfjs union package
# does), and its ESM files cannot be imported by Node directly; esbuild (shipped
# with tsx) turns them into one CommonJS file. Its copy of tfjs-core's internals
# shares the engine and registries through tfjs-core's global namespace.
"$root/node_modules/.bin/esbuild" \
  "$root/node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js" \
  --bundle --platform=node --format=cjs --log-level=warning --outfile="$js/gradients.cjs"

say "built $addon (TensorFlow $TF_VERSION)"
