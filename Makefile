# Thin wrappers around the CMake presets. On a fresh Debian 12 machine,
# `make run` and `make test` are the whole set-up: both install what is
# missing first (scripts/install-deps).

CONFIG ?= examples/demo.yaml
FUZZ_SECONDS ?= 60

.PHONY: all deps build run test test-web format clean release asan fuzz

all: build

deps:
	@scripts/install-deps

# The demo: an optimised build serving examples/demo.yaml on 127.0.0.1:8080,
# with a fresh admin token (named make-run, replaced on each run) to sign in
# to the web UI with.
run: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target hale
	@./build/release/hale token revoke make-run -c $(CONFIG) >/dev/null 2>&1 || true
	@echo "Open the address hale prints below (http://127.0.0.1:8080 for the demo) and sign in with this admin token (new on each make run):"
	@./build/release/hale token create make-run --role admin -c $(CONFIG) 2>/dev/null
	./build/release/hale serve -c $(CONFIG)

# Everything: unit, corpus replay, style and end-to-end tests, in a debug
# build and again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: deps
	scripts/run-tests

# Only the browser tests (tests/web/), against the debug build.
test-web: build
	node --test --test-concurrency=1 tests/web/

build: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug

release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan

# Runs each libFuzzer target for FUZZ_SECONDS on a copy of its seed corpus.
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	@for t in build/fuzz/fuzz_*; do \
		name=$$(basename $$t); mkdir -p build/fuzz/corpus/$$name; \
		cp -n tests/fuzz/corpus/$$name/* build/fuzz/corpus/$$name/ 2>/dev/null; \
		echo "== $$name ($(FUZZ_SECONDS) s)"; \
		$$t -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/$$name || exit 1; \
	done

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf build
