"""Incumbent trajectories on common grids, regret against the oracle, bootstrap bands over seeds.

Regret, in percentage points, is the oracle's accuracy minus the incumbent's accuracy. The oracle is
computed from the benchmark table (``NB201Benchmark.oracle()`` at 200 epochs): the best 200-epoch
validation accuracy of all 15,625 architectures (validation regret) and the best 200-epoch test
accuracy (test regret). The incumbent's values are the trial log's ``inc_valid_acc_200`` and
``inc_test_acc_200``.

Trajectories are step functions: the value at grid point t is the incumbent after the last trial that
finished at or before t (simulated seconds, ``sim_time``) or after the t-th evaluation; NaN before the
run's first trial. Grids are shared by all runs of a dataset:

- time: ``N_GRID`` log-spaced points from the earliest first-trial finish to the latest run end;
- evaluations: up to ``N_GRID`` log-spaced integers from 1 to the largest number of trials.

A run's end on the time axis is its time budget (``max_sim_seconds``) when the time limit stopped
it: its last incumbent holds until then, and the trial that would have crossed the budget was never
run. Otherwise (``max_evals`` stopped it) the end is the last trial's finish. On the evaluation axis
the end is the number of trials. Past its end a run has no value (NaN): runs are never extended
beyond their budget, and curves end at the budget.

Bands: for each protocol x dataset x optimizer the seeds are resampled with replacement (``N_BOOT``
percentile bootstrap, whole trajectories as units, ``numpy.random.default_rng`` seeded from
``BOOT_SEED`` and the group name) and the 2.5/97.5 percentiles of the resampled mean and median form
the 95% bands. A grid point where some seed has no value (no trial yet, or already ended) has no
statistics (NaN): a curve starts once every seed has an incumbent and stops at its shortest seed's end.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from nashpo.analysis.io import MISSING_RUNS, missing_runs_table, write_tables
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.tables import FULL_EPOCHS
from nashpo.errors import InputError
from nashpo.space import arch_str
from nashpo.triallog import read_record, read_trials

RUN_KEY = ["protocol", "dataset", "optimizer", "seed"]
GROUP = ["protocol", "dataset", "optimizer"]
METRICS = ("test_regret", "valid_regret")
AXES = ("sim_time", "evals")
N_GRID = 100
N_BOOT = 1000
BOOT_SEED = 0
CI_LEVEL = 0.95
REGRET_DECIMALS = 6
TRAJECTORY_COLUMNS = ("trial", "sim_time", "inc_arch_code", "inc_valid_acc_200", "inc_test_acc_200")
# Settings that must agree between the seeds of one protocol x dataset x optimizer.
SETTINGS = ("hyperparameters", "noise", "budget", "fidelities")


# ------------------------------------------------------------------ loading


def setting(value: object) -> str:
    """A run setting as one comparable string (JSON for dicts and lists)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def load_run(run: Path) -> tuple[dict, pd.DataFrame]:
    """(final row, trajectory) of one run folder; identity from run.json, never from the path."""
    rec = read_record(run)
    trials = read_trials(run, TRAJECTORY_COLUMNS).sort_values("trial", kind="stable").reset_index(drop=True)
    ident = {k: rec[k] for k in RUN_KEY}
    budget = rec.get("budget") or {}
    limit, max_evals = budget.get("max_sim_seconds"), budget.get("max_evals")
    time_limited = limit is not None and (max_evals is None or len(trials) < max_evals)
    end_time = float(limit) if time_limited else (float(trials["sim_time"].iloc[-1]) if len(trials) else 0.0)
    traj = pd.DataFrame(
        {
            **{k: [v] * len(trials) for k, v in ident.items()},
            "trial": trials["trial"].to_numpy(),
            "evals": np.arange(1, len(trials) + 1),
            "sim_time": trials["sim_time"].to_numpy(float),
            "end_time": end_time,
            "inc_arch_code": trials["inc_arch_code"].to_numpy(),
            "inc_valid_acc_200": trials["inc_valid_acc_200"].to_numpy(float),
            "inc_test_acc_200": trials["inc_test_acc_200"].to_numpy(float),
        }
    )
    if trials.empty:
        raise InputError("runs", str(run), "the trial log has no trials")
    last = trials.iloc[-1]
    final = {
        **ident,
        "n_trials": len(trials),
        "sim_time": float(last["sim_time"]),
        "inc_trial": int(last["inc_trial"]),
        "inc_arch_code": int(last["inc_arch_code"]),
        "inc_arch_str": arch_str(int(last["inc_arch_code"])),
        "valid_acc_200": float(last["inc_valid_acc_200"]),
        "test_acc_200": float(last["inc_test_acc_200"]),
        **{s: setting(rec.get(s)) for s in SETTINGS},
        "run_dir": str(run),
    }
    return final, traj


