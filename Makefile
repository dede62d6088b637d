# Two commands do all setup: `make run` (the default study) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 8

.PHONY: run test lint data bench paper paper-table workers deepcave clean-venv

$(STAMP): envs/requirements.lock pyproject.toml envs/install.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash envs/install.sh
	touch $@

data: $(STAMP)
	$(BIN)/nashpo data prepare
	$(BIN)/nashpo oracle

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

paper: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config/paper.yaml

paper-table: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) nb201_table --configfile config/paper.yaml

workers: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config/workers.yaml

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks $(wildcard workflow_scripts/*.py)
	$(BIN)/ruff format --check src tests benchmarks $(wildcard workflow_scripts/*.py)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks $(wildcard workflow_scripts/*.py)
	$(BIN)/python -m pytest -q

# DeepCAVE's dashboard on a study's exports (STUDY=results by default); Ctrl-C stops it.
STUDY ?= results
deepcave: $(STAMP)
	$(BIN)/nashpo deepcave "$(STUDY)"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_benchmark.py

clean-venv:
	rm -rf $(VENV)
