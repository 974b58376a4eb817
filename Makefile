# Debiased Contrastive Learning in TypeScript. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_MODULES := node_modules/.package-lock.json

$(NODE_MODULES): package.json package-lock.json
	npm ci
	@touch $@

.PHONY: help install build typecheck test
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
	  awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(NODE_MODULES) ## install the npm dependencies (npm ci)

build: $(NODE_MODULES) ## compile src/ to dist/
	npx tsc -p tsconfig.json

typecheck: $(NODE_MODULES) ## type-check the library, the tests and the benchmark
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p test/tsconfig.json
	npx tsc -p bench/tsconfig.json

test: $(NODE_MODULES) typecheck ## type-check and run every test
	node --import tsx --test --test-concurrency=1 $$(find test -name '*.test.ts' | sort)

# The four objectives on real CIFAR-10 images with the small CPU encoder: each
# run prints its kNN top-1 at initialisation and after pretraining, and writes
# its full result to results/objectives/<loss>.json.
OBJECTIVES_DATA ?= data/cifar10
OBJECTIVES_FLAGS ?= --arch small --subset 4000 --batch-size 64 --epochs 3 \
  --train-subset 5000 --test-subset 1000 --linear-epochs 30 --linear-batch 256
.PHONY: objectives
objectives: $(NODE_MODULES) ## pretrain + evaluate the small encoder with each objective (OBJECTIVES_DATA=)
	@mkdir -p results/objectives
	@for loss in biased debiased unbiased hard; do \
	  node bin/dcl.js run $(OBJECTIVES_FLAGS) --loss $$loss --data-dir "$(OBJECTIVES_DATA)" \
	    --checkpoint-dir checkpoints/objectives-$$loss \
	    --json results/objectives/$$loss.json > /dev/null || exit 1; \
	done

# Each area of the project adds its targets in a fragment of its own.
-include mk/*.mk
