"""Trial log (one parquet per run) and run record (one JSON per run).

These two files are the single source for every later stage (export, aggregation, stats).

Trial-log columns, one row per trial in the order the trials ended (ties: the order they were asked):

| column | meaning |
|---|---|
| trial | 0-based trial number |
| optimizer, dataset, seed, protocol | run identity (constant within a run) |
| edge_0_1 .. edge_2_3 | the configuration: op per edge |
| arch_str, arch_code, nb201_index | the architecture (index null without the mirror) |
| epochs | fidelity the trial was evaluated at |
| bench_seed | NB201 training seed drawn (-1 = seed mean) |
| objective | minimised objective: validation error in % at ``epochs`` |
| valid_acc | validation accuracy in % at ``epochs`` |
| cost | simulated seconds charged for the trial |
| sim_time | simulated clock when the trial ended (one worker: the cumulative seconds after the trial) |
| start_time, worker | simulated clock when the trial started, and the simulated worker (0..K-1) that ran it |
| opt_time | optimizer's own wall seconds for ask + tell (timing column) |
| origin, status | who proposed the trial, and its outcome |
| inc_trial, inc_arch_code, inc_epochs, inc_valid_acc | incumbent after the trial: best validation at the highest fidelity seen so far |
| inc_valid_acc_200, inc_test_acc_200 | incumbent's 200-epoch validation and test accuracy (what papers report) |

Other families (HPOLib FCNet ``hpolib``, HPOBench MLP ``hpobench``; ``grid_schema``): final values
only, no fidelities and no test split, so the columns are

| column | meaning |
|---|---|
| trial, optimizer, benchmark, dataset, seed, protocol | run identity; ``dataset`` is the task, ``protocol`` is ``final`` |
| one column per hyperparameter | the configuration (strings, integers or floats as in the space) |
| code | the configuration's code in the family's table |
| bench_seed | training seed drawn (-1 = seed mean) |
| objective | minimised objective: the family's validation metric, as a cost (FCNet ``val_loss``; MLP ``1 - val_acc``) |
| one column per metric of the family | the values the query returned (e.g. ``val_acc``, ``train_time``) |
| cost, sim_time, start_time, worker, opt_time, origin, status | as for NB201 (``cost`` = the family's time metric) |
| inc_trial, inc_code, inc_objective | incumbent after the trial: lowest objective so far |
| inc_regret | validation regret: incumbent's objective minus the task's best (oracle, seed means) |
| inc_regret_norm | ``inc_regret`` / (worst - best objective of the task): 0 = oracle, 1 = worst config |
| inc_quantile | share of the task's configurations with a lower objective than the incumbent (seed means): 0 = oracle; scale-free, for ranking across tasks |

Multi-objective runs (``nashpo.runner.fronts``; docs/multi_objective.md) add, after the columns above:

| column | meaning |
|---|---|
| one column per objective (``valid_error``, ``latency_pixel3``, ...) | raw minimised value as observed |
| hv_regret | HV regret of the run's non-dominated set so far at the reference fidelity |
| hv_regret_final | the same set's seed means at 200 epochs vs the 200-epoch true front (NB201; else = hv_regret) |
| front_size | size of that non-dominated set |
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nashpo.atomic import write_json_atomic as write_json_atomic  # re-exported: run records
from nashpo.errors import DataError
from nashpo.space import EDGE_NAMES

TRIALS_FILE = "trials.parquet"
RECORD_FILE = "run.json"
TIMING_COLUMNS = ("opt_time",)
# Added with simulated parallel workers; with one worker they follow from the other columns
# (``one_worker_clock``), so digests written before them skip them.
WORKER_COLUMNS = ("start_time", "worker")
OBJECTIVES = [{"name": "valid_error", "column": "objective", "unit": "%", "lower": 0.0, "upper": 100.0, "optimize": "lower"}]

SCHEMA = pa.schema(
    [
        ("trial", pa.int32()),
        ("optimizer", pa.string()),
        ("dataset", pa.string()),
        ("seed", pa.int64()),
        ("protocol", pa.string()),
        *[(name, pa.string()) for name in EDGE_NAMES],
        ("arch_str", pa.string()),
        ("arch_code", pa.int32()),
        ("nb201_index", pa.int32()),
        ("epochs", pa.int32()),
        ("bench_seed", pa.int32()),
        ("objective", pa.float64()),
        ("valid_acc", pa.float64()),
        ("cost", pa.float64()),
        ("sim_time", pa.float64()),
        ("start_time", pa.float64()),
        ("worker", pa.int32()),
        ("opt_time", pa.float64()),
        ("origin", pa.string()),
        ("status", pa.string()),
        ("inc_trial", pa.int32()),
        ("inc_arch_code", pa.int32()),
        ("inc_epochs", pa.int32()),
        ("inc_valid_acc", pa.float64()),
        ("inc_valid_acc_200", pa.float64()),
        ("inc_test_acc_200", pa.float64()),
    ]
)


GRID_RUN_COLUMNS = ("trial", "optimizer", "benchmark", "dataset", "seed", "protocol")
GRID_TRIAL_COLUMNS = ("code", "bench_seed", "objective")
GRID_TAIL_COLUMNS = (
    "cost",
    "sim_time",
    "start_time",
    "worker",
    "opt_time",
    "origin",
    "status",
    "inc_trial",
    "inc_code",
    "inc_objective",
    "inc_regret",
    "inc_regret_norm",
    "inc_quantile",
)
_TYPES = {
    "trial": pa.int32(),
    "seed": pa.int64(),
    "code": pa.int64(),
    "bench_seed": pa.int32(),
    "inc_trial": pa.int32(),
    "inc_code": pa.int64(),
}
_STRINGS = ("optimizer", "benchmark", "dataset", "protocol", "origin", "status")


def grid_schema(params: Sequence[tuple[str, Sequence[Any]]], metrics: Sequence[str]) -> pa.Schema:
    """Trial-log schema of a family without fidelities: run columns, one column per hyperparameter
    (typed by its choices), code, objective, one column per metric, clock and incumbent columns."""

    def param_type(choices: Sequence[Any]) -> pa.DataType:
        if all(isinstance(c, str) for c in choices):
            return pa.string()
        if all(isinstance(c, int) and not isinstance(c, bool) for c in choices):
            return pa.int64()
        return pa.float64()

    fields = [(n, pa.string() if n in _STRINGS else _TYPES[n]) for n in GRID_RUN_COLUMNS]
    fields += [(name, param_type(choices)) for name, choices in params]
    fields += [(n, _TYPES.get(n, pa.float64())) for n in GRID_TRIAL_COLUMNS]
    fields += [(m, pa.float64()) for m in metrics]
    fields += [(n, pa.string() if n in _STRINGS else _TYPES.get(n, pa.float64())) for n in GRID_TAIL_COLUMNS]
    return pa.schema(fields)


class TrialLog:
    """Column buffers in memory; written once, atomically, at the end of a run."""

    def __init__(self, schema: pa.Schema = SCHEMA) -> None:
        self.schema = schema
        self.columns: dict[str, list[Any]] = {name: [] for name in schema.names}

    def append(self, row: dict[str, Any]) -> None:
        for name, values in self.columns.items():
            values.append(row[name])

    def __len__(self) -> int:
        return len(self.columns["trial"])

    def to_table(self) -> pa.Table:
        schema = self.schema
        return pa.table({name: pa.array(self.columns[name], type=schema.field(name).type) for name in schema.names}, schema=schema)

    def write(self, path: Path) -> None:
        write_parquet_atomic(self.to_table(), path)


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


RERUN_FIX = "delete the run folder and rerun its search"
RECORD_KEYS = ("optimizer", "dataset", "seed", "protocol")  # the run identity every reader needs


def read_trials(run_dir: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The trial log; a missing, unreadable or empty file, or one without ``columns`` (default: all of
    the schema), is a DataError naming it."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / TRIALS_FILE
    if not path.is_file():
        raise DataError(path, "trial log is missing", RERUN_FIX)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise DataError(path, f"trial log is unreadable ({type(exc).__name__}: {_first_line(exc)})", RERUN_FIX) from exc
    if columns is None:
        grid = "benchmark" in frame.columns and bool((frame["benchmark"] != "nb201").any())
        columns = (*GRID_RUN_COLUMNS, *GRID_TRIAL_COLUMNS, *GRID_TAIL_COLUMNS) if grid else SCHEMA.names
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise DataError(path, f"trial log lacks column(s) {', '.join(missing)}", RERUN_FIX)
    if frame.empty:
        raise DataError(path, "trial log holds 0 trials", RERUN_FIX)
    return frame


def read_record(run_dir: Path) -> dict[str, Any]:
    """The run record; a missing or garbled file, or one without the run's identity, is a DataError."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / RECORD_FILE
    if not path.is_file():
        raise DataError(path, "run record is missing", RERUN_FIX)
    try:
        record = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"run record is not valid JSON ({_first_line(exc)})", RERUN_FIX) from exc
    if not isinstance(record, dict):
        raise DataError(path, f"run record holds a JSON {type(record).__name__}, not an object", RERUN_FIX)
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise DataError(path, f"run record lacks {', '.join(missing)}", RERUN_FIX)
    return record


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def one_worker_clock(trials: pd.DataFrame) -> bool:
    """Whether a log's worker columns are those of one worker: worker 0, each trial starting when
    the one before it ended (the first at 0)."""
    ends = trials["sim_time"].to_numpy(float)
    starts = trials["start_time"].to_numpy(float)
    return bool((trials["worker"] == 0).all() and (starts[1:] == ends[:-1]).all() and (len(starts) == 0 or starts[0] == 0.0))


def log_digest(trials: pd.DataFrame, skip: Sequence[str] = TIMING_COLUMNS + WORKER_COLUMNS) -> str:
    """sha256 of a trial log's values and column names in order, without the ``skip`` columns (by
    default the wall-clock ``opt_time`` and the worker columns, checked by ``one_worker_clock``).

    Floats are hashed as float64 bytes (NaN canonical), integers as int64, strings with a marker for
    nulls: equal values give equal digests whatever the parquet encoding or pandas dtype."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for name in trials.columns:
        if name in skip:
            continue
        column = trials[name]
        digest.update(f"\x1e{name}\x1f".encode())
        if pd.api.types.is_bool_dtype(column) or (pd.api.types.is_integer_dtype(column) and not column.isna().any()):
            digest.update(b"i" + column.to_numpy(np.int64).tobytes())
        elif pd.api.types.is_numeric_dtype(column):
            values = column.to_numpy(np.float64, na_value=np.nan)
            digest.update(b"f" + np.where(np.isnan(values), np.nan, values).tobytes())
        else:
            digest.update(b"s" + "\x1f".join("\x00" if v is None or v is pd.NA else str(v) for v in column.tolist()).encode())
    return digest.hexdigest()
