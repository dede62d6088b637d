"""Incumbent trajectories on common grids, regret against the oracle, bootstrap bands over seeds.

Regret (percentage points) = oracle accuracy - incumbent's accuracy, with the oracle computed from
the benchmark table: best 200-epoch validation (valid regret) and best 200-epoch test accuracy
(test regret). Trajectories are step functions: the value at time t is the incumbent after the
last trial that finished at or before t (NaN before the first trial).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nashpo.analysis.io import write_table
from nashpo.benchmark import NB201Benchmark
from nashpo.triallog import read_record, read_trials

GROUP = ["protocol", "dataset", "optimizer"]
N_TIME_POINTS = 60
N_BOOT = 1000
BOOT_SEED = 0


def oracle_table(datasets: list[str], data_dir: Path | None) -> pd.DataFrame:
    rows = []
    for d in datasets:
        o = NB201Benchmark(d, data_dir).oracle().set_index("epochs").loc[200]
        rows.append({"dataset": d, "oracle_valid_acc": o["best_valid_acc"], "oracle_test_acc": o["best_test_acc"]})
    return pd.DataFrame(rows)


def load_runs(run_dirs: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(final per run, raw trajectories) with run identity columns."""
    finals, trajs = [], []
    for run in run_dirs:
        rec = read_record(run)
        t = read_trials(run)[["trial", "sim_time", "inc_valid_acc_200", "inc_test_acc_200", "inc_arch_code"]].copy()
        ident = {"protocol": rec["protocol"], "dataset": rec["dataset"], "optimizer": rec["optimizer"], "seed": rec["seed"]}
        for k, v in ident.items():
            t[k] = v
        t["evals"] = t["trial"] + 1
        trajs.append(t)
        inc = rec["incumbent"]
        finals.append(
            {
                **ident,
                "n_trials": rec["n_trials"],
                "sim_time": rec["sim_time"],
                "inc_arch_code": inc["arch_code"],
                "inc_arch_str": inc["arch_str"],
                "valid_acc_200": inc["valid_acc_200"],
                "test_acc_200": inc["test_acc_200"],
                "run_dir": str(run),
            }
        )
    return pd.DataFrame(finals), pd.concat(trajs, ignore_index=True)


def add_regret(frame: pd.DataFrame, oracle: pd.DataFrame, valid_col: str, test_col: str) -> pd.DataFrame:
    out = frame.merge(oracle, on="dataset", how="left")
    out["valid_regret"] = out["oracle_valid_acc"] - out[valid_col]
    out["test_regret"] = out["oracle_test_acc"] - out[test_col]
    return out.drop(columns=["oracle_valid_acc", "oracle_test_acc"])


def step_values(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Value of the step function (x ascending, y after each step) at each grid point."""
    idx = np.searchsorted(x, grid, side="right") - 1
    out = np.where(idx >= 0, y[np.clip(idx, 0, None)], np.nan)
    return out.astype(float)


def time_grid(traj: pd.DataFrame, n: int = N_TIME_POINTS) -> np.ndarray:
    lo = max(float(traj["sim_time"].min()), 1.0)
    hi = float(traj.groupby(["optimizer", "seed"])["sim_time"].max().min())  # shared by all runs
    return np.geomspace(lo, max(hi, lo * 1.0001), n)


def on_grid(traj: pd.DataFrame, axis: str, grids: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = []
    for key, run in traj.groupby([*GROUP, "seed"], sort=True):
        grid = grids[key[1]]
        run = run.sort_values(axis)
        x = run[axis].to_numpy(float)
        for metric in ("valid_regret", "test_regret"):
            vals = step_values(x, run[metric].to_numpy(float), grid)
            rows.append(pd.DataFrame({**dict(zip([*GROUP, "seed"], key, strict=True)), axis: grid, "metric": metric, "regret": vals}))
    return pd.concat(rows, ignore_index=True)


def bootstrap_band(values: np.ndarray, rng: np.random.Generator, n_boot: int = N_BOOT) -> tuple[float, float, float, float, float, float]:
    """mean, lower, upper (95% percentile bootstrap of the mean), median, lower, upper."""
    v = values[~np.isnan(values)]
    if len(v) == 0:
        return (np.nan,) * 6
    if len(v) == 1 or np.all(v == v[0]):
        return (float(v.mean()), float(v.mean()), float(v.mean()), float(np.median(v)), float(np.median(v)), float(np.median(v)))
    samples = v[rng.integers(0, len(v), size=(n_boot, len(v)))]
    means, medians = samples.mean(axis=1), np.median(samples, axis=1)
    return (
        float(v.mean()),
        *np.percentile(means, [2.5, 97.5]).tolist(),
        float(np.median(v)),
        *np.percentile(medians, [2.5, 97.5]).tolist(),
    )


def summarise(grid_frame: pd.DataFrame, axis: str) -> pd.DataFrame:
    rng = np.random.default_rng(BOOT_SEED)
    rows = []
    for key, g in grid_frame.groupby([*GROUP, "metric", axis], sort=True):
        stats = bootstrap_band(g["regret"].to_numpy(float), rng)
        rows.append(
            dict(zip([*GROUP, "metric", axis], key, strict=True))
            | dict(zip(["mean", "mean_lo", "mean_hi", "median", "median_lo", "median_hi"], stats, strict=True))
            | {"n_seeds": int(g["regret"].notna().sum())}
        )
    return pd.DataFrame(rows)


def aggregate(run_dirs: list[Path], out_dir: Path, data_dir: Path | None = None, log=sys.stderr) -> None:
    finals, traj = load_runs(run_dirs)
    print(f"aggregate: {len(finals)} runs, {len(traj)} trials", file=log)
    oracle = oracle_table(sorted(finals["dataset"].unique()), data_dir)
    finals = add_regret(finals, oracle, "valid_acc_200", "test_acc_200")
    traj = add_regret(traj, oracle, "inc_valid_acc_200", "inc_test_acc_200")
    grids = {d: time_grid(t) for d, t in traj.groupby("dataset")}
    per_time = on_grid(traj, "sim_time", grids)
    max_evals = int(traj.groupby(["dataset", "optimizer", "seed"])["evals"].max().min())
    eval_grids = {d: np.unique(np.geomspace(1, max_evals, N_TIME_POINTS).round()) for d in grids}
    per_evals = on_grid(traj, "evals", eval_grids)
    summary = (
        finals.groupby(GROUP)
        .agg(
            n_seeds=("seed", "nunique"),
            test_regret_mean=("test_regret", "mean"),
            test_regret_std=("test_regret", "std"),
            valid_regret_mean=("valid_regret", "mean"),
            valid_regret_std=("valid_regret", "std"),
            test_acc_mean=("test_acc_200", "mean"),
        )
        .reset_index()
    )
    write_table(finals, out_dir, "per_run_final")
    write_table(per_time, out_dir, "per_run_trajectories", csv=False)
    write_table(summarise(per_time, "sim_time"), out_dir, "curves_time")
    write_table(summarise(per_evals, "evals"), out_dir, "curves_evals")
    write_table(summary, out_dir, "summary")
    write_table(oracle, out_dir, "oracle")
