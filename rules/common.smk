import json
import os
import sys
from pathlib import Path

from snakemake.utils import validate


# The default profile (profiles/default) passes --configfile config.yaml; another --configfile replaces it.
if not config:
    raise ValueError("no config: run with --configfile config.yaml (the default profile does this)")
validate(config, "../schemas/config.schema.yaml")

NASHPO = f"PYTHONHASHSEED=0 {sys.executable} -m nashpo"
SRC = Path(os.path.relpath(Path(workflow.basedir) / "src" / "nashpo"))  # relative: a moved checkout keeps its state
RESULTS = config["results_dir"]
DATA_DIR = config.get("data_dir") or f"{RESULTS}/data"
SEEDS = list(range(config["seeds"]["start"], config["seeds"]["start"] + config["seeds"]["count"]))
OPTIMIZERS = list(config["optimizers"])
DATASETS = list(config["datasets"])
PAPER_FIGURES = ["anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance"]

for _d in DATASETS:
    if _d not in config["budget"]:
        raise ValueError(f"config: budget.{_d} is missing (every dataset needs a budget)")


wildcard_constraints:
    dataset="|".join(DATASETS),
    optimizer="|".join(OPTIMIZERS),
    seed=r"\d+",


def adapter_file(optimizer):
    """The optimizer's adapter source in this checkout: editing it reruns only its searches."""
    from nashpo.optimizers import adapter_source

    return str(SRC / "optimizers" / adapter_source(optimizer).name)


def hyperparameters(optimizer):
    return json.dumps(config["optimizers"][optimizer] or {}, sort_keys=True)


def budget_args(dataset):
    b = config["budget"][dataset]
    args = []
    if "max_sim_seconds" in b:
        args.append(f"--max-sim-seconds {b['max_sim_seconds']}")
    if "max_evals" in b:
        args.append(f"--max-evals {b['max_evals']}")
    return " ".join(args)


def run_dirs():
    return expand(f"{RESULTS}/runs/{{dataset}}/{{optimizer}}/{{seed}}", dataset=DATASETS, optimizer=OPTIMIZERS, seed=SEEDS)


def deepcave_dirs(seeds=None):
    return expand(f"{RESULTS}/deepcave/{{dataset}}/{{optimizer}}/{{seed}}", dataset=DATASETS, optimizer=OPTIMIZERS, seed=seeds or SEEDS)


def paper_figure_files():
    return expand(f"{RESULTS}/figures/{{stem}}.{{ext}}", stem=PAPER_FIGURES, ext=["png", "pdf"])
