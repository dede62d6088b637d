"""NB201 single-objective analysis: regret trajectories on common grids, bootstrap bands, final regret.

The runs are loaded and their regret computed by ``nashpo.analysis.runs`` (the oracle is the run
record's ``oracle`` block: best 200-epoch validation and test accuracy of all 15,625 architectures), the
curves come from ``nashpo.analysis.curves`` (one grid per dataset on the time and evaluation axes, shared
by both protocols; bands per protocol x dataset x optimizer). This module picks NB201's columns.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

from nashpo.analysis.curves import AXES, bands, bootstrap_bands, group_rng, on_grid, resample_indices
from nashpo.analysis.io import MISSING_RUNS, missing_runs_table, write_tables
from nashpo.analysis.runs import NB201, load_runs, nb201_oracles

RUN_KEY = ["protocol", "dataset", "optimizer", "seed"]
GROUP = ["protocol", "dataset", "optimizer"]
METRICS = ("test_regret", "valid_regret")
# Settings that must agree between the seeds of one protocol x dataset x optimizer.
SETTINGS = ("hyperparameters", "noise", "budget", "fidelities")
FINAL_COLUMNS = [
    *RUN_KEY,
    "n_trials",
    "sim_time",
    "inc_trial",
    "inc_arch_code",
    "inc_arch_str",
    "valid_acc_200",
    "test_acc_200",
    *SETTINGS,
    "run_dir",
    "valid_regret",
    "test_regret",
]


def load_nb201(run_dirs: Sequence[Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per-run finals, per-run regret on both grids, oracle per dataset) of NB201 single-objective runs."""
    refusal = "is not an NB201 single-objective run (see `analysis family` / `analysis mo`)"
    runs = load_runs(run_dirs, ["protocol", "task", "optimizer", "seed"], SETTINGS, kinds=[NB201], refusal=refusal)
    by = ["protocol", "task", "optimizer", "seed"]
    finals = runs.finals.sort_values(by, ignore_index=True)
    parts = [on_grid(finals, runs.trajectories, axis, METRICS) for axis in AXES]
    per_run = pd.concat(parts, ignore_index=True).sort_values(by, kind="stable", ignore_index=True)
    rename = {"task": "dataset"}
    per_run = per_run.rename(columns=rename)[[*RUN_KEY, "axis", "x", "ended", "valid_regret", "test_regret"]]
    return finals.rename(columns=rename)[FINAL_COLUMNS], per_run, nb201_oracles(runs)


def curves(per_run: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Tidy bands per protocol x dataset x optimizer x metric x grid point on one axis."""
    return bands(per_run[per_run["axis"] == axis], GROUP, METRICS, axis)


def summarise_finals(finals: pd.DataFrame, oracle: pd.DataFrame) -> pd.DataFrame:
    """Final regret per protocol x dataset x optimizer: mean/median with bootstrap bands, std."""
    rows = []
    for key, g in finals.groupby(GROUP, sort=True):
        idx = resample_indices(len(g), group_rng(key))
        row = dict(zip(GROUP, key, strict=True)) | {"n_seeds": int(g["seed"].nunique())}
        for m in METRICS:
            bands = bootstrap_bands(g[[m]].to_numpy(), idx)
            row |= {f"{m}_{k}": float(v[0]) for k, v in bands.items() if k != "n_seeds"}
            row[f"{m}_std"] = float(g[m].std(ddof=1)) if len(g) > 1 else 0.0
        row |= {
            "test_acc_mean": float(g["test_acc_200"].mean()),
            "valid_acc_mean": float(g["valid_acc_200"].mean()),
            "n_trials_mean": float(g["n_trials"].mean()),
            "sim_time_mean": float(g["sim_time"].mean()),
        }
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.merge(oracle[["dataset", "oracle_valid_acc", "oracle_test_acc"]], on="dataset", how="left")


def summarise_overall(summary: pd.DataFrame) -> pd.DataFrame:
    """Per protocol x optimizer across datasets: mean of the per-dataset mean final regrets, and the
    average rank (1 = lowest mean final test regret on a dataset, ties share the average rank)."""
    s = summary.copy()
    s["rank"] = s.groupby(["protocol", "dataset"])["test_regret_mean"].rank(method="average")
    return (
        s.groupby(["protocol", "optimizer"], sort=True)
        .agg(
            n_datasets=("dataset", "nunique"),
            n_runs=("n_seeds", "sum"),
            test_regret_mean=("test_regret_mean", "mean"),
            valid_regret_mean=("valid_regret_mean", "mean"),
            test_regret_rank_mean=("rank", "mean"),
        )
        .reset_index()
    )


def aggregate_tables(run_dirs: list[Path], data_dir: Path | None = None, log: TextIO = sys.stderr) -> dict[str, pd.DataFrame]:
    """``data_dir`` is not read (the oracle comes from the run records); kept for the callers."""
    finals, per_run, oracle = load_nb201(run_dirs)
    n_groups = finals.groupby(GROUP).ngroups
    n_trials = int(finals["n_trials"].sum())
    print(f"aggregate: {len(finals)} runs ({n_groups} protocol x dataset x optimizer groups), {n_trials} trials", file=log)
    print("aggregate: bootstrap bands on the time and evaluation grids", file=log)
    summary = summarise_finals(finals, oracle)
    return {
        "per_run_final": finals,
        "per_run_trajectories": per_run,
        "curves_time": curves(per_run, "sim_time"),
        "curves_evals": curves(per_run, "evals"),
        "summary": summary,
        "summary_overall": summarise_overall(summary),
        "oracle": oracle,
    }


def aggregate(
    run_dirs: list[Path], out_dir: Path, data_dir: Path | None = None, log: TextIO = sys.stderr, missing: Sequence[str | Path] = ()
) -> list[Path]:
    """``missing``: runs of the study that did not finish; listed in ``missing_runs`` and downstream."""
    tables = aggregate_tables(run_dirs, data_dir, log)
    tables[MISSING_RUNS] = missing_runs_table(missing)
    if missing:
        print(f"aggregate: {len(missing)} missing run(s) listed in {MISSING_RUNS}.csv", file=log)
    written = write_tables(Path(out_dir), tables)
    print(f"aggregate: wrote {len(written)} files to {out_dir}", file=log)
    return written
