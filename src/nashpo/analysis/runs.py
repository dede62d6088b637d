"""Run records and trial logs of finished searches as one per-run frame, the same for every task.

A task is (family, task, objective set, protocol); a run is a task x optimizer x seed, its identity read
from ``run.json`` (never from the path). Each run has a score trajectory, one value per trial:

- NB201, one objective: ``valid_regret`` / ``test_regret`` in percentage points, the oracle's 200-epoch
  validation / test accuracy (the run record's ``oracle`` block) minus the incumbent's 200-epoch accuracy
  (``inc_valid_acc_200``, ``inc_test_acc_200``), rounded to ``REGRET_DECIMALS`` so that float32 storage
  noise of equal accuracies gives equal regrets; the score is the test regret.
- HPOLib FCNet / HPOBench MLP, one objective: ``valid_regret``, the trial log's ``inc_regret`` (the
  incumbent's objective minus the task's best); the score. A run that ended before its first trial scores
  the task's worst configuration (regret = worst - best, quantile 1).
- Several objectives: ``hv_regret_final`` (the score) and ``hv_regret`` of the trial log.

A run's simulated workers K are ``workers_of`` its record (1 when the record predates them); with K > 1
``sim_time`` is the simulated wall clock when the trial ended.

A run's end on the time axis (``end_time``) is its time budget when the time limit stopped it
(``time_limited``), otherwise its last trial's finish.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nashpo.errors import InputError
from nashpo.space import arch_str
from nashpo.triallog import OBJECTIVES, read_record, read_trials

TASK_KEY = ["family", "task", "objectives", "protocol"]
RUN_KEY = [*TASK_KEY, "optimizer", "seed"]
SCORE = "score"
MO_TASK_KEY = ["benchmark", "task", "objectives"]  # task columns of the multi-objective tables
MO_METRIC = "hv_regret_final"
REGRET_DECIMALS = 6
NB201_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")  # NB201's order in tables and figures
FAMILY_TITLES = {"nb201": "NAS-Bench-201", "hpolib": "HPOLib FCNet", "hpobench": "HPOBench MLP"}
# Kinds of run and the trial-log columns each reads.
NB201, GRID, MO = "nb201", "grid", "mo"
TRIAL_COLUMNS = {
    NB201: ("trial", "sim_time", "inc_trial", "inc_arch_code", "inc_valid_acc_200", "inc_test_acc_200"),
    GRID: ("trial", "sim_time", "inc_regret", "inc_quantile"),
    MO: ("trial", "sim_time", "hv_regret_final", "hv_regret", "front_size"),
}
SCORES = {NB201: ("test_regret", "valid_regret"), GRID: ("valid_regret",), MO: ("hv_regret_final", "hv_regret")}
LATENCY_PREFIX = "latency_"
DEVICE_CLASSES = {  # device classes of NB201's latency objectives
    "GPU": ("1080ti_", "2080ti_", "titanx_", "titanxp_", "titan_rtx_"),
    "CPU": ("gold_", "silver_"),
    "phone": ("pixel2", "pixel3", "essential_ph_1", "samsung_a50", "samsung_s7"),
    "edge": ("raspi4", "eyeriss", "fpga"),
}


@dataclass(frozen=True)
class Runs:
    """``finals``: one row per run (RUN_KEY, kind, n_trials, sim_time, end_time, time_limited, run_dir,
    the scores at the run's end and the kind's own final values); ``trajectories``: one row per trial
    (RUN_KEY, trial, evals, sim_time, the scores); ``records``: run.json per run_dir."""

    finals: pd.DataFrame
    trajectories: pd.DataFrame
    records: dict[str, dict[str, Any]]


def run_kind(record: dict[str, Any]) -> str:
    if record.get("multi_objective"):
        return MO
    return GRID if "params" in record else NB201


def workers_of(record: dict[str, Any]) -> int:
    """The run's simulated workers K (records written before workers existed: 1)."""
    return int(record.get("workers", 1))


def task_of(record: dict[str, Any]) -> tuple[str, str, str, str]:
    """The run's task: its TASK_KEY values (family, task, objective set, protocol)."""
    family = (record.get("benchmark") or {}).get("family", "nb201")
    return family, record["dataset"], objective_set(record), record.get("protocol") or ""


