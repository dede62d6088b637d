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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np
import pandas as pd

from nashpo.analysis import mo_figures
from nashpo.analysis.curves import N_BOOT, N_GRID, anytime_curves, step_values
from nashpo.analysis.io import write_tables
from nashpo.analysis.mo_figures import EAF_PERCENTILE
from nashpo.analysis.runs import DEVICE_CLASSES, MO, MO_METRIC, MO_TASK_KEY, Runs, load_runs
from nashpo.analysis.runs import device_class as device_class  # re-exported: the MO tables' device classes
from nashpo.analysis.runs import objective_device as objective_device
from nashpo.analysis.stats import friedman_nemenyi, pairwise_wilcoxon
from nashpo.errors import InputError
from nashpo.triallog import read_record, read_trials

TASK_KEY = MO_TASK_KEY
RUN_KEY = [*TASK_KEY, "optimizer", "seed"]
METRIC = MO_METRIC
METRICS = ("hv_regret_final", "hv_regret")
TIME_FRACTIONS = (0.1, 0.25, 0.5, 1.0)  # Wilcoxon tests at these fractions of the task's budget
FINAL_FIDELITY = {"nb201": 200}  # families without fidelities: None
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
    "eaf_pairs": ("parquet", "csv"),
}


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


FINAL_COLUMNS = [
    *RUN_KEY,
    "specs",
    "error_objective",
    "cost_objective",
    "device",
    "device_class",
    "n_trials",
    "sim_time",
    "end_time",
    "hv_regret",
    "hv_regret_final",
    "front_size",
    "igd_plus",
    "front_hv",
    "run_dir",
]
CANONICAL = {"benchmark": "family"}  # MO table column -> the runs frame's


def load_mo(run_dirs: Sequence[Path]) -> Runs:
    """Multi-objective runs (``runs.load_runs``), refusing any other run."""
    refusal = "is not a multi-objective run (run.json has no multi_objective: true)"
    return load_runs(run_dirs, ["family", "task", "objectives", "optimizer", "seed"], kinds=[MO], refusal=refusal)