def load_runs(run_dirs: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per run, all trajectories); refuses duplicate runs and mixed settings within a group."""
    loaded = [load_run(Path(r)) for r in run_dirs]
    finals = pd.DataFrame([f for f, _ in loaded])
    dup = finals[finals.duplicated(RUN_KEY, keep=False)]
    if not dup.empty:
        raise InputError("runs", sorted(dup["run_dir"]), "are the same run (protocol, dataset, optimizer, seed) given twice")
    for key, g in finals.groupby(GROUP):
        for s in SETTINGS:
            if g[s].nunique() > 1:
                raise InputError("runs", sorted(g["run_dir"]), f"mix different {s} for {'/'.join(map(str, key))}: {sorted(g[s].unique())}")
    traj = pd.concat([t for _, t in loaded], ignore_index=True)
    return finals.sort_values(RUN_KEY, ignore_index=True), traj


def oracle_table(datasets: list[str], data_dir: Path | None = None) -> pd.DataFrame:
    """Best 200-epoch validation and test accuracy per dataset, from the benchmark table."""
    rows = []
    for d in datasets:
        o = NB201Benchmark(d, data_dir).oracle().set_index("epochs").loc[FULL_EPOCHS]
        rows.append(
            {
                "dataset": d,
                "epochs": FULL_EPOCHS,
                "oracle_valid_acc": float(o["best_valid_acc"]),
                "oracle_valid_arch": o["best_valid_arch"],
                "oracle_test_acc": float(o["best_test_acc"]),
                "test_acc_of_best_valid": float(o["test_acc_of_best_valid"]),
            }
        )
    return pd.DataFrame(rows)


def add_regret(frame: pd.DataFrame, oracle: pd.DataFrame, valid_col: str, test_col: str) -> pd.DataFrame:
    """valid_regret / test_regret in percentage points: oracle accuracy - incumbent accuracy.

    Rounded to REGRET_DECIMALS so that float32 storage noise of equal accuracies gives equal regrets.
    """
    o = oracle.set_index("dataset")
    out = frame.copy()
    out["valid_regret"] = (out["dataset"].map(o["oracle_valid_acc"]) - out[valid_col]).round(REGRET_DECIMALS)
    out["test_regret"] = (out["dataset"].map(o["oracle_test_acc"]) - out[test_col]).round(REGRET_DECIMALS)
    return out


# ------------------------------------------------------------------ grids


def step_values(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Step function through (x[i], y[i]) (x ascending) at each grid point; NaN before x[0]."""
    idx = np.searchsorted(np.asarray(x, float), np.asarray(grid, float), side="right") - 1
    y = np.asarray(y, float)
    return np.where(idx >= 0, y[np.clip(idx, 0, None)], np.nan) if len(y) else np.full(len(grid), np.nan)


def time_grid(first_times: np.ndarray, end_times: np.ndarray, n: int = N_GRID) -> np.ndarray:
    """Log-spaced seconds from the earliest first-trial finish to the latest run end."""
    positive = first_times[first_times > 0]
    lo = float(positive.min()) if len(positive) else 1.0
    hi = max(float(end_times.max()), lo)
    return np.unique(np.geomspace(lo, hi, n))


def evals_grid(n_trials: np.ndarray, n: int = N_GRID) -> np.ndarray:
    """Log-spaced integers from 1 to the largest number of trials."""
    return np.unique(np.round(np.geomspace(1, max(int(n_trials.max()), 1), n)).astype(int))


def dataset_grids(traj: pd.DataFrame, n: int = N_GRID) -> dict[str, dict[str, np.ndarray]]:
    """{axis: {dataset: grid}} shared by all runs (protocols, optimizers, seeds) of a dataset."""
    per_run = traj.groupby(RUN_KEY).agg(first=("sim_time", "min"), end=("end_time", "max"), n=("evals", "max")).reset_index()
    grids: dict[str, dict[str, np.ndarray]] = {"sim_time": {}, "evals": {}}
    for d, g in per_run.groupby("dataset"):
        grids["sim_time"][d] = time_grid(g["first"].to_numpy(float), g["end"].to_numpy(float), n)
        grids["evals"][d] = evals_grid(g["n"].to_numpy(), n)
    return grids


