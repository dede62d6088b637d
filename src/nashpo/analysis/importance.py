"""Edge importance with DeepCAVE's own evaluators (fANOVA and LPI), headless.

Inputs are DeepCAVE runs exported by ``nashpo to-deepcave`` (loaded with DeepCAVE's DataFrame
loader through ``nashpo.export.deepcave.load_export``).
The objective is the exported one (validation error in % at a budget = training epochs).

- Pooled, per dataset and budget: all successful trials of all runs of the dataset at that budget
  (any optimizer, protocol or seed) are combined into one in-memory ``DeepCAVERun`` (each source run
  keeps its own seed slot, so an architecture sampled by several runs counts once per run, as sampled);
  budgets with fewer than ``MIN_TRIALS`` trials are skipped.
- Per run: the same evaluators on each run at its highest budget with at least ``MIN_TRIALS`` trials.

Evaluators (fixed seed ``SEED``, ``N_TREES`` trees): ``deepcave.evaluators.fanova.fANOVA`` (importance =
fraction of the objective's variance explained by the edge alone; ``variance`` is across trees) and
``deepcave.evaluators.lpi.LPI`` (local parameter importance around the incumbent: share of the
predicted variance when changing only that edge; ``variance`` across trees).

Parallel coordinates: the data of DeepCAVE's parallel-coordinates plugin as a table: per dataset and
budget, one row per distinct architecture with its six edge operations and its mean objective over the
pooled trials (``n_evals`` = how many trials), plus each edge's fANOVA rank (the plugin's axis order).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from deepcave.evaluators.fanova import fANOVA
from deepcave.evaluators.lpi import LPI
from deepcave.runs import AbstractRun, Status
from deepcave.runs.converters.deepcave import DeepCAVERun

from nashpo.analysis.io import write_tables
from nashpo.errors import InputError
from nashpo.export.deepcave import load_export
from nashpo.space import EDGE_NAMES

N_TREES = 16
SEED = 0
MIN_TRIALS = 10
METHODS = ("fanova", "lpi")
META = ("dataset", "optimizer", "seed", "protocol")


def load_run(path: Path) -> AbstractRun:
    run = load_export(Path(path))
    missing = [k for k in META if k not in run.meta]
    if missing:
        raise InputError(
            "deepcave", str(path), f"run meta lacks {missing}; export the run's trial log with `nashpo to-deepcave --from trial-log`"
        )
    if set(run.configspace.keys()) != set(EDGE_NAMES):
        raise InputError("deepcave", str(path), f"configuration space is not the NB201 cell ({list(run.configspace.keys())})")
    return run


def successful_trials(run: AbstractRun, budget: float) -> list:
    return [t for t in run.history if t.budget == budget and t.status == Status.SUCCESS and t.costs[0] is not None]


def evaluate(run: AbstractRun, budget: float) -> list[dict]:
    """fANOVA and LPI importance of each edge for the run's first objective at ``budget``."""
    objective = run.get_objectives()[0]
    rows = []
    fanova = fANOVA(run)
    fanova.calculate(objective, budget, n_trees=N_TREES, seed=SEED)
    for edge, vals in fanova.get_importances(list(EDGE_NAMES), sort=False).items():
        rows.append({"method": "fanova", "edge": edge, "importance": float(vals[0]), "variance": float(vals[1])})
    lpi = LPI(run)
    lpi.calculate(objective, budget, n_trees=N_TREES, seed=SEED)
    for edge, vals in lpi.get_importances(list(EDGE_NAMES)).items():
        rows.append({"method": "lpi", "edge": edge, "importance": float(vals[0]), "variance": float(vals[1])})
    return rows


def combined_run(name: str, runs: list[AbstractRun], budget: float) -> tuple[DeepCAVERun, int]:
    """One in-memory DeepCAVE run with every successful trial of ``runs`` at ``budget``."""
    first = runs[0]
    out = DeepCAVERun(name, configspace=first.configspace, objectives=first.get_objectives(), meta={"combined": len(runs)})
    n = 0
    for slot, run in enumerate(runs):
        for t in successful_trials(run, budget):
            out.add(costs=list(t.costs), config=run.get_config(t.config_id), seed=slot, budget=budget, status=Status.SUCCESS)
            n += 1
    return out, n


