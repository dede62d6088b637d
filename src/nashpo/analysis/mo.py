"""Multi-objective analysis (``nashpo analysis mo``, docs/multi_objective_analysis.md).

A task is benchmark x task (dataset) x objective set, e.g. ``nb201/cifar10/valid_error+latency_pixel3``.
Runs are ``nashpo run --objectives`` searches; identity and objectives come from ``run.json``.

- Metric: ``hv_regret_final`` of the trial log (true front's hypervolume minus the hypervolume of the
  run's non-dominated set so far, normalised space, reference point 1.1; NB201: the set's 200-epoch
  values against the 200-epoch front), beside ``hv_regret`` at the search fidelity.
- Curves: HV regret over simulated time as step functions on one log-spaced grid per task, mean over
  seeds with 95% percentile-bootstrap bands (``nashpo.analysis.aggregate``'s grid and bootstrap).
- Statistics (``nashpo.analysis.stats``): pairwise Wilcoxon signed-rank tests on the final HV regret per
  task, Holm-corrected within the task; the same at fractions of the budget (equal simulated time);
  Friedman/Nemenyi over all tasks and a critical-difference diagram.
- Pareto figures: per task the true front, each optimizer's 50% empirical attainment surface of its
  final fronts over seeds (``moocore.eaf``) and, when single-objective runs of the same benchmark task
  are given, their final incumbents.
- Latency saved at equal accuracy (NB201 latency objectives) and mean final HV regret per device class.

Values of final fronts and incumbents are looked up at the final fidelity (NB201: 200 epochs) through a
``Tables`` object (``BenchmarkTables``: ``nashpo.objectives``/``nashpo.pareto``), so tests can give
small hand-made tables.
"""

from __future__ import annotations

import os
import shutil
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np
import pandas as pd

from nashpo.analysis.aggregate import bootstrap_bands, resample_indices, step_values, time_grid
from nashpo.analysis.io import write_tables
from nashpo.analysis.mo_keys import EAF_PERCENTILE, METRIC, RUN_KEY, TASK_KEY
from nashpo.analysis.stats import friedman_nemenyi, pairwise_wilcoxon
from nashpo.errors import InputError
from nashpo.triallog import read_record, read_trials

METRICS = ("hv_regret_final", "hv_regret")
N_GRID = 100
N_BOOT = 1000
BOOT_SEED = 0
TIME_FRACTIONS = (0.1, 0.25, 0.5, 1.0)  # Wilcoxon tests at these fractions of the task's budget
FINAL_FIDELITY = {"nb201": 200}  # families without fidelities: None
LATENCY_PREFIX = "latency_"
DEVICE_CLASSES = {  # MO_SPEC: device classes for summaries
    "GPU": ("1080ti_", "2080ti_", "titanx_", "titanxp_", "titan_rtx_"),
    "CPU": ("gold_", "silver_"),
    "phone": ("pixel2", "pixel3", "essential_ph_1", "samsung_a50", "samsung_s7"),
    "edge": ("raspi4", "eyeriss", "fpga"),
}
CLASS_ORDER = tuple(DEVICE_CLASSES)
FIGURES = ("hv_regret_curves", "final_hv_regret", "cd_diagram")  # plus pareto_<benchmark> per benchmark
TABLE_FORMATS = {
    "finals": ("parquet", "csv"),
    "curves": ("parquet", "csv"),
    "summary_table": ("parquet", "csv", "tex"),
    "wilcoxon": ("parquet", "csv", "tex"),
    "wilcoxon_at_time": ("parquet", "csv"),
    "friedman": ("parquet", "csv", "tex"),
    "nemenyi": ("parquet", "csv"),
    "device_classes": ("parquet", "csv", "tex"),
    "latency_saved": ("parquet", "csv", "tex"),
    "eaf": ("parquet", "csv"),
}


# ------------------------------------------------------------------ devices


def objective_device(column: str) -> str | None:
    """``latency_pixel3`` -> ``pixel3``; NB201's own ``latency`` and non-latency columns -> None."""
    return column[len(LATENCY_PREFIX) :] if column.startswith(LATENCY_PREFIX) else None


