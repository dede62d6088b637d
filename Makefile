# Two commands do all setup: `make run` (the default study) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 8

.PHONY: run test lint data bench paper paper-table workers deepcave clean-venv peer-venv peer-bench

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

# syne-tune 0.16 (the peer of docs/parallel.md) in a venv of its own: its pins would move the lock's.
PEER_VENV := .venv-peer
PEER_STAMP := $(PEER_VENV)/.installed
$(PEER_STAMP): envs/peer-syne-tune.txt
	[ -x "$(PEER_VENV)/bin/python" ] || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install -q --upgrade "pip>=24"
	$(PEER_VENV)/bin/pip install -q -r envs/peer-syne-tune.txt
	$(PEER_VENV)/bin/pip check
	touch $@

peer-venv: $(PEER_STAMP)

# nashpo (.venv) beside syne-tune's simulator backend (.venv-peer); SEEDS=20 by default.
SEEDS ?= 20
peer-bench: $(STAMP) $(PEER_STAMP)
	$(BIN)/python benchmarks/peer_syne_tune.py --seeds $(SEEDS) --peer-python $(PEER_VENV)/bin/python

clean-venv:
	rm -rf $(VENV) $(PEER_VENV)