def best_budget(run: AbstractRun) -> float | None:
    """Highest budget with at least MIN_TRIALS successful trials."""
    ok = [b for b in run.get_budgets(include_combined=False) if len(successful_trials(run, b)) >= MIN_TRIALS]
    return max(ok) if ok else None


def parallel_coordinates(run: AbstractRun, budget: float) -> pd.DataFrame:
    """Distinct architectures at ``budget`` with their mean objective (DeepCAVE plugin's data)."""
    objective = run.get_objectives()[0].name
    rows = []
    for t in successful_trials(run, budget):
        cfg = run.get_config(t.config_id)
        rows.append({e: cfg[e] for e in EDGE_NAMES} | {objective: float(t.costs[0])})
    frame = pd.DataFrame(rows)
    return frame.groupby(list(EDGE_NAMES), as_index=False).agg(**{objective: (objective, "mean"), "n_evals": (objective, "size")})


def importance_tables(deepcave_dirs: list[Path], log: TextIO = sys.stderr) -> dict[str, pd.DataFrame]:
    if not deepcave_dirs:
        raise InputError("deepcave", [], "no DeepCAVE run folders given")
    runs = []
    per_run: list[dict] = []
    for i, path in enumerate(deepcave_dirs, 1):
        run = load_run(Path(path))
        runs.append(run)
        meta = {k: run.meta[k] for k in META}
        budget = best_budget(run)
        if budget is None:
            print(f"importance: {path}: fewer than {MIN_TRIALS} trials at every budget, skipped per run", file=log)
        else:
            n = len(successful_trials(run, budget))
            per_run += [meta | {"budget": budget, "n_trials": n} | r for r in evaluate(run, budget)]
        print(f"importance: run {i}/{len(deepcave_dirs)} {path}", file=log)
    pooled: list[dict] = []
    coords: list[pd.DataFrame] = []
    by_dataset: dict[str, list[AbstractRun]] = {}
    for run in runs:
        by_dataset.setdefault(run.meta["dataset"], []).append(run)
    for dataset, group in sorted(by_dataset.items()):
        budgets = sorted({b for r in group for b in r.get_budgets(include_combined=False)})
        for budget in budgets:
            combined, n = combined_run(f"{dataset}@{budget:g}", group, budget)
            if n < MIN_TRIALS:
                print(f"importance: {dataset} at {budget:g} epochs: {n} trials < {MIN_TRIALS}, skipped", file=log)
                continue
            used = [r for r in group if successful_trials(r, budget)]
            ident = {
                "dataset": dataset,
                "budget": budget,
                "n_trials": n,
                "n_runs": len(used),
                "optimizers": ",".join(sorted({str(r.meta["optimizer"]) for r in used})),
                "protocols": ",".join(sorted({str(r.meta["protocol"]) for r in used})),
            }
            rows = evaluate(combined, budget)
            fan = {r["edge"]: r["importance"] for r in rows if r["method"] == "fanova"}
            order = {e: k for k, e in enumerate(sorted(fan, key=lambda e: -np.nan_to_num(fan[e], nan=-1.0)), 1)}
            pooled += [ident | r for r in rows]
            pc = parallel_coordinates(combined, budget)
            coords.append(pc.assign(dataset=dataset, budget=budget, **{f"rank_{e}": order[e] for e in EDGE_NAMES}))
            print(f"importance: {dataset} at {budget:g} epochs: {n} trials from {ident['n_runs']} runs", file=log)
    importance = pd.DataFrame(pooled)
    if not importance.empty:
        importance["rank"] = importance.groupby(["dataset", "budget", "method"])["importance"].rank(ascending=False, method="min")
    pc_all = pd.concat(coords, ignore_index=True) if coords else pd.DataFrame(columns=["dataset", "budget", *EDGE_NAMES])
    first = ["dataset", "budget"]
    pc_all = pc_all[first + [c for c in pc_all.columns if c not in first]]
    return {"importance": importance, "importance_per_run": pd.DataFrame(per_run), "parallel_coordinates": pc_all}


def importance(deepcave_dirs: list[Path], out_dir: Path, log: TextIO = sys.stderr) -> list[Path]:
    written = write_tables(Path(out_dir), importance_tables(deepcave_dirs, log))
    print(f"importance: wrote {len(written)} files to {out_dir}", file=log)
    return written
