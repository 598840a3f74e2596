# mixdown: two commands for a new machine.
#   make demo   installs everything and renders the bundled demo song
#   make test   installs the test extras and runs the test suite
#   make bench  runs the benchmarks and writes benchmarks/results/latest.json

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_OUT := examples/demo/renders/demo.wav

.PHONY: demo test bench lint system install install-test warmup clean

system:
	@bash scripts/install-system.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# basic-pitch (`mixdown transcribe`) declares tensorflow on Linux; mixdown runs its ONNX model
# with onnxruntime, so it is installed without dependencies (they are in requirements.lock).
BASIC_PITCH := basic-pitch==0.4.0

$(VENV)/.installed-basic-pitch: $(BIN)/python
	$(BIN)/pip install -q --no-deps $(BASIC_PITCH)
	@touch $@

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml $(VENV)/.installed-basic-pitch | system
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/python -m mixdown.warmup
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/pip install -q -r requirements-test.lock
	@touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test requirements-bench.lock
	$(BIN)/pip install -q -r requirements-bench.lock
	@touch $@

install: $(VENV)/.installed

# Compile every numba kernel into its on-disk cache (install does it once; run it again
# after editing a kernel, or with NUMBA_CACHE_DIR set to warm that cache instead).
warmup: $(VENV)/.installed
	$(BIN)/python -m mixdown.warmup

install-test: $(VENV)/.installed-test

demo: install
	@mkdir -p examples/demo/renders
	$(BIN)/mixdown render examples/demo -o $(DEMO_OUT) --stems
	@echo "demo rendered: $(DEMO_OUT) (stems in examples/demo/renders/demo.stems/, QC in $(DEMO_OUT).qc.json)"

test: install-test
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: install-test
	$(BIN)/ruff check src tests benchmarks

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
