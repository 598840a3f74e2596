# mixdown: two commands for a new machine.
#   make demo   installs everything and renders the bundled demo song
#   make test   installs the test extras and runs the test suite
#   make bench  runs the benchmarks and writes benchmarks/results/latest.json

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_OUT := examples/demo/renders/demo.wav
VENDOR   := src/mixdown/server/static/vendor
WEBBUILD := build/web

.PHONY: demo test bench lint system install install-test warmup clean vendor

system:
	@bash scripts/install-system.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# tinysoundfont (the SoundFont synth) declares pyaudio, which has no Linux wheel and is not
# needed to render: install it alone, without its dependencies.
TINYSOUNDFONT := tinysoundfont==0.3.7

$(VENV)/.installed-tinysoundfont: $(BIN)/python Makefile
	$(BIN)/pip install -q --no-deps $(TINYSOUNDFONT)
	@touch $@

# basic-pitch (`mixdown transcribe`) declares tensorflow on Linux; mixdown runs its ONNX model
# with onnxruntime, so it is installed without dependencies (they are in requirements.lock).
BASIC_PITCH := basic-pitch==0.4.0

$(VENV)/.installed-basic-pitch: $(BIN)/python
	$(BIN)/pip install -q --no-deps $(BASIC_PITCH)
	@touch $@

# The editable install's bytecode is compiled here, as pip does for every other package:
# where PYTHONDONTWRITEBYTECODE is set, each command would otherwise compile mixdown's
# modules from source again (0.15 s of every CLI command's start-up).
$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml $(VENV)/.installed-tinysoundfont \
		$(VENV)/.installed-basic-pitch $(VENDOR)/.installed | system
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/python -m compileall -q src/mixdown
	$(BIN)/python -m mixdown.warmup
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/pip install -q -r requirements-test.lock
	@touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test requirements-bench.lock
	$(BIN)/pip install -q -r requirements-bench.lock
	@touch $@

install: $(VENV)/.installed

# The web studio's front-end libraries (htmx, wavesurfer.js), pinned in package-lock.json,
# installed from the npm registry into build/web and copied into the package (not in git).
$(VENDOR)/.installed: package.json package-lock.json | system
	@mkdir -p $(WEBBUILD) $(VENDOR)
	cp package.json package-lock.json $(WEBBUILD)/
	cd $(WEBBUILD) && npm ci --no-audit --no-fund --ignore-scripts --silent
	cp $(WEBBUILD)/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp $(WEBBUILD)/node_modules/wavesurfer.js/dist/wavesurfer.min.js $(VENDOR)/wavesurfer.min.js
	cp $(WEBBUILD)/node_modules/wavesurfer.js/dist/plugins/regions.min.js $(VENDOR)/wavesurfer.regions.min.js
	cp $(WEBBUILD)/node_modules/wavesurfer.js/dist/plugins/timeline.min.js $(VENDOR)/wavesurfer.timeline.min.js
	@touch $@

vendor: $(VENDOR)/.installed

# Compile every numba kernel into its on-disk cache (install does it once; run it again
# after editing a kernel, or with NUMBA_CACHE_DIR set to warm that cache instead).
warmup: $(VENV)/.installed
	$(BIN)/python -m compileall -q src/mixdown
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
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(WEBBUILD) $(VENDOR) test-artifacts
