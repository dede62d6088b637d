"""Edge importance with DeepCAVE's own evaluators (fANOVA and LPI), headless.

For each exported DeepCAVE run (one search), fANOVA and LPI are computed on the objective at the
run's highest budget; per dataset the importances are averaged over runs. Parallel-coordinates
data is the tidy table of (edge ops, objective) of every trial at the highest budget.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from deepcave.evaluators.fanova import fANOVA
from deepcave.evaluators.lpi import LPI
from deepcave.runs.converters.deepcave import DeepCAVERun

from nashpo.analysis.io import write_table
from nashpo.space import EDGE_NAMES

N_TREES = 16
SEED = 0


def run_importance(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    run = DeepCAVERun.from_path(Path(path))
    objective = run.get_objectives()[0]
    budget = run.get_highest_budget()
    meta = {
        "dataset": run.meta.get("dataset"),
        "optimizer": run.meta.get("optimizer"),
        "seed": run.meta.get("seed"),
        "protocol": run.meta.get("protocol"),
        "budget": budget,
    }
    rows = []
    for name, cls in (("fanova", fANOVA), ("lpi", LPI)):
        ev = cls(run)
        ev.calculate(objective, budget, n_trees=N_TREES, seed=SEED) if name == "fanova" else ev.calculate(objective, budget, seed=SEED)
        imp = ev.get_importances(list(EDGE_NAMES)) if name == "lpi" else ev.get_importances(list(EDGE_NAMES), sort=False)
        for hp, vals in imp.items():
            rows.append(
                meta
                | {"method": name, "edge": hp if isinstance(hp, str) else hp[0], "importance": float(vals[0]), "variance": float(vals[1])}
            )
    trials = []
    for t in run.history:
        if t.budget == budget and t.costs[0] is not None:
            cfg = run.get_config(t.config_id)
            trials.append(meta | {e: cfg[e] for e in EDGE_NAMES} | {objective.name: t.costs[0]})
    return pd.DataFrame(rows), pd.DataFrame(trials)


def importance(deepcave_dirs: list[Path], out_dir: Path, log=sys.stderr) -> None:
    imps, coords = [], []
    for i, path in enumerate(deepcave_dirs, 1):
        imp, coord = run_importance(path)
        imps.append(imp)
        coords.append(coord)
        print(f"importance: {i}/{len(deepcave_dirs)} {path}", file=log)
    per_run = pd.concat(imps, ignore_index=True)
    write_table(per_run, out_dir, "importance_per_run")
    summary = per_run.groupby(["dataset", "method", "edge"])["importance"].agg(["mean", "std", "count"]).reset_index()
    write_table(summary, out_dir, "importance")
    write_table(pd.concat(coords, ignore_index=True), out_dir, "parallel_coordinates")
