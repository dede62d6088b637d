"""Anytime curves of any task: per-run step functions on common grids, bootstrap bands over seeds.

Trajectories are step functions: the value at grid point t is the run's score after the last trial that
finished at or before t (simulated seconds, ``sim_time``) or after the t-th evaluation (``evals``); NaN
before the run's first trial. Grids are shared by every run of a task (family, task, objective set; both
protocols of an NB201 dataset share one):

- time: ``N_GRID`` log-spaced points from the earliest first-trial finish to the latest run end;
- evaluations: up to ``N_GRID`` log-spaced integers from 1 to the largest number of trials.

Past its end (``runs.run_end``; on the evaluation axis its number of trials) a run has no value (NaN):
runs are never extended beyond their budget. With ``hold_final`` a run that its evaluation budget
stopped keeps its final incumbent instead (its search is over and that is what it returns).

Bands: per curve (a group of runs, e.g. task x optimizer) the seeds are resampled with replacement
(``N_BOOT`` percentile bootstrap, whole trajectories as units, ``numpy.random.default_rng`` seeded from
``BOOT_SEED`` and the curve's name) and the 2.5/97.5 percentiles of the resampled mean and median form
the 95% bands. A grid point where some seed has no value has no statistics (NaN): a curve starts once
every seed has a value and stops at its shortest seed's end.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nashpo.analysis.runs import RUN_KEY

N_GRID = 100
N_BOOT = 1000
BOOT_SEED = 0
CI_LEVEL = 0.95
AXES = ("sim_time", "evals")
GRID_KEY = ["family", "task", "objectives"]
BANDS = ["n_runs", "n_seeds", "mean", "mean_lo", "mean_hi", "median", "median_lo", "median_hi"]


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


def task_grids(
    finals: pd.DataFrame, trajectories: pd.DataFrame, axis: str, n: int = N_GRID, run_key: Sequence[str] = RUN_KEY
) -> dict[tuple, np.ndarray]:
    """{task (GRID_KEY values): grid on ``axis``}, shared by every run of the task (``run_key``: the
    columns naming a run)."""
    grids = {}
    run_key = list(run_key)
    first = trajectories.groupby(run_key)["sim_time"].min()
    for key, g in finals.groupby(GRID_KEY, sort=True):
        if axis == "sim_time":
            starts = first.reindex(pd.MultiIndex.from_frame(g[run_key])).dropna().to_numpy(float)
            grids[key] = time_grid(starts, g["end_time"].to_numpy(float), n)
        else:
            grids[key] = evals_grid(g["n_trials"].to_numpy(), n)
    return grids


def on_grid(
    finals: pd.DataFrame,
    trajectories: pd.DataFrame,
    axis: str,
    metrics: Sequence[str],
    hold_final: bool = False,
    n: int = N_GRID,
    run_key: Sequence[str] = RUN_KEY,
) -> pd.DataFrame:
    """Every run's metrics on its task's grid: ``run_key`` (default RUN_KEY), axis, x, ended, metrics (one
    row per run and point, runs in ``run_key`` order)."""
    run_key = list(run_key)
    grids = task_grids(finals, trajectories, axis, n, run_key)
    by_run = dict(iter(trajectories.groupby(run_key, sort=False)))
    parts = []
    for r in finals.sort_values(run_key).itertuples(index=False):
        key = tuple(getattr(r, k) for k in run_key)
        run = by_run.get(key, trajectories.iloc[:0]).sort_values("evals", kind="stable")
        grid = grids[tuple(getattr(r, k) for k in GRID_KEY)]
        x = run[axis].to_numpy(float)
        end = float(r.end_time) if axis == "sim_time" else float(r.n_trials)
        ended = grid > end
        if hold_final:
            ended &= bool(r.time_limited) and axis == "sim_time"
        cols = {m: np.where(ended, np.nan, step_values(x, run[m].to_numpy(float), grid)) for m in metrics}
        parts.append(pd.DataFrame({**dict(zip(run_key, key, strict=True)), "axis": axis, "x": grid.astype(float), "ended": ended, **cols}))
    return pd.concat(parts, ignore_index=True)


def group_rng(key: tuple) -> np.random.Generator:
    """Generator seeded from BOOT_SEED and the curve's name: a curve's bands do not depend on other curves."""
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


def bands(per_run: pd.DataFrame, curve: Sequence[str], metrics: Sequence[str], axis: str, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Bands over seeds per curve (the ``curve`` columns, in sorted order; they name the curve's bootstrap
    generator), metric (in the given order) and grid point: curve, metric, axis, BANDS."""
    rows = []
    for key, g in per_run.groupby(list(curve), sort=True):
        wide = {m: g.pivot(index="seed", columns="x", values=m) for m in metrics}
        idx = resample_indices(len(wide[metrics[0]]), group_rng(key), n_boot)
        for m in metrics:
            b = bootstrap_bands(wide[m].to_numpy(), idx)
            frame = pd.DataFrame({axis: wide[m].columns.to_numpy(float), "n_runs": len(wide[m]), **b})
            rows.append(frame.assign(**dict(zip(curve, key, strict=True)), metric=m))
    out = pd.concat(rows, ignore_index=True)
    if axis == "evals":
        out[axis] = out[axis].astype(int)
    return out[[*curve, "metric", axis, *BANDS]]


def anytime_curves(
    finals: pd.DataFrame,
    trajectories: pd.DataFrame,
    curve: Sequence[str],
    metrics: Sequence[str],
    axis: str = "sim_time",
    hold_final: bool = False,
    n_grid: int = N_GRID,
    n_boot: int = N_BOOT,
    run_key: Sequence[str] = RUN_KEY,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-run values on the task grids, bands per curve): ``on_grid`` then ``bands``."""
    per_run = on_grid(finals, trajectories, axis, metrics, hold_final, n_grid, run_key)
    return per_run, bands(per_run, curve, metrics, axis, n_boot)