def device_class(device: str | None) -> str | None:
    """GPU / CPU / phone / edge (MO_SPEC), None for an unknown device or no device."""
    if device is None:
        return None
    for name, patterns in DEVICE_CLASSES.items():
        if any(device == p or (p.endswith("_") and device.startswith(p)) for p in patterns):
            return name
    return None


# ------------------------------------------------------------------ benchmark lookups


class Tables(Protocol):
    """Objective values at the final fidelity (NB201: 200 epochs; families: their only values)."""

    def values(self, benchmark: str, task: str, objectives: Sequence[str], codes: Sequence[int]) -> np.ndarray: ...

    def front(self, benchmark: str, task: str, objectives: Sequence[str]) -> np.ndarray: ...


class BenchmarkTables:
    """``Tables`` from the benchmark tables via ``nashpo.objectives.objective_matrix`` and
    ``nashpo.pareto.true_front`` (cached per task and objective set)."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self._matrix: dict[tuple, np.ndarray] = {}
        self._front: dict[tuple, np.ndarray] = {}

    @staticmethod
    def _objs(benchmark: str, objectives: Sequence[str]) -> tuple:
        from nashpo.objectives import parse_objectives

        return parse_objectives(benchmark, list(objectives))

    def values(self, benchmark: str, task: str, objectives: Sequence[str], codes: Sequence[int]) -> np.ndarray:
        from nashpo.objectives import objective_matrix

        key = (benchmark, task, tuple(objectives))
        if key not in self._matrix:
            objs = self._objs(benchmark, objectives)
            self._matrix[key] = np.asarray(objective_matrix(benchmark, task, objs, FINAL_FIDELITY.get(benchmark), self.data_dir), float)
        return self._matrix[key][np.asarray(codes, dtype=np.int64)]

    def front(self, benchmark: str, task: str, objectives: Sequence[str]) -> np.ndarray:
        from nashpo.pareto import true_front

        key = (benchmark, task, tuple(objectives))
        if key not in self._front:
            objs = self._objs(benchmark, objectives)
            self._front[key] = np.asarray(true_front(benchmark, task, objs, FINAL_FIDELITY.get(benchmark), self.data_dir).points, float)
        return self._front[key]


# ------------------------------------------------------------------ loading


def objective_set(record: dict[str, Any]) -> str:
    """The run's objective-set name (``objective_set_name``: trial-log columns joined by ``+``)."""
    return "+".join(o["column"] for o in record["objectives"])


def run_end(record: dict[str, Any], trials: pd.DataFrame) -> float:
    """Simulated end of a run: its time budget when the time limit stopped it, else its last trial's finish."""
    budget = record.get("budget") or {}
    limit, max_evals = budget.get("max_sim_seconds"), budget.get("max_evals")
    if limit is not None and (max_evals is None or len(trials) < max_evals):
        return float(limit)
    return float(trials["sim_time"].iloc[-1]) if len(trials) else 0.0