def objective_set(record: dict[str, Any]) -> str:
    """The run's objective-set name: trial-log columns joined by ``+`` (records without objectives: the
    single-objective log's ``objective``)."""
    return "+".join(o["column"] for o in record.get("objectives") or OBJECTIVES)


def run_end(record: dict[str, Any], trials: pd.DataFrame) -> tuple[float, bool]:
    """(end on the time axis, whether the time limit stopped the run)."""
    budget = record.get("budget") or {}
    limit, max_evals = budget.get("max_sim_seconds"), budget.get("max_evals")
    time_limited = limit is not None and (max_evals is None or len(trials) < max_evals)
    end = float(limit) if time_limited else (float(trials["sim_time"].iloc[-1]) if len(trials) else 0.0)
    return end, time_limited


def setting(value: object) -> str:
    """A run setting as one comparable string (JSON for dicts and lists)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def nb201_oracle(record: dict[str, Any], run: Path) -> dict[str, Any]:
    oracle = record.get("oracle") or {}
    if "best_valid_acc" not in oracle:
        raise InputError("runs", str(run), "run.json has no NB201 oracle block (best 200-epoch accuracies): rerun the search")
    return oracle


def objective_device(column: str) -> str | None:
    """``latency_pixel3`` -> ``pixel3``; NB201's own ``latency`` and non-latency columns -> None."""
    return column[len(LATENCY_PREFIX) :] if column.startswith(LATENCY_PREFIX) else None


def device_class(device: str | None) -> str | None:
    """GPU / CPU / phone / edge, None for an unknown device or no device."""
    if device is None:
        return None
    for name, patterns in DEVICE_CLASSES.items():
        if any(device == p or (p.endswith("_") and device.startswith(p)) for p in patterns):
            return name
    return None


def scores(kind: str, record: dict[str, Any], trials: pd.DataFrame, run: Path) -> dict[str, np.ndarray]:
    """The run's score trajectories, one value per trial."""
    if kind == NB201:
        oracle = nb201_oracle(record, run)
        valid = (oracle["best_valid_acc"] - trials["inc_valid_acc_200"].to_numpy(float)).round(REGRET_DECIMALS)
        test = (oracle["best_test_acc"] - trials["inc_test_acc_200"].to_numpy(float)).round(REGRET_DECIMALS)
        return {"test_regret": test, "valid_regret": valid}
    if kind == GRID:
        return {"valid_regret": trials["inc_regret"].to_numpy(float)}
    return {m: trials[m].to_numpy(float) for m in SCORES[MO]}


def kind_finals(kind: str, record: dict[str, Any], trials: pd.DataFrame, last: dict[str, float]) -> dict[str, Any]:
    """The kind's own values at the run's end (beside the scores ``last``)."""
    if kind == NB201:
        t = trials.iloc[-1]
        return {
            "inc_trial": int(t["inc_trial"]),
            "inc_arch_code": int(t["inc_arch_code"]),
            "inc_arch_str": arch_str(int(t["inc_arch_code"])),
            "valid_acc_200": float(t["inc_valid_acc_200"]),
            "test_acc_200": float(t["inc_test_acc_200"]),
        }
    if kind == GRID:
        objective = record["objectives"][0]
        empty = trials.empty
        oracle = record["oracle"]
        return {
            "valid_regret": oracle["worst_objective"] - oracle["best_objective"] if empty else last["valid_regret"],
            "objective": objective["name"],
            "unit": objective.get("unit", ""),
            "quantile": 1.0 if empty else float(trials["inc_quantile"].iloc[-1]),
        }
    columns = [o["column"] for o in record["objectives"]]
    device = objective_device(columns[1]) if len(columns) == 2 else None  # error against one device's latency
    return {
        "specs": "|".join(o["name"] for o in record["objectives"]),
        "error_objective": columns[0],
        "cost_objective": columns[1],
        "device": device,
        "device_class": device_class(device),
        "front_size": int(trials["front_size"].iloc[-1]),
        "igd_plus": float(record.get("igd_plus", np.nan)),
        "front_hv": float((record.get("front") or {}).get("hv", np.nan)),
    }