def load_mo_runs(run_dirs: Sequence[Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(finals: one row per run, trajectories: one row per trial, fronts: one row per final-front point)."""
    return mo_frames(load_mo(run_dirs))


def mo_frames(runs: Runs) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rename = {"family": "benchmark"}
    finals = runs.finals.rename(columns=rename)[FINAL_COLUMNS]
    trajs = runs.trajectories.rename(columns=rename)[["evals", "sim_time", *METRICS, *RUN_KEY]]
    ident = finals.set_index("run_dir")[RUN_KEY]
    fronts = [
        dict(ident.loc[run]) | {"code": int(point["code"])}
        for run, record in runs.records.items()
        for point in record.get("final_front") or []
    ]
    return finals, trajs, pd.DataFrame(fronts, columns=[*RUN_KEY, "code"])


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


def hv_curves(finals: pd.DataFrame, trajs: pd.DataFrame, n_grid: int = N_GRID, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Per task x optimizer x metric x point of the task's time grid: mean/median with bootstrap bands
    (``curves.anytime_curves``; the grid is shared by all optimizers of a task, a run has no value before
    its first trial and after its end)."""
    f = finals.rename(columns=CANONICAL).assign(protocol="", time_limited=False)
    t = trajs.rename(columns=CANONICAL).assign(protocol="")
    _, bands = anytime_curves(f, t, ["family", *TASK_KEY[1:], "optimizer"], list(METRICS), n_grid=n_grid, n_boot=n_boot)
    return bands.rename(columns={"family": "benchmark"})


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


def by_label(table: pd.DataFrame, first: Sequence[str] = ()) -> pd.DataFrame:
    """Rows ordered by (``first`` columns, task label ``benchmark/task/objectives``), stable within a task."""
    order = table.assign(_label=[task_label(*k) for k in table[TASK_KEY].itertuples(index=False)])
    return order.sort_values([*first, "_label"], kind="stable").drop(columns="_label").reset_index(drop=True)


def mo_wilcoxon(finals: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    return by_label(pairwise_wilcoxon(finals, metric, task=TASK_KEY))


def wilcoxon_at_time(finals: pd.DataFrame, at: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """Pairwise Wilcoxon/Holm per task at each budget fraction (Holm within task and fraction)."""
    if at.empty:
        return pd.DataFrame()
    table = by_label(pairwise_wilcoxon(at, metric, task=["fraction", *TASK_KEY]), ["fraction"])
    return table[[*TASK_KEY, "fraction", *[c for c in table.columns if c not in (*TASK_KEY, "fraction")]]]


def mo_friedman(finals: pd.DataFrame, metric: str = METRIC) -> tuple[pd.DataFrame, pd.DataFrame]:
    return friedman_nemenyi(finals, metric, task=TASK_KEY)


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


def value_columns(n_objectives: int) -> list[str]:
    """``f0`` .. ``f{m-1}``: a point's objective values in the task's objective order."""
    return [f"f{j}" for j in range(n_objectives)]


def n_objectives(objectives: str) -> int:
    """Objectives of a task's objective-set name (``valid_error+params+latency_pixel3``: 3)."""
    return objectives.count("+") + 1


def widest(tasks: pd.DataFrame) -> list[str]:
    """The value columns of the task with most objectives (2 for a study of objective pairs)."""
    return value_columns(max([2, *(n_objectives(o) for o in tasks["objectives"])]))


def with_values(frame: pd.DataFrame, vals: np.ndarray) -> pd.DataFrame:
    return frame.assign(**{f"f{j}": vals[:, j] for j in range(vals.shape[1])})


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
    """Final-front points of every run with their objective values at the final fidelity (``f0``,
    ``f1``, ... one per objective; a task with fewer objectives than the widest leaves the rest empty)."""
    specs = finals.drop_duplicates(TASK_KEY).set_index(TASK_KEY)["specs"]
    parts = []
    for key, g in fronts.groupby(TASK_KEY, sort=True):
        vals = tables.values(key[0], key[1], specs[key].split("|"), g["code"].to_numpy())
        parts.append(with_values(g, vals))
    cols = [*RUN_KEY, "code", *widest(finals)]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


PAIR_COLUMNS = ["first_index", "second_index", "first_objective", "second_objective"]


def parse_pairs(texts: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``TASK=A,B`` (``nb201/cifar10/valid_error+params+latency_pixel3=params,latency:pixel3``) -> {TASK: (A, B)}."""
    out: dict[str, tuple[str, str]] = {}
    for text in texts:
        task, sep, pair = text.partition("=")
        names = [n.strip() for n in pair.split(",")]
        if not sep or len(names) != 2 or not all(names):
            raise InputError("attainment_pair", text, "must be TASK=A,B (benchmark/task/objectives, then two of its objectives)")
        out[task] = (names[0], names[1])
    return out


def attainment_pairs(finals: pd.DataFrame, chosen: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Per task the two objectives of its attainment surface and Pareto panel: ``chosen`` maps a task
    (``benchmark/task/objectives``) to two of its objectives, in plotting order (y, then x); default
    the task's first two (its error and first cost)."""
    chosen = dict(chosen or {})
    tasks = finals.drop_duplicates(TASK_KEY)
    names = {"/".join(map(str, k)): k for k in tasks[TASK_KEY].itertuples(index=False)}
    for name in chosen:
        if name not in names:
            raise InputError("attainment_pair", name, f"is not a multi-objective task of these runs ({', '.join(sorted(names)) or 'none'})")
    rows = []
    for t in tasks.itertuples(index=False):
        specs = t.specs.split("|")
        name = f"{t.benchmark}/{t.task}/{t.objectives}"
        pair = list(chosen.get(name, specs[:2]))
        for spec in pair:
            if spec not in specs:
                raise InputError(f"attainment_pair.{name}", spec, f"is not an objective of the task ({', '.join(specs)})")
        if pair[0] == pair[1]:
            raise InputError(f"attainment_pair.{name}", ",".join(pair), "names one objective twice")
        i, j = specs.index(pair[0]), specs.index(pair[1])
        columns = t.objectives.split("+")  # the set's column names, as error_objective and cost_objective
        rows.append(dict(zip([*TASK_KEY, *PAIR_COLUMNS], (t.benchmark, t.task, t.objectives, i, j, columns[i], columns[j]), strict=True)))
    return pd.DataFrame(rows, columns=[*TASK_KEY, *PAIR_COLUMNS])


def attainment(
    points: pd.DataFrame, finals: pd.DataFrame, pairs: pd.DataFrame | None = None, percentile: float = EAF_PERCENTILE
) -> pd.DataFrame:
    """Per task and optimizer the ``percentile``% attainment surface over all its seeds (a seed whose
    front is empty attains nothing but counts in the percentage). Two-dimensional, on the task's pair
    (``attainment_pairs``; default its first two objectives): a task with more objectives gets the
    surface of the pair's projection, in the pair's own value columns (the others left empty)."""
    pairs = attainment_pairs(finals) if pairs is None else pairs
    columns = {tuple(row[TASK_KEY]): mo_figures.pair_columns(row) for _, row in pairs.iterrows()}
    cols = [*TASK_KEY, "optimizer", "percentile", "point", *widest(finals)]
    rows = []
    for key, runs in finals.groupby([*TASK_KEY, "optimizer"], sort=True):
        p = points.merge(runs[RUN_KEY], on=RUN_KEY)
        n_seeds = runs["seed"].nunique()
        if p.empty:
            continue
        a, b = columns[key[:-1]]
        pts, sets = p[[a, b]].to_numpy(float), p["seed"].to_numpy()
        present = len(np.unique(sets))
        if present < n_seeds:  # moocore counts the given sets only: rescale the percentile to all seeds
            level = percentile * n_seeds / present
            if level > 100:
                continue
        else:
            level = percentile
        surface = eaf_surface(pts, sets, level)
        for i, (x, y) in enumerate(surface):
            rows.append(dict(zip([*TASK_KEY, "optimizer"], key, strict=True)) | {"percentile": percentile, "point": i, a: x, b: y})
    return pd.DataFrame(rows, columns=cols)


def so_values(so: pd.DataFrame, finals: pd.DataFrame, tables: Tables) -> pd.DataFrame:
    """Single-objective incumbents on each MO task's benchmark task, with the task's objective values."""
    tasks = finals.drop_duplicates(TASK_KEY)[[*TASK_KEY, "specs"]]
    parts = []
    for t in tasks.itertuples(index=False):
        g = so[(so["benchmark"] == t.benchmark) & (so["task"] == t.task)]
        if g.empty:
            continue
        vals = tables.values(t.benchmark, t.task, t.specs.split("|"), g["code"].to_numpy())
        parts.append(with_values(g.assign(objectives=t.objectives), vals))
    cols = ["benchmark", "task", "objectives", "optimizer", "seed", "code", *widest(finals)]
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


AGGREGATE_TABLES = ("finals", "curves", "values_at", "front_points", "so_incumbents", "eaf", "eaf_pairs", "true_fronts")
STATS_TABLES = ("summary_table", "wilcoxon", "wilcoxon_at_time", "friedman", "nemenyi", "device_classes", "latency_saved")
AGGREGATE_FORMATS = {"finals": ("parquet", "csv"), "curves": ("parquet", "csv"), "eaf": ("parquet", "csv"), "eaf_pairs": ("parquet", "csv")}


def mo_aggregate_tables(
    run_dirs: Sequence[Path],
    so_dirs: Sequence[Path] = (),
    tables: Tables | None = None,
    log: TextIO = sys.stderr,
    pairs: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Per run and per task: finals, HV-regret curves, values at fractions of the budget, final fronts
    with their values, attainment surfaces on each task's pair (``pairs``: ``attainment_pairs``), the
    true fronts, and the single-objective incumbents of the same tasks (``so_dirs``: any
    single-objective runs; those of other tasks are ignored)."""
    tables = tables or BenchmarkTables()
    finals, trajs, fronts = mo_frames(load_mo(run_dirs))
    n_tasks = finals.groupby(TASK_KEY).ngroups
    print(f"mo: {len(finals)} runs, {n_tasks} tasks, {finals['optimizer'].nunique()} optimizers", file=log)
    points = front_values(fronts, finals, tables)
    eaf_pairs = attainment_pairs(finals, pairs)
    return {
        "finals": finals,
        "curves": hv_curves(finals, trajs),
        "values_at": values_at(finals, trajs),
        "front_points": points,
        "so_incumbents": so_values(load_so_incumbents(so_dirs), finals, tables),
        "eaf": attainment(points, finals, eaf_pairs),
        "eaf_pairs": eaf_pairs,
        "true_fronts": true_fronts(finals, tables),
    }


def mo_stats_tables(data: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tests and tables from ``mo_aggregate_tables``: Wilcoxon/Holm per task (final and at fractions of
    the budget), Friedman/Nemenyi over every task, device classes, latency saved."""
    finals = data["finals"]
    friedman, nemenyi = mo_friedman(finals)
    return {
        "summary_table": summary_table(finals, friedman),
        "wilcoxon": mo_wilcoxon(finals),
        "wilcoxon_at_time": wilcoxon_at_time(finals, data["values_at"]),
        "friedman": friedman,
        "nemenyi": nemenyi,
        "device_classes": device_class_table(finals),
        "latency_saved": latency_saved(data["front_points"], finals, data["so_incumbents"]),
    }


def mo_tables(
    run_dirs: Sequence[Path],
    so_dirs: Sequence[Path] = (),
    tables: Tables | None = None,
    log: TextIO = sys.stderr,
    pairs: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, pd.DataFrame]:
    data = mo_aggregate_tables(run_dirs, so_dirs, tables, log, pairs)
    return data | mo_stats_tables(data)


def true_fronts(finals: pd.DataFrame, tables: Tables) -> pd.DataFrame:
    parts = []
    for t in finals.drop_duplicates(TASK_KEY).itertuples(index=False):
        f = np.asarray(tables.front(t.benchmark, t.task, t.specs.split("|")), float)
        parts.append(with_values(pd.DataFrame({"benchmark": t.benchmark, "task": [t.task] * len(f), "objectives": t.objectives}), f))
    cols = [*TASK_KEY, *widest(finals)]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def analyse_mo(
    run_dirs: Sequence[Path],
    out_dir: Path,
    so_dirs: Sequence[Path] = (),
    tables: Tables | None = None,
    log: TextIO = sys.stderr,
    pairs: Mapping[str, Sequence[str]] | None = None,
) -> list[Path]:
    """Every table and figure of the MO analysis into ``out_dir`` (tables written together, figures
    rendered into a temporary folder first; wrap in ``io.stage_outputs`` for all-or-nothing)."""
    out_dir = Path(out_dir)
    data = mo_tables(run_dirs, so_dirs, tables, log, pairs)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".mo_figures.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        mo_figures.render(data, tmp, log)
        mo_figures.captions(data, tmp)
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


def figure_stems(benchmarks: Sequence[str], many: Sequence[str] = ()) -> list[str]:
    """Figure stems: the fixed ones, a Pareto figure per benchmark, and per benchmark with a task of
    three objectives or more (``many``) its pairwise projections and parallel coordinates."""
    return [*FIGURES, *(f"pareto_{b}" for b in benchmarks), *(f"{kind}_{b}" for b in many for kind in MANY_FIGURES)]


MANY_FIGURES = ("front_pairs", "parallel_coordinates")