def load_mo_runs(run_dirs: Sequence[Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(finals: one row per run, trajectories: one row per trial, fronts: one row per final-front point)."""
    finals, trajs, fronts = [], [], []
    for run in map(Path, run_dirs):
        rec = read_record(run)
        if not rec.get("multi_objective"):
            raise InputError("runs", str(run), "is not a multi-objective run (run.json has no multi_objective: true)")
        trials = read_trials(run, ["trial", "sim_time", *METRICS, "front_size"]).sort_values("trial", kind="stable")
        if trials.empty:
            raise InputError("runs", str(run), "the trial log has no trials")
        columns = [o["column"] for o in rec["objectives"]]
        device = next((d for d in map(objective_device, columns[1:]) if d), None)
        ident = {
            "benchmark": rec["benchmark"]["family"],
            "task": rec["dataset"],
            "objectives": objective_set(rec),
            "optimizer": rec["optimizer"],
            "seed": int(rec["seed"]),
        }
        last = trials.iloc[-1]
        finals.append(
            ident
            | {
                "specs": "|".join(o["name"] for o in rec["objectives"]),
                "error_objective": columns[0],
                "cost_objective": columns[1],
                "device": device,
                "device_class": device_class(device),
                "n_trials": len(trials),
                "sim_time": float(last["sim_time"]),
                "end_time": run_end(rec, trials),
                "hv_regret": float(last["hv_regret"]),
                "hv_regret_final": float(last["hv_regret_final"]),
                "front_size": int(last["front_size"]),
                "igd_plus": float(rec.get("igd_plus", np.nan)),
                "front_hv": float((rec.get("front") or {}).get("hv", np.nan)),
                "run_dir": str(run),
            }
        )
        trajs.append(trials[["sim_time", *METRICS]].assign(**ident))
        for point in rec.get("final_front") or []:
            fronts.append(ident | {"code": int(point["code"])})
    finals_df = pd.DataFrame(finals)
    dup = finals_df[finals_df.duplicated(RUN_KEY, keep=False)]
    if not dup.empty:
        raise InputError("runs", sorted(dup["run_dir"]), "are the same run (task, objectives, optimizer, seed) given twice")
    fronts_df = pd.DataFrame(fronts, columns=[*RUN_KEY, "code"])
    return finals_df.sort_values(RUN_KEY, ignore_index=True), pd.concat(trajs, ignore_index=True), fronts_df


def load_so_incumbents(run_dirs: Sequence[Path]) -> pd.DataFrame:
    """Final incumbents of single-objective runs: benchmark, task, optimizer, seed, code."""
    rows = []
    for run in map(Path, run_dirs):
        rec = read_record(run)
        if rec.get("multi_objective"):
            continue
        family = (rec.get("benchmark") or {}).get("family", "nb201")
        column = "inc_arch_code" if family == "nb201" else "inc_code"
        trials = read_trials(run, ["trial", column]).sort_values("trial", kind="stable")
        if trials.empty:
            continue
        rows.append(
            {
                "benchmark": family,
                "task": rec["dataset"],
                "optimizer": rec["optimizer"],
                "seed": int(rec["seed"]),
                "code": int(trials[column].iloc[-1]),
            }
        )
    return pd.DataFrame(rows, columns=["benchmark", "task", "optimizer", "seed", "code"])


# ------------------------------------------------------------------ curves


def group_rng(key: tuple) -> np.random.Generator:
    return np.random.default_rng([BOOT_SEED, zlib.crc32("|".join(map(str, key)).encode())])


def hv_curves(finals: pd.DataFrame, trajs: pd.DataFrame, n_grid: int = N_GRID, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Per task x optimizer x metric x point of the task's time grid: mean/median with bootstrap bands.

    The grid (log-spaced, from the task's earliest first-trial finish to its latest run end) is shared by
    all optimizers of a task; a run has no value before its first trial and after its end (NaN), and a
    grid point where some seed has no value has no statistics (as in ``analysis aggregate``).
    """
    rows = []
    ends = finals.set_index(RUN_KEY)["end_time"]
    for task, g in trajs.groupby(TASK_KEY, sort=True):
        first = g.groupby(["optimizer", "seed"])["sim_time"].min().to_numpy(float)
        task_ends = finals[(finals[TASK_KEY] == pd.Series(task, index=TASK_KEY)).all(axis=1)]["end_time"].to_numpy(float)
        grid = time_grid(first, task_ends, n_grid)
        for optimizer, o in g.groupby("optimizer", sort=True):
            seeds = sorted(o["seed"].unique())
            idx = resample_indices(len(seeds), group_rng((*task, optimizer)), n_boot)
            for m in METRICS:
                values = np.full((len(seeds), len(grid)), np.nan)
                for i, s in enumerate(seeds):
                    r = o[o["seed"] == s].sort_values("sim_time", kind="stable")
                    v = step_values(r["sim_time"].to_numpy(float), r[m].to_numpy(float), grid)
                    values[i] = np.where(grid > ends[(*task, optimizer, s)], np.nan, v)
                bands = bootstrap_bands(values, idx)
                frame = pd.DataFrame({"sim_time": grid, "n_runs": len(seeds), **bands})
                rows.append(frame.assign(**dict(zip(TASK_KEY, task, strict=True)), optimizer=optimizer, metric=m))
    cols = [
        *TASK_KEY,
        "optimizer",
        "metric",
        "sim_time",
        "n_runs",
        "n_seeds",
        "mean",
        "mean_lo",
        "mean_hi",
        "median",
        "median_lo",
        "median_hi",
    ]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def values_at(finals: pd.DataFrame, trajs: pd.DataFrame, fractions: Sequence[float] = TIME_FRACTIONS, metric: str = METRIC) -> pd.DataFrame:
    """Each run's metric at fractions of its task's budget (the shortest run end of the task): one row per
    run and fraction, NaN before the run's first trial."""
    rows = []
    task_end = finals.groupby(TASK_KEY)["end_time"].min()
    for key, r in trajs.groupby(RUN_KEY, sort=True):
        r = r.sort_values("sim_time", kind="stable")
        end = float(task_end[key[:3]])
        times = np.array([f * end for f in fractions])
        v = step_values(r["sim_time"].to_numpy(float), r[metric].to_numpy(float), times)
        for f, t, x in zip(fractions, times, v, strict=True):
            rows.append(dict(zip(RUN_KEY, key, strict=True)) | {"fraction": f, "sim_time": t, metric: x})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ statistics


def task_label(benchmark: str, task: str, objectives: str) -> str:
    return f"{benchmark}/{task}/{objectives}"


def as_stats_frame(frame: pd.DataFrame, protocol: pd.Series | str = "mo") -> pd.DataFrame:
    """``nashpo.analysis.stats`` groups tasks by (protocol, dataset): the MO task label goes into ``dataset``."""
    out = frame.copy()
    out["dataset"] = [task_label(*k) for k in out[TASK_KEY].itertuples(index=False)]
    out["protocol"] = protocol
    return out


def with_task_columns(table: pd.DataFrame, finals: pd.DataFrame) -> pd.DataFrame:
    """Replace the stats module's protocol/dataset by benchmark, task, objectives."""
    tasks = finals[TASK_KEY].drop_duplicates()
    labels = {task_label(*k): k for k in tasks.itertuples(index=False)}
    out = table.drop(columns=["protocol"]).rename(columns={"dataset": "task_label"})
    keys = [labels.get(lbl, (None, None, None)) for lbl in out["task_label"]]
    for i, c in enumerate(TASK_KEY):
        out.insert(i, c, [k[i] for k in keys])
    return out.drop(columns=["task_label"])


def mo_wilcoxon(finals: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    return with_task_columns(pairwise_wilcoxon(as_stats_frame(finals), metric), finals)


def wilcoxon_at_time(finals: pd.DataFrame, at: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """Pairwise Wilcoxon/Holm per task at each budget fraction (Holm within task and fraction)."""
    if at.empty:
        return pd.DataFrame()
    frame = as_stats_frame(at, protocol=at["fraction"].map(lambda f: f"{f:g}"))
    table = pairwise_wilcoxon(frame, metric)
    table.insert(0, "fraction", table["protocol"].astype(float))
    return with_task_columns(table, finals)


def mo_friedman(finals: pd.DataFrame, metric: str = METRIC) -> tuple[pd.DataFrame, pd.DataFrame]:
    return friedman_nemenyi(as_stats_frame(finals), metric)


def summary_table(finals: pd.DataFrame, friedman: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """Optimizers x tasks: final HV regret 'mean ± sd (n)', and the Friedman average rank."""
    s = finals.groupby([*TASK_KEY, "optimizer"])[metric].agg(["mean", "std", "count"]).reset_index()
    s["label"] = [task_label(*k) for k in s[TASK_KEY].itertuples(index=False)]
    s["cell"] = [f"{m:.4f} ± {0 if np.isnan(sd) else sd:.4f} ({n})" for m, sd, n in zip(s["mean"], s["std"], s["count"], strict=True)]
    table = s.pivot(index="optimizer", columns="label", values="cell").fillna("--")
    table.columns.name = None
    ranks = friedman.dropna(subset=["optimizer"]).set_index("optimizer")["avg_rank"]
    table["avg. rank"] = [f"{ranks[o]:.2f}" if o in ranks.index else "--" for o in table.index]
    return table.reset_index()


def device_class_table(finals: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """Mean final HV regret per optimizer and device class (NB201 latency objectives), over tasks and seeds."""
    lat = finals.dropna(subset=["device_class"])
    cols = ["optimizer", "device_class", "n_tasks", "n_runs", "mean_hv_regret", "median_hv_regret"]
    if lat.empty:
        return pd.DataFrame(columns=cols)
    out = (
        lat.groupby(["optimizer", "device_class"])
        .agg(
            n_tasks=("task", lambda t: lat.loc[t.index, TASK_KEY].drop_duplicates().shape[0]),
            n_runs=(metric, "size"),
            mean_hv_regret=(metric, "mean"),
            median_hv_regret=(metric, "median"),
        )
        .reset_index()
    )
    out["class_order"] = out["device_class"].map({c: i for i, c in enumerate(CLASS_ORDER)})
    return out.sort_values(["optimizer", "class_order"]).drop(columns="class_order").reset_index(drop=True)[cols]


# ------------------------------------------------------------------ fronts, EAF, latency saved


def eaf_surface(points: np.ndarray, sets: np.ndarray, percentile: float = EAF_PERCENTILE) -> np.ndarray:
    """The ``percentile``% empirical attainment surface (``moocore.eaf``), sorted by the first objective."""
    import moocore

    points = np.asarray(points, float)
    if len(points) == 0:
        return np.empty((0, points.shape[1] if points.ndim == 2 else 2))
    _, sets = np.unique(np.asarray(sets), return_inverse=True)
    surface = np.asarray(moocore.eaf(points, sets + 1, percentiles=[percentile]), float)[:, :-1]
    return surface[np.lexsort(surface.T[::-1])]


def front_values(fronts: pd.DataFrame, finals: pd.DataFrame, tables: Tables) -> pd.DataFrame:
    """Final-front points of every run with their objective values at the final fidelity (``f0``, ``f1``)."""
    specs = finals.drop_duplicates(TASK_KEY).set_index(TASK_KEY)["specs"]
    parts = []
    for key, g in fronts.groupby(TASK_KEY, sort=True):
        vals = tables.values(key[0], key[1], specs[key].split("|"), g["code"].to_numpy())
        parts.append(g.assign(f0=vals[:, 0], f1=vals[:, 1]))
    cols = [*RUN_KEY, "code", "f0", "f1"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def attainment(points: pd.DataFrame, finals: pd.DataFrame, percentile: float = EAF_PERCENTILE) -> pd.DataFrame:
    """Per task and optimizer the ``percentile``% attainment surface over all its seeds (a seed whose
    front is empty attains nothing but counts in the percentage)."""
    rows = []
    for key, runs in finals.groupby([*TASK_KEY, "optimizer"], sort=True):
        p = points.merge(runs[RUN_KEY], on=RUN_KEY)
        n_seeds = runs["seed"].nunique()
        if p.empty:
            continue
        pts, sets = p[["f0", "f1"]].to_numpy(float), p["seed"].to_numpy()
        present = len(np.unique(sets))
        if present < n_seeds:  # moocore counts the given sets only: rescale the percentile to all seeds
            level = percentile * n_seeds / present
            if level > 100:
                continue
        else:
            level = percentile
        surface = eaf_surface(pts, sets, level)
        for i, (a, b) in enumerate(surface):
            rows.append(dict(zip([*TASK_KEY, "optimizer"], key, strict=True)) | {"percentile": percentile, "point": i, "f0": a, "f1": b})
    return pd.DataFrame(rows, columns=[*TASK_KEY, "optimizer", "percentile", "point", "f0", "f1"])


def so_values(so: pd.DataFrame, finals: pd.DataFrame, tables: Tables) -> pd.DataFrame:
    """Single-objective incumbents on each MO task's benchmark task, with the task's objective values."""
    tasks = finals.drop_duplicates(TASK_KEY)[[*TASK_KEY, "specs"]]
    parts = []
    for t in tasks.itertuples(index=False):
        g = so[(so["benchmark"] == t.benchmark) & (so["task"] == t.task)]
        if g.empty:
            continue
        vals = tables.values(t.benchmark, t.task, t.specs.split("|"), g["code"].to_numpy())
        parts.append(g.assign(objectives=t.objectives, f0=vals[:, 0], f1=vals[:, 1]))
    cols = ["benchmark", "task", "objectives", "optimizer", "seed", "code", "f0", "f1"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def median_incumbent(so: pd.DataFrame) -> pd.Series:
    """The lower-median single-objective incumbent by error (ties: lower latency): one real architecture."""
    ordered = so.sort_values(["f0", "f1", "optimizer", "seed"], kind="stable").reset_index(drop=True)
    return ordered.iloc[(len(ordered) - 1) // 2]


def latency_saved(points: pd.DataFrame, finals: pd.DataFrame, so: pd.DataFrame, tol: float = 1e-9) -> pd.DataFrame:
    """Latency saved at equal accuracy, per latency task (dataset x device) and MO optimizer.

    Reference: the single-objective runs' lower-median final incumbent on the dataset (all SO optimizers
    and seeds pooled; by error at the final fidelity), with error e_ref and latency l_ref on the device.
    Per MO seed: the lowest latency among its final front's points with error <= e_ref (+inf if none);
    ``mo_latency_ms`` is the median over seeds (NaN if that median is +inf), ``saved_ms`` = l_ref -
    ``mo_latency_ms`` and ``saved_pct`` = 100 * saved_ms / l_ref. ``n_reached``: seeds with such a point.
    """
    cols = [
        "benchmark",
        "task",
        "objectives",
        "device",
        "device_class",
        "optimizer",
        "n_seeds",
        "n_reached",
        "so_reference",
        "so_error",
        "so_latency_ms",
        "mo_latency_ms",
        "saved_ms",
        "saved_pct",
    ]
    rows = []
    lat_tasks = finals.dropna(subset=["device"]).drop_duplicates(TASK_KEY)
    for t in lat_tasks.itertuples(index=False):
        ref_runs = so[(so["benchmark"] == t.benchmark) & (so["task"] == t.task) & (so["objectives"] == t.objectives)]
        if ref_runs.empty:
            continue
        ref = median_incumbent(ref_runs)
        runs = finals[(finals["benchmark"] == t.benchmark) & (finals["task"] == t.task) & (finals["objectives"] == t.objectives)]
        for optimizer, r in runs.groupby("optimizer", sort=True):
            best = []
            for seed in sorted(r["seed"]):
                p = points[
                    (points["benchmark"] == t.benchmark)
                    & (points["task"] == t.task)
                    & (points["objectives"] == t.objectives)
                    & (points["optimizer"] == optimizer)
                    & (points["seed"] == seed)
                ]
                ok = p[p["f0"] <= ref["f0"] + tol]
                best.append(float(ok["f1"].min()) if len(ok) else np.inf)
            med = float(np.median(best))
            mo = med if np.isfinite(med) else np.nan
            rows.append(
                {
                    "benchmark": t.benchmark,
                    "task": t.task,
                    "objectives": t.objectives,
                    "device": t.device,
                    "device_class": t.device_class,
                    "optimizer": optimizer,
                    "n_seeds": len(best),
                    "n_reached": int(np.isfinite(best).sum()),
                    "so_reference": f"{ref['optimizer']} seed {ref['seed']} (code {ref['code']})",
                    "so_error": float(ref["f0"]),
                    "so_latency_ms": float(ref["f1"]),
                    "mo_latency_ms": mo,
                    "saved_ms": float(ref["f1"]) - mo,
                    "saved_pct": 100.0 * (float(ref["f1"]) - mo) / float(ref["f1"]),
                }
            )
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------ entry point


def mo_tables(
    run_dirs: Sequence[Path], so_dirs: Sequence[Path] = (), tables: Tables | None = None, log: TextIO = sys.stderr
) -> dict[str, pd.DataFrame]:
    tables = tables or BenchmarkTables()
    finals, trajs, fronts = load_mo_runs(run_dirs)
    n_tasks = finals.groupby(TASK_KEY).ngroups
    print(f"mo: {len(finals)} runs, {n_tasks} tasks, {finals['optimizer'].nunique()} optimizers", file=log)
    points = front_values(fronts, finals, tables)
    so = so_values(load_so_incumbents(so_dirs), finals, tables)
    friedman, nemenyi = mo_friedman(finals)
    at = values_at(finals, trajs)
    out = {
        "finals": finals,
        "curves": hv_curves(finals, trajs),
        "summary_table": summary_table(finals, friedman),
        "wilcoxon": mo_wilcoxon(finals),
        "wilcoxon_at_time": wilcoxon_at_time(finals, at),
        "friedman": friedman,
        "nemenyi": nemenyi,
        "device_classes": device_class_table(finals),
        "latency_saved": latency_saved(points, finals, so),
        "eaf": attainment(points, finals),
        "front_points": points,
        "so_incumbents": so,
    }
    out["true_fronts"] = true_fronts(finals, tables)
    return out


def true_fronts(finals: pd.DataFrame, tables: Tables) -> pd.DataFrame:
    parts = []
    for t in finals.drop_duplicates(TASK_KEY).itertuples(index=False):
        f = np.asarray(tables.front(t.benchmark, t.task, t.specs.split("|")), float)
        parts.append(pd.DataFrame({"benchmark": t.benchmark, "task": t.task, "objectives": t.objectives, "f0": f[:, 0], "f1": f[:, 1]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*TASK_KEY, "f0", "f1"])


def analyse_mo(
    run_dirs: Sequence[Path],
    out_dir: Path,
    so_dirs: Sequence[Path] = (),
    tables: Tables | None = None,
    log: TextIO = sys.stderr,
) -> list[Path]:
    """Every table and figure of the MO analysis into ``out_dir`` (tables written together, figures
    rendered into a temporary folder first; wrap in ``io.stage_outputs`` for all-or-nothing)."""
    from nashpo.analysis import mo_figures

    out_dir = Path(out_dir)
    data = mo_tables(run_dirs, so_dirs, tables, log)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".mo_figures.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        mo_figures.render(data, tmp, log)
        written = write_tables(out_dir, {k: data[k] for k in TABLE_FORMATS}, TABLE_FORMATS, latex_captions=LATEX_CAPTIONS)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out_dir / f.name)
            written.append(out_dir / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"mo: wrote {len(written)} files to {out_dir}", file=log)
    return written


LATEX_CAPTIONS = {
    "summary_table": "Final hypervolume regret (normalised objectives, reference point 1.1): mean ± standard deviation "
    "(number of seeds) per multi-objective task; average rank from the Friedman test over all tasks.",
    "wilcoxon": "Pairwise two-sided Wilcoxon signed-rank tests on the final hypervolume regret, runs paired by seed; "
    "p-values Holm-corrected within each task.",
    "friedman": "Friedman test on the mean final hypervolume regret per multi-objective task; average ranks (1 = best) "
    "and the Nemenyi critical difference at alpha 0.05.",
    "device_classes": "Mean final hypervolume regret per optimizer and device class (NB201, error vs latency on the device).",
    "latency_saved": "Latency saved at equal accuracy: the single-objective runs' median incumbent's latency minus the "
    "median over seeds of the lowest latency on each multi-objective search's final front at an error no higher than "
    "that incumbent's.",
}


def figure_stems(benchmarks: Sequence[str]) -> list[str]:
    return [*FIGURES, *(f"pareto_{b}" for b in benchmarks)]