def load_run(run: Path, kinds: Sequence[str] = (NB201, GRID, MO), refusal: str = "") -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """(final row, trajectory, run record) of one run folder; a run of another kind than ``kinds`` is
    refused with ``refusal`` before its trial log is read."""
    record = read_record(run)
    kind = run_kind(record)
    if kind not in kinds:
        raise InputError("runs", str(run), refusal or f"is a {kind} run, expected {' or '.join(kinds)}")
    trials = read_trials(run, list(TRIAL_COLUMNS[kind])).sort_values("trial", kind="stable").reset_index(drop=True)
    if trials.empty and kind != GRID:
        raise InputError("runs", str(run), "the trial log has no trials")
    ident = dict(zip(TASK_KEY, task_of(record), strict=True)) | {"optimizer": record["optimizer"], "seed": int(record["seed"])}
    end, time_limited = run_end(record, trials)
    score = scores(kind, record, trials, run)
    last = {m: float(v[-1]) if len(v) else np.nan for m, v in score.items()}
    final = (
        ident
        | {"kind": kind, "n_trials": len(trials), "sim_time": float(trials["sim_time"].iloc[-1]) if len(trials) else 0.0}
        | {"end_time": end, "time_limited": time_limited}
        | last
        | kind_finals(kind, record, trials, last)
        | {s: setting(record.get(s)) for s in ("hyperparameters", "noise", "budget", "fidelities")}
        | {"run_dir": str(run)}
    )
    final[SCORE] = final[SCORES[kind][0]]
    trajectory = pd.DataFrame(
        {
            **{k: [v] * len(trials) for k, v in ident.items()},
            "trial": trials["trial"].to_numpy(),
            "evals": np.arange(1, len(trials) + 1),
            "sim_time": trials["sim_time"].to_numpy(float),
            **score,
        }
    )
    return final, trajectory, record


def load_runs(
    run_dirs: Sequence[str | Path],
    key: Sequence[str] = RUN_KEY,
    settings: Sequence[str] = (),
    sort: bool = True,
    kinds: Sequence[str] = (NB201, GRID, MO),
    refusal: str = "",
) -> Runs:
    """Every run of ``run_dirs`` (finals in ``key`` order, or as given without ``sort``); refuses runs of
    another kind than ``kinds`` (with ``refusal``), runs with the same ``key`` and groups (``key`` without
    the seed) whose runs differ in one of ``settings`` (hyperparameters, noise, budget, fidelities)."""
    loaded = [load_run(Path(r), kinds, refusal) for r in run_dirs]
    if not loaded:
        raise InputError("runs", [], "no run folders given")
    key = list(key)
    finals = pd.DataFrame([f for f, _, _ in loaded])
    dup = finals[finals.duplicated(key, keep=False)]
    if not dup.empty:
        raise InputError("runs", sorted(dup["run_dir"]), f"are the same run ({', '.join(key)}) given twice")
    group = [k for k in key if k != "seed"]
    for name, g in finals.groupby(group):
        for s in settings:
            if g[s].nunique() > 1:
                what = "budgets" if s == "budget" else s
                raise InputError(
                    "runs", sorted(g["run_dir"]), f"mix different {what} for {'/'.join(map(str, name))}: {sorted(g[s].unique())}"
                )
    trajectories = pd.concat([t for _, t, _ in loaded], ignore_index=True)
    records = {f["run_dir"]: r for f, _, r in loaded}
    return Runs(finals.sort_values(key, ignore_index=True) if sort else finals, trajectories, records)


def nb201_oracles(runs: Runs) -> pd.DataFrame:
    """Per NB201 dataset the oracle of its run records: best 200-epoch validation and test accuracy
    (refused when the records of one dataset disagree: runs on different tables)."""
    rows: dict[str, dict[str, Any]] = {}
    for f in runs.finals[runs.finals["kind"] == NB201].itertuples():
        o = runs.records[f.run_dir]["oracle"]
        row = {
            "dataset": f.task,
            "epochs": int(o["epochs"]),
            "oracle_valid_acc": float(o["best_valid_acc"]),
            "oracle_valid_arch": o["best_valid_arch"],
            "oracle_test_acc": float(o["best_test_acc"]),
            "test_acc_of_best_valid": float(o["test_acc_of_best_valid"]),
        }
        if rows.setdefault(f.task, row) != row and not all(pd.isna(v) for k, v in row.items() if rows[f.task][k] != v):
            raise InputError("runs", f.run_dir, f"has another NB201 oracle than the other {f.task} runs (searched on another table?)")
    return pd.DataFrame([rows[d] for d in sorted(rows)])
