# Backend selection and the wasm training kernels (src/backend/).
.PHONY: test-backend bench-backend
test-backend: $(NODE_MODULES) ## run the backend tests (kernels vs cpu, selection, threads)
	node --import tsx --test --test-concurrency=1 test/backend/*.test.ts

# Images/s of a small-ResNet training step on wasm: stock kernels, ours on
# 1 thread, ours on 2 threads. Several minutes; numbers depend on machine load.
bench-backend: $(NODE_MODULES) ## time a wasm training step: stock vs custom kernels, 1 vs 2 threads
	npx tsx test/backend/bench/train-step.ts --stock --threads 1 --steps 1
	npx tsx test/backend/bench/train-step.ts --threads 1 --steps 3
	npx tsx test/backend/bench/train-step.ts --threads 2 --steps 3
