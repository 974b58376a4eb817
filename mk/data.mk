# Datasets: make data DATASET=cifar10|stl10|imagenet100 [DATA_DIR=dir] [FROM=archive-or-folder]
.PHONY: data test-data

data: $(NODE_MODULES) ## get a dataset: DATASET=cifar10|stl10|imagenet100 [DATA_DIR=] [FROM=]
	@npx tsx src/data/prepare-main.ts $(if $(DATASET),--dataset "$(DATASET)") \
	  $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") $(if $(FROM),--from "$(FROM)")

test-data: $(NODE_MODULES) ## run the dataset tests only
	node --import tsx --test --test-concurrency=1 $$(find test/data -name '*.test.ts' | sort)
