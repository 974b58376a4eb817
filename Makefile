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

typecheck: $(NODE_MODULES)
	npx tsc -p tsconfig.json --noEmit

test: $(NODE_MODULES) typecheck ## type-check and run every test
	node --import tsx --test --test-concurrency=1 $$(find test -name '*.test.ts' | sort)

# Each area of the project adds its targets in a fragment of its own.
-include mk/*.mk
