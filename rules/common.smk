import json
import os
import re
import shlex
import sys
from pathlib import Path

from snakemake.utils import validate


# The default profile (profiles/default) passes --configfile config.yaml; another --configfile replaces it.
if not config:
    raise ValueError("no config: run with --configfile config.yaml (the default profile does this)")
validate(config, "../schemas/config.schema.yaml")

# Every value from the config reaches a shell quoted ({x:q}) or as JSON in a quoted argument.
NASHPO = f"PYTHONHASHSEED=0 {shlex.quote(sys.executable)} -m nashpo"
SRC = Path(os.path.relpath(Path(workflow.basedir) / "src" / "nashpo"))  # relative: a moved checkout keeps its state
RESULTS = config["results_dir"]
DATA_DIR = config.get("data_dir") or f"{RESULTS}/data"
SEEDS = list(range(config["seeds"]["start"], config["seeds"]["start"] + config["seeds"]["count"]))
OPTIMIZERS = list(config["optimizers"])
DATASETS = list(config["datasets"])
PAPER_FIGURES = ["anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance"]

ALLOW_MISSING = bool(config.get("allow_missing_runs", False))


def check_config():
    """Checks the schema cannot express, with the package's own validators: a bad value stops
    `snakemake -n` with one line naming the field, before any job runs."""
    from nashpo.errors import InputError
    from nashpo.optimizers import get_optimizer_class
    from nashpo.runner import MAX_SEED, Budget

    for d in DATASETS:
        if d not in config["budget"]:
            sys.exit(f"config: budget.{d} is missing (every dataset needs a budget)")
    try:
        for d in DATASETS:
            try:
                Budget(**config["budget"][d])
            except InputError as exc:
                raise InputError(f"budget.{d}.{exc.field}", exc.value, exc.problem) from None
        if SEEDS[-1] > MAX_SEED:
            raise InputError("seeds", config["seeds"], f"the last seed {SEEDS[-1]} exceeds {MAX_SEED} (seeds are 32-bit)")
        for name, hp in config["optimizers"].items():
            try:
                get_optimizer_class(name).check_hyperparameters(hp or {})
            except InputError as exc:
                raise InputError(f"optimizers.{exc.field}", exc.value, exc.problem) from None
    except InputError as exc:
        sys.exit(f"config: {exc}")


check_config()


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


def finished(run):
    return os.path.isfile(os.path.join(run, "run.json"))


def analysed_runs():
    """All runs; with allow_missing_runs only those that finished (run.json written)."""
    runs = run_dirs()
    if not ALLOW_MISSING:
        return runs
    done = [r for r in runs if finished(r)]
    if not done:
        sys.exit("config: allow_missing_runs=True: no run has finished yet; run the study first (snakemake --keep-going)")
    return done


def missing_runs():
    return [r for r in run_dirs() if not finished(r)] if ALLOW_MISSING else []


def deepcave_dirs(seeds=None):
    dirs = expand(f"{RESULTS}/deepcave/{{dataset}}/{{optimizer}}/{{seed}}", dataset=DATASETS, optimizer=OPTIMIZERS, seed=seeds or SEEDS)
    if not ALLOW_MISSING:
        return dirs
    return [d for d in dirs if finished(d.replace(f"{RESULTS}/deepcave/", f"{RESULTS}/runs/", 1))]


FAILED_JOB = re.compile(r"^Error in r\w+ (\S+):$")  # Snakemake's header of a failed job


def failed_jobs(logfiles):
    """(rule, wildcards, log) of every failed job in Snakemake's own log of this invocation."""
    failed = []
    for logfile in logfiles or []:
        try:
            lines = Path(logfile).read_text(errors="replace").splitlines()
        except OSError:
            continue
        job = None
        for line in lines:
            m = FAILED_JOB.match(line)
            if m:
                job = {"rule": m[1], "output": "", "log": ""}
                failed.append(job)
            elif job is not None and line.startswith("    "):
                key, _, value = line.strip().partition(": ")
                if key in ("output", "log"):
                    job[key] = value.replace(" (check log file(s) for error details)", "")
            elif job is not None and line.strip():
                job = None
    return failed


def last_line(path):
    try:
        lines = [l for l in Path(path).read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def print_failure_summary(logfiles):
    jobs = failed_jobs(logfiles)
    if not jobs:
        return
    print(f"nashpo: {len(jobs)} job(s) failed:", file=sys.stderr)
    for job in jobs:
        where = f" -> {job['output']}" if job["output"] else ""
        reason = f": {last_line(job['log'])}" if job["log"] else ""
        print(f"  FAILED {job['rule']}{where}: log {job['log'] or '-'}{reason}", file=sys.stderr)
    print(
        "nashpo: to analyse the runs that finished, rerun with --config allow_missing_runs=True (see docs/hardening.md)",
        file=sys.stderr,
    )



def paper_figure_files():
    return expand(f"{RESULTS}/figures/{{stem}}.{{ext}}", stem=PAPER_FIGURES, ext=["png", "pdf"])
