import json
import os
import shlex
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
    chunk=r"\d+-\d+",


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
        args.append(f"--max-sim-seconds {shlex.quote(str(b['max_sim_seconds']))}")
    if "max_evals" in b:
        args.append(f"--max-evals {shlex.quote(str(b['max_evals']))}")
    return " ".join(args)


# Seeds in chunks: one search job (and one export job) per chunk of seeds (see src/nashpo/batch.py).
SEEDS_PER_JOB = config.get("seeds_per_job", 10)


def optimizer_seeds(optimizer):
    """The study's seeds, or the first `seeds_by_optimizer[optimizer]` of them."""
    n = (config.get("seeds_by_optimizer") or {}).get(optimizer)
    return SEEDS[:n] if n else SEEDS


def seed_chunks(optimizer):
    from nashpo.batch import chunks

    return chunks(optimizer_seeds(optimizer), SEEDS_PER_JOB)


def chunk_seeds(optimizer, chunk):
    found = seed_chunks(optimizer).get(chunk)
    if found is None:
        raise ValueError(f"config: seeds {chunk} are not a chunk of {optimizer} in this study")
    return ",".join(map(str, found))


def search_manifests(datasets=None):
    return [f"{RESULTS}/runs/{d}/{o}/seeds_{c}.json" for d in datasets or DATASETS for o in OPTIMIZERS for c in seed_chunks(o)]


def export_manifests(seeds=None):
    """DeepCAVE export manifests of the chunks holding `seeds` (default: all)."""
    wanted = set(seeds if seeds is not None else SEEDS)
    return [
        f"{RESULTS}/deepcave/{d}/{o}/seeds_{c}.json"
        for d in DATASETS
        for o in OPTIMIZERS
        for c, members in seed_chunks(o).items()
        if wanted & set(members)
    ]


def run_dirs():
    """Per-seed run folders (written by the search chunks; not rule outputs themselves)."""
    return [f"{RESULTS}/runs/{d}/{o}/{s}" for d in DATASETS for o in OPTIMIZERS for s in optimizer_seeds(o)]


def deepcave_dirs(seeds=None):
    """Per-seed DeepCAVE runs (written by the export chunks)."""
    wanted = set(seeds if seeds is not None else SEEDS)
    return [f"{RESULTS}/deepcave/{d}/{o}/{s}" for d in DATASETS for o in OPTIMIZERS for s in optimizer_seeds(o) if s in wanted]


def paper_figure_files():
    return expand(f"{RESULTS}/figures/{{stem}}.{{ext}}", stem=PAPER_FIGURES, ext=["png", "pdf"])


NB201_TABLE = f"{RESULTS}/nb201_table"


def nb201_table_files():
    """The NB201 Table 5 comparison when the study searches cifar10 with the paper's proxy protocol."""
    if "cifar10" not in DATASETS or config["protocol"] != "proxy":
        return []
    return [f"{NB201_TABLE}/nb201_table.{ext}" for ext in ("csv", "md", "tex", "rst")]
