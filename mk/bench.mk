# Training-step benchmark: our step against the same step in PyTorch, and the
# data pipeline alone (see bench/README.md). Shorten a run with BENCH_MODELS,
# BENCH_SIZES, BENCH_STEPS, BENCH_WARMUP, BENCH_BACKENDS, BENCH_CHUNK, BENCH_RETRY_CHUNK.
# Only this target needs PyTorch; the product never does.
BENCH_PYTHON ?= /usr/bin/python3
export BENCH_PYTHON

.PHONY: bench bench-torch test-bench
bench: $(NODE_MODULES) bench-torch ## time our training step against PyTorch, side by side
	npx tsx bench/bench.ts

# Debian's python3-torch (1.13) is the reference; install it when it is missing.
bench-torch:
	@$(BENCH_PYTHON) -c "import torch" 2>/dev/null || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "PyTorch is missing for $(BENCH_PYTHON): run" \
	      "'sudo apt-get install python3-torch' (or set BENCH_PYTHON)"; exit 1; fi; \
	  echo "installing python3-torch for the benchmark's reference side"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch; }

test-bench: $(NODE_MODULES) ## type-check the benchmark and run its tests
	npx tsc -p bench/tsconfig.json
	node --import tsx --test --test-concurrency=1 $$(find test/bench -name '*.test.ts' | sort)
