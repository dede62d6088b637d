"""nashpo run folder (trials.parquet + run.json) -> DeepCAVE run folder.

Format: DeepCAVE's DataFrame format (``trials.csv`` + ``configspace.csv``, read by DeepCAVE's
``DataFrameRun``), because it is the only built-in format that DeepCAVE 1.4.1 loads with trial end
times: its native loader always sets ``end_time = 0``, so Cost over Time would show one point at 0.
``nashpo.json`` beside them keeps the run's identity (optimizer, dataset, seed, protocol, ...),
which the DataFrame format has no place for; ``load_export`` returns the run as DeepCAVE's own
loader reads it, with that meta. ``NashpoRun`` (``load_nashpo_run``; the converter of ``nashpo
deepcave``, ``nashpo deepcave-check`` and ``nashpo.deepcave_config``) reads the same folder with
the run's optimizer, origins, objectives and name (docs/deepcave.md).

Mapping: configuration = the six edge hyperparameters; objectives from run.json (valid_error in %,
bounds 0..100, minimised; DeepCAVE's own DataFrame loader adds a second objective ``Time`` = the
trial's simulated cost, nashpo's converter ``NashpoRun`` does not); budget = fidelity in epochs;
seed = the run seed; start/end time = the trial log's ``start_time``/``sim_time``, the simulated
clock at trial start/end (DeepCAVE measures both from the first trial's start, which is the
clock's 0; with K workers trials overlap, so the last end is the run's clock, not the sum of
costs); status per trial; additional = trial, origin, worker, arch_str, arch_code, nb201_index.
DeepCAVE keeps one trial per (config, budget, seed): an architecture queried twice at the same
fidelity (same lookup, same value) appears once, with its later time.

Other families (HPOLib FCNet, HPOBench MLP; run.json has ``params``): configuration = the family's
hyperparameters. DeepCAVE's DataFrame format has categorical, integer and float hyperparameters
only, so a numeric ordinal is exported as an integer or float range over its choices (log scale
when its positive choices span a factor of 10 or more; default = first choice), and its importance,
PDP and footprint plugins treat it as a number. Objective = the run's objective (FCNet
``val_loss``, MLP ``val_acc_error`` = 1 - val_acc) with the task's best and worst as bounds; no
fidelities, so no budget column (DeepCAVE's budget 0); additional = trial, origin, worker, code and
every metric the query returned.

Multi-objective runs (run.json ``multi_objective``; ``docs/multi_objective.md``): every objective
becomes a DeepCAVE objective, named by its trial-log column (``valid_error``, ``latency_pixel3``,
...), minimised, with the objective's bounds over the task's table; DeepCAVE's own loader adds
``Time`` (the trial's simulated seconds) after them, and trial end times are the simulated clock. The
hv_regret and front_size columns go to ``additional``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace
from ConfigSpace.hyperparameters import CategoricalHyperparameter, FloatHyperparameter, IntegerHyperparameter
from deepcave.runs import Status
from deepcave.runs.converters.dataframe import DataFrameRun
from deepcave.runs.converters.deepcave import DeepCAVERun
from deepcave.runs.objective import Objective
from deepcave.utils.hash import file_to_hash, string_to_hash

from nashpo.errors import InputError
from nashpo.outdir import check_out, finish_out_dir, prepare_out_dir
from nashpo.space import build_configspace
from nashpo.triallog import RECORD_FILE, TRIALS_FILE, read_record, read_trials

TRIALS_CSV = "trials.csv"
CONFIGSPACE_CSV = "configspace.csv"
EXPORT_META = "nashpo.json"
STATUSES = ("SUCCESS", "CRASHED", "TIMEOUT", "MEMORYOUT")
CONFIGSPACE_COLUMNS = ("name", "type", "lower", "upper", "default", "log", "ordered")
META_KEYS = ("optimizer", "dataset", "seed", "protocol", "hyperparameters", "fidelities")
DEEPCAVE_META_KEYS = ("objectives", "budgets", "seeds")  # a DeepCAVE run's own meta; nashpo.json's "objectives" are names


def objective_name(record: dict[str, Any], objective: dict[str, Any]) -> str:
    """DeepCAVE's name of an objective: multi-objective runs use the trial-log column, a plain
    identifier (specs such as ``latency:pixel3`` do not fit DeepCAVE's column pattern)."""
    return objective["column"] if record.get("multi_objective") else objective["name"]


def objectives_from(record: dict[str, Any]) -> list[Objective]:
    return [Objective(objective_name(record, o), lower=o["lower"], upper=o["upper"], optimize=o["optimize"]) for o in record["objectives"]]


def objective_columns(trials: pd.DataFrame, record: dict[str, Any]) -> dict[str, Any]:
    """``metric:...`` columns of every objective of the run, in the run's objective order."""
    return {
        metric_column(objective_name(record, o), o["lower"], o["upper"], o["optimize"]): trials[o["column"]].astype(float)
        for o in record["objectives"]
    }


def mo_additional(trials: pd.DataFrame, record: dict[str, Any]) -> dict[str, Any]:
    if not record.get("multi_objective"):
        return {}
    return {c: trials[c] for c in ("hv_regret", "hv_regret_final", "front_size")}


def writing_dir(out_dir: Path, force: bool, sources: Iterable[Path] = ()) -> Path:
    """The runs' out-dir rule (see ``nashpo.outdir``) for a DeepCAVE export."""
    return prepare_out_dir(out_dir, force, "deepcave", sources)


def metric_column(name: str, lower: float | None, upper: float | None, optimize: str) -> str:
    """Column header DeepCAVE's DataFrame loader parses into an objective."""
    lo = "-inf" if lower is None else _decimal(lower)
    hi = "inf" if upper is None else _decimal(upper)
    return f"metric:{name} [{lo}; {hi}] ({'maximize' if optimize == 'upper' else 'minimize'})"


def _decimal(x: float) -> str:
    """Shortest exact repr, positional: DeepCAVE's header pattern has no exponent notation."""
    text = repr(float(x))
    return np.format_float_positional(float(x), trim="0") if "e" in text else text


def configspace_frame(space: ConfigurationSpace) -> pd.DataFrame:
    """``configspace.csv`` rows for DeepCAVE's DataFrame loader (categorical, integer, float)."""
    rows = []
    for hp in space.values():
        if isinstance(hp, CategoricalHyperparameter):
            items = {f"item_{i}": v for i, v in enumerate(hp.choices)}
            rows.append({"name": hp.name, "type": "categorical", "default": hp.default_value, "ordered": False} | items)
        elif isinstance(hp, (IntegerHyperparameter, FloatHyperparameter)):
            kind = "integer" if isinstance(hp, IntegerHyperparameter) else "float"
            rows.append({"name": hp.name, "type": kind, "lower": hp.lower, "upper": hp.upper, "default": hp.default_value, "log": hp.log})
        else:
            raise InputError("configspace", hp.name, f"hyperparameter type {type(hp).__name__} has no DeepCAVE DataFrame form")
    frame = pd.DataFrame(rows)
    # the loader reads every one of these columns for every row
    return frame.reindex(columns=list(dict.fromkeys([*CONFIGSPACE_COLUMNS, *frame.columns])))


def write_dataframe_run(folder: Path, space: ConfigurationSpace, trials: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Write ``trials`` (columns: config_id, every hyperparameter, metric:..., budget, seed,
    start_time, end_time, status, extra columns as DeepCAVE's ``additional``) into ``folder``."""
    configspace_frame(space).to_csv(folder / CONFIGSPACE_CSV, index=False)
    trials.to_csv(folder / TRIALS_CSV, index=False)  # DeepCAVE's read_csv may be off by one ulp
    (folder / EXPORT_META).write_text(json.dumps(meta, indent=2, default=str) + "\n")


def publish_dataframe(tmp: Path, out_dir: Path) -> Path:
    """Prove loadable with DeepCAVE's own DataFrame loader, then rename into place."""
    try:
        run = DataFrameRun.from_path(tmp)
        if not run.history:
            raise InputError("run", str(out_dir), "has no trials to export")
        finish_out_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def publish(run: DeepCAVERun, tmp: Path, out_dir: Path) -> Path:
    """Save an in-memory DeepCAVE run in DeepCAVE's native format (no end times), checked, renamed into place."""
    try:
        run.save(tmp)
        loadable_history(tmp / "history.jsonl")
        DeepCAVERun.from_path(tmp)
        finish_out_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def loadable_history(path: Path) -> None:
    """Native format: rewrite history.jsonl in the 8-field rows DeepCAVE 1.4.1's loader accepts.

    ``save`` writes 9 fields per trial, but ``load`` inserts a cpu_time at position 6 into any row
    that lacks 11 fields; 8-field rows (end_time dropped) load, with end_time = 0.
    """
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.write_text("".join(json.dumps(row[:6] + row[7:]) + "\n" for row in lines))


def clock_columns(trials: pd.DataFrame) -> dict[str, pd.Series]:
    """DeepCAVE's start_time/end_time: the simulated clock when the trial started and ended (with
    K workers trials overlap, so the last end is the run's wall-clock time, not the sum of costs)."""
    start = trials["start_time"] if "start_time" in trials else trials["sim_time"] - trials["cost"]  # logs before workers
    return {"start_time": start.astype(float), "end_time": trials["sim_time"].astype(float)}


def worker_column(trials: pd.DataFrame) -> dict[str, pd.Series]:
    """The simulated worker that ran each trial (``additional``), for logs that record it."""
    return {"worker": trials["worker"].astype(int)} if "worker" in trials else {}


def trial_rows(trials: pd.DataFrame, record: dict[str, Any], space: ConfigurationSpace) -> pd.DataFrame:
    """Trial log -> DataFrame-format rows, in evaluation order (the first starts the clock at 0)."""
    out: dict[str, Any] = {"config_id": trials["arch_code"].astype(int)}
    for name in space.keys():  # ConfigSpace's own (sorted) order
        out[name] = trials[name].astype(str)
    out.update(objective_columns(trials, record))
    out["budget"] = trials["epochs"].astype(float)
    out["seed"] = trials["seed"].astype(int)
    out.update(clock_columns(trials))
    out["status"] = [s if s in STATUSES else "CRASHED" for s in trials["status"]]
    out["trial"] = trials["trial"].astype(int)
    out["origin"] = trials["origin"].astype(str)
    out.update(worker_column(trials))
    out["arch_str"] = trials["arch_str"]
    out["arch_code"] = trials["arch_code"].astype(int)
    out["nb201_index"] = trials["nb201_index"].astype("Int64")
    out.update(mo_additional(trials, record))
    return pd.DataFrame(out)


def export_space(record: dict[str, Any]) -> ConfigurationSpace:
    """The DeepCAVE form of a grid family's space (``run.json`` ``params``): numeric ordinals as ranges."""
    from ConfigSpace import Float, Integer

    space = ConfigurationSpace(name=record["benchmark"]["family"])
    for p in record["params"]:
        choices = p["choices"]
        if p["kind"] == "categorical" or any(isinstance(c, str) for c in choices):
            space.add(CategoricalHyperparameter(p["name"], [str(c) for c in choices]))
            continue
        lo, hi = min(choices), max(choices)
        log = lo > 0 and hi / lo >= 10
        if all(isinstance(c, int) for c in choices):
            space.add(Integer(p["name"], (int(lo), int(hi)), default=int(choices[0]), log=log))
        else:
            space.add(Float(p["name"], (float(lo), float(hi)), default=float(choices[0]), log=log))
    return space


def grid_trial_rows(trials: pd.DataFrame, record: dict[str, Any], space: ConfigurationSpace) -> pd.DataFrame:
    """Trial log of a family without fidelities -> DataFrame-format rows, in evaluation order."""
    out: dict[str, Any] = {"config_id": trials["code"].astype("int64")}
    for name in space.keys():
        hp = space[name]
        out[name] = trials[name].astype(str) if isinstance(hp, CategoricalHyperparameter) else trials[name]
    out.update(objective_columns(trials, record))
    out["seed"] = trials["seed"].astype(int)
    out.update(clock_columns(trials))
    out["status"] = [s if s in STATUSES else "CRASHED" for s in trials["status"]]
    out["trial"] = trials["trial"].astype(int)
    out["origin"] = trials["origin"].astype(str)
    out.update(worker_column(trials))
    out["code"] = trials["code"].astype("int64")
    for m in record["metrics"]:
        out[m["name"]] = trials[m["name"]].astype(float)
    out.update(mo_additional(trials, record))
    return pd.DataFrame(out)


def trials_to_deepcave(run_dir: Path, out_dir: Path, force: bool = False) -> Path:
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    for name in (TRIALS_FILE, RECORD_FILE):
        if not (run_dir / name).is_file():
            raise InputError("run", str(run_dir), f"is not a nashpo run folder (no {name})")
    check_out(out_dir, force, "deepcave", [run_dir])
    record = read_record(run_dir)
    trials = read_trials(run_dir)
    if trials.empty:
        raise InputError("run", str(run_dir), "has no trials to export")
    if "params" in record:  # a family without fidelities (HPOLib FCNet, HPOBench MLP)
        space = export_space(record)
        rows = grid_trial_rows(trials.sort_values("trial", kind="stable"), record, space)
    else:
        space = build_configspace()
        rows = trial_rows(trials.sort_values("trial", kind="stable"), record, space)
    meta = {k: record[k] for k in META_KEYS}
    meta["benchmark"] = record["benchmark"]["family"]
    meta["name"] = f"{record['optimizer']}-{record['dataset']}-{record['seed']}"
    if "params" in record:
        meta["name"] = f"{record['optimizer']}-{meta['benchmark']}-{record['dataset']}-{record['seed']}"
    if record.get("multi_objective"):
        meta["multi_objective"] = True
        meta["objectives"] = [o["name"] for o in record["objectives"]]
        meta["name"] = f"{record['optimizer']}-{meta['benchmark']}-{record['dataset']}-{record['objective_set']}-{record['seed']}"
    tmp = writing_dir(out_dir, force, [run_dir])
    try:
        write_dataframe_run(tmp, space, rows, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return publish_dataframe(tmp, out_dir)


def is_export(path: Path) -> bool:
    return (Path(path) / TRIALS_CSV).is_file() and (Path(path) / CONFIGSPACE_CSV).is_file()


def load_export(path: Path) -> DataFrameRun:
    """An exported run, loaded with DeepCAVE's DataFrame loader; ``run.meta`` gains nashpo.json's keys."""
    path = Path(path)
    if not is_export(path):
        raise InputError("deepcave", str(path), f"is not a DeepCAVE run folder (no {TRIALS_CSV}); export with `nashpo to-deepcave`")
    run = DataFrameRun.from_path(path)
    meta_file = path / EXPORT_META
    if meta_file.is_file():
        extra = json.loads(meta_file.read_text())
        run.meta.update({k: v for k, v in extra.items() if k not in run.meta})
        run.name = extra.get("name", run.name)
    return run


def load_nashpo_run(path: Path) -> NashpoRun:
    """An exported run as ``nashpo deepcave`` shows it: loaded by ``NashpoRun`` (optimizer as
    prefix, origins, only the run's objectives, named from ``nashpo.json``)."""
    path = Path(path)
    if not is_export(path):
        raise InputError("deepcave", str(path), f"is not a DeepCAVE run folder (no {TRIALS_CSV}); export with `nashpo to-deepcave`")
    return NashpoRun.from_path(path)


class NashpoRun(DataFrameRun):
    """DeepCAVE run converter for nashpo's exports (the DataFrame format plus ``nashpo.json``).

    Against DeepCAVE's own ``DataFrameRun`` it shows what the run was: its optimizer as the run's
    prefix (Overview's "Optimizer", e.g. ``smac (nashpo)``), each configuration's origin (the
    ``origin`` of the first trial that evaluated it), only the run's own objectives (no ``Time``
    objective from the trial's duration; the duration stays end_time - start_time), and the name
    ``nashpo.json`` gives. A DataFrame folder without ``nashpo.json`` loads as DeepCAVE's own
    converter would load it (prefix ``DataFrame``, ``Time`` added, no origins), so this class can
    take ``DataFrameRun``'s place in a DeepCAVE config (``deepcave_converters``).
    """

    prefix = "nashpo"
    _initial_order = 3

    @property
    def hash(self) -> str:
        if self.path is None:
            return ""
        files = [self.path / TRIALS_CSV] + ([self.path / EXPORT_META] if (self.path / EXPORT_META).is_file() else [])
        return string_to_hash(":".join(file_to_hash(f) for f in files))

    @property
    def latest_change(self) -> float:
        if self.path is None:
            return 0
        return max(f.stat().st_mtime for f in (self.path / TRIALS_CSV, self.path / EXPORT_META) if f.is_file())

    @classmethod
    def from_path(cls, path: Path | str) -> NashpoRun:
        path = Path(path)
        meta_file = path / EXPORT_META
        extra = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        objectives = DataFrameRun.load_objectives(path)
        with_time = not extra  # a DataFrame folder of another tool: DeepCAVE's own view
        if with_time:
            objectives.append(Objective("Time"))
        run = cls(
            name=extra.get("name", path.stem),
            configspace=DataFrameRun.load_configspace(path),
            objectives=objectives,
            meta={k: v for k, v in extra.items() if k not in DEEPCAVE_META_KEYS},
        )
        run._path = path
        run.prefix = f"{extra['optimizer']} (nashpo)" if "optimizer" in extra else DataFrameRun.prefix
        run.load_nashpo_trials(path, with_time)
        return run

    def load_nashpo_trials(self, path: Path, with_time: bool) -> None:
        """``trials.csv`` rows as DeepCAVE's DataFrame loader reads them (times from the first
        trial's start, failed trials without costs), with each configuration's origin and, only
        if ``with_time``, the trial's duration as a last cost."""
        trials = pd.read_csv(path / TRIALS_CSV)
        first_start: float | None = None
        for index in trials.index:
            row = trials.loc[index]
            costs: list[float | None] = list(DataFrameRun._extract_costs(row))
            times = DataFrameRun._extract_run_meta(row)
            if first_start is None:
                first_start = times["start_time"]
            start, end = times["start_time"] - first_start, times["end_time"] - first_start
            ok = times["status"] == Status.SUCCESS
            if not ok:
                costs = [None] * len(costs)
            if with_time:
                costs.append(float(end - start) if ok else None)
            additional = DataFrameRun._extract_additional(row, self.configspace)
            origin = additional.get("origin") if not with_time else None
            self.add(
                costs=costs,
                config=DataFrameRun._extract_config(row, self.configspace),
                budget=DataFrameRun._extract_budget(row),
                seed=DataFrameRun._extract_seed(row),
                start_time=start,
                end_time=end,
                status=times["status"],
                origin=None if origin is None else str(origin),
                additional=additional,
            )


def deepcave_converters(converters: list[type]) -> list[type]:
    """A DeepCAVE config's ``CONVERTERS`` with ``NashpoRun`` in ``DataFrameRun``'s place. DeepCAVE
    tries every converter on a folder and keeps the last that loads it, so both cannot be listed."""
    return [NashpoRun if c is DataFrameRun else c for c in converters if c is not NashpoRun]