def on_grids(traj: pd.DataFrame, grids: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """Per-run regret on both grids: RUN_KEY, axis, x, ended, valid_regret, test_regret.

    Past the run's end (its time budget or last trial's finish, see the module docstring; or its
    number of trials) values are NaN and ``ended`` is True: a run is never extended beyond its budget.
    """
    parts = []
    for key, run in traj.groupby(RUN_KEY, sort=True):
        run = run.sort_values("evals")
        for axis in AXES:
            grid = grids[axis][key[1]]
            x = run[axis].to_numpy(float)
            ended = grid > (float(run["end_time"].iloc[0]) if axis == "sim_time" else x[-1])
            cols = {m: np.where(ended, np.nan, step_values(x, run[m].to_numpy(float), grid)) for m in ("valid_regret", "test_regret")}
            parts.append(
                pd.DataFrame({**dict(zip(RUN_KEY, key, strict=True)), "axis": axis, "x": grid.astype(float), "ended": ended, **cols})
            )
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------ bootstrap


def group_rng(key: tuple) -> np.random.Generator:
    """Generator seeded from BOOT_SEED and the group's name: a group's bands do not depend on other groups."""
    return np.random.default_rng([BOOT_SEED, zlib.crc32("|".join(map(str, key)).encode())])


def resample_indices(n_seeds: int, rng: np.random.Generator, n_boot: int = N_BOOT) -> np.ndarray:
    return rng.integers(0, n_seeds, size=(n_boot, n_seeds))


def bootstrap_bands(values: np.ndarray, idx: np.ndarray, level: float = CI_LEVEL) -> dict[str, np.ndarray]:
    """Mean and median over seeds (rows) with percentile-bootstrap bands, per column (grid point).

    ``idx`` (n_boot x n_seeds) picks the resampled seeds. Columns where a seed is NaN get NaN.
    """
    values = np.atleast_2d(np.asarray(values, float))
    n_def = (~np.isnan(values)).sum(axis=0)
    complete = n_def == values.shape[0]
    filled = np.where(complete, values, 0.0)  # incomplete columns are masked below
    samples = filled[idx]  # n_boot x n_seeds x points
    q = [50 * (1 - level), 50 * (1 + level)]
    boot_mean, boot_median = samples.mean(axis=1), np.median(samples, axis=1)
    out = {
        "n_seeds": n_def,
        "mean": filled.mean(axis=0),
        "mean_lo": np.percentile(boot_mean, q[0], axis=0),
        "mean_hi": np.percentile(boot_mean, q[1], axis=0),
        "median": np.median(filled, axis=0),
        "median_lo": np.percentile(boot_median, q[0], axis=0),
        "median_hi": np.percentile(boot_median, q[1], axis=0),
    }
    for k in out:
        if k != "n_seeds":
            out[k] = np.where(complete, out[k], np.nan)
    return out


def curves(per_run: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Tidy bands per protocol x dataset x optimizer x metric x grid point on one axis."""
    rows = []
    sub = per_run[per_run["axis"] == axis]
    for key, g in sub.groupby(GROUP, sort=True):
        wide = {m: g.pivot(index="seed", columns="x", values=m) for m in METRICS}
        idx = resample_indices(len(wide[METRICS[0]]), group_rng(key))
        for m in METRICS:
            bands = bootstrap_bands(wide[m].to_numpy(), idx)
            frame = pd.DataFrame({axis: wide[m].columns.to_numpy(float), "n_runs": len(wide[m]), **bands})
            rows.append(frame.assign(**dict(zip(GROUP, key, strict=True)), metric=m))
    out = pd.concat(rows, ignore_index=True)
    if axis == "evals":
        out[axis] = out[axis].astype(int)
    return out[[*GROUP, "metric", axis, "n_runs", "n_seeds", "mean", "mean_lo", "mean_hi", "median", "median_lo", "median_hi"]]


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
    finals, traj = load_runs(run_dirs)
    n_groups = finals.groupby(GROUP).ngroups
    print(f"aggregate: {len(finals)} runs ({n_groups} protocol x dataset x optimizer groups), {len(traj)} trials", file=log)
    oracle = oracle_table(sorted(finals["dataset"].unique()), data_dir)
    finals = add_regret(finals, oracle, "valid_acc_200", "test_acc_200")
    traj = add_regret(traj, oracle, "inc_valid_acc_200", "inc_test_acc_200")
    per_run = on_grids(traj, dataset_grids(traj))
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
