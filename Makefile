# meow: one entry point for setup, build, demo, tests and benchmarks.
#
#   make demo    install what is missing, build release, run the main job
#   make test    install what is missing, run the whole test suite (Swift + Python)
#   make bench   build release and run the benchmarks
#
# The CPU that release builds target is chosen in Package.swift (MEOW_TARGET_CPU
# overrides it: `make build MEOW_TARGET_CPU=x86-64` gives a portable binary).

SWIFT      ?= swift
BIN        := .build/release
VENV       := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
ifdef MEOW_TARGET_CPU
export MEOW_TARGET_CPU
endif

# The demo's run directory and budget; override on the command line.
RUN_DIR    ?= runs/demo
STEPS      ?= 20000
SEED       ?= 1

.PHONY: all deps deps-system build demo test test-swift test-python lint-python bench clean

all: build

deps:
	@scripts/install-deps.sh

deps-system:
	@scripts/install-deps.sh --system

build: deps-system
	$(SWIFT) build -c release

demo: build
	$(BIN)/meow train --env pendulum --actors 2 --steps $(STEPS) --seed $(SEED) --run-dir $(RUN_DIR) --overwrite

test: deps
	$(MAKE) --no-print-directory test-swift test-python

# The Swift and Python codecs must agree on every mutated frame: a fresh corpus
# from the Python side is decoded by the Swift tests (WireTests.DifferentialTests).
DIFF_CORPUS := .build/differential-corpus.bin

# --no-parallel: on 2 cores the cooperative pool has 2 threads, and long synchronous tests (the fuzzers,
# the training runs) hold both while the transport tests' async replies wait behind them until their
# timeouts fire. The numeric modules are now built at -O in debug builds too (Package.swift), which halved
# the suite (128 s -> 59 s one test at a time, load average 15). In parallel it gained little on a quiet
# machine (37 s -> 32 s, load 7) and on a busy one was slower (95 s) with a transport test timed out
# behind the fuzzers, so tests still run one at a time.
test-swift:
	$(SWIFT) build --build-tests
	python3 protocol/python/tools/differential_corpus.py $(DIFF_CORPUS) 20000 3
	MEOW_DIFFERENTIAL_CORPUS=$(CURDIR)/$(DIFF_CORPUS) $(SWIFT) test --skip-build --no-parallel

# The Python suites run the client, the Gymnasium bridge and the C example against the real
# learner and gateway (debug build from test-swift; MEOW_LEARNER_BIN overrides). Tests/system and
# the multi-host test train for a few hundred updates, which wants release binaries: they are
# (re)built here, all four products in one `swift build` (one planning pass instead of four), so a
# suite never runs stale ones (MEOW_BIN_DIR overrides). scripts/run-pytest.sh runs the files on
# two pytest-xdist workers (PYTEST_WORKERS overrides; 1 runs them in this process).
MEOW_LEARNER_BIN ?= $(CURDIR)/.build/debug/meow-learner
MEOW_BIN_DIR ?= $(CURDIR)/.build/release
test-python: lint-python
	@[ -x "$(MEOW_LEARNER_BIN)" ] || $(SWIFT) build --build-tests
	$(SWIFT) build -c release
	@MEOW_LEARNER_BIN="$(MEOW_LEARNER_BIN)" MEOW_BIN_DIR="$(MEOW_BIN_DIR)" scripts/run-pytest.sh

# The Python client is typed (py.typed): mypy --strict and ruff, configured in its pyproject.toml.
lint-python: deps
	cd protocol/python && $(CURDIR)/$(VENV)/bin/mypy && $(CURDIR)/$(VENV)/bin/ruff check meow_client

bench: build
	$(BIN)/meow-bench core
	$(BIN)/meow-bench meow
	$(BIN)/meow-bench wire
	$(BIN)/meow-bench protocol

clean:
	rm -rf .build
