# Native TensorFlow backend built from the `tensorflow` wheel on PyPI (see
# native/README.md). Optional: nothing else depends on it, and its tests skip
# when it is absent. A first build downloads about 620 MB and uses about 1.5 GB.
NATIVE_ADDON := native/build/lib/tfjs_binding.node
NATIVE_SMOKE := native/build/smoke.ok
NATIVE_INPUTS := native/build.sh native/binding.gyp $(wildcard native/shim/*)

.PHONY: native native-bench native-clean
native: $(NATIVE_SMOKE) ## build the native TensorFlow backend from the tensorflow wheel

$(NATIVE_ADDON): $(NATIVE_INPUTS) | $(NODE_MODULES)
	native/build.sh
	@touch $@

# A matmul and a strided conv2d gradient on the backend, once per build.
$(NATIVE_SMOKE): $(NATIVE_ADDON) native/smoke.ts src/backend/native.ts
	npx tsx native/smoke.ts
	@touch $@

native-bench: $(NATIVE_SMOKE) ## time a small ResNet step: native backend vs PyTorch
	native/bench.sh

native-clean: ## remove the native build (keeps the downloaded wheel in native/cache)
	rm -rf native/build
