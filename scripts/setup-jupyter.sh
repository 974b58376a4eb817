#!/usr/bin/env bash
# Creates the project-local Python environment used to execute and export the
# notebooks (.venv: jupyter, nbconvert, papermill, jupyterlab) and registers the
# tslab TypeScript kernel inside that environment, never system-wide.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PYTHON=${PYTHON:-python3}
PACKAGES=(jupyterlab==4.6.6 nbconvert==7.17.2 nbclient==0.11.0 papermill==2.7.0)

# 1. the virtual environment
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-jupyter: creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi

# JupyterLab runs JavaScript files from inside the venv with node; without this
# file node would take them for ES modules, as this project's package.json says
echo '{ "type": "commonjs" }' > "$VENV/package.json"

# 2. the Python packages (skipped when the pinned set is already installed)
STAMP="$VENV/.dcl-packages"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "${PACKAGES[*]}" ]; then
  echo "setup-jupyter: installing ${PACKAGES[*]}"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
  echo "${PACKAGES[*]}" > "$STAMP"
fi

# 3. the tslab kernelspec, written into the venv's own share/jupyter/kernels so
#    that only this project's Jupyter sees it. Absolute paths: the kernel is
#    started from the notebook's folder, and node must find this checkout's tslab.
KERNEL_DIR="$VENV/share/jupyter/kernels/tslab"
TSLAB="$PWD/node_modules/tslab/bin/tslab"
if [ ! -f "$TSLAB" ]; then
  echo "setup-jupyter: $TSLAB is missing; run 'make install' first" >&2
  exit 1
fi
mkdir -p "$KERNEL_DIR"
cat > "$KERNEL_DIR/kernel.json" <<JSON
{
  "argv": ["$(command -v node)", "$TSLAB", "kernel", "--config-path", "{connection_file}"],
  "display_name": "TypeScript (tslab, project)",
  "language": "typescript"
}
JSON
echo "setup-jupyter: kernel 'tslab' registered in $KERNEL_DIR"
