"""nashpo run folder (trials.parquet + run.json) -> DeepCAVE native run folder.

Mapping: configuration = the six edge hyperparameters; objectives from run.json (valid_error in
%, bounds 0..100, minimised); budget = fidelity in epochs; seed = the run seed; start time = the
simulated clock at trial start, cpu_time = simulated cost (end time: see ``loadable_history``); origin and status per trial; additional =
arch_str, arch_code, nb201_index, trial number. DeepCAVE keeps one trial per (config, budget,
seed): an architecture queried twice at the same fidelity (same lookup, same value) appears once.

DeepCAVE's Recorder writes runs its own loader cannot read, so the run is built with
``DeepCAVERun(...).add(...)`` and ``save()``, then reloaded with ``DeepCAVERun.from_path`` as a check.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from deepcave.runs import Status
from deepcave.runs.converters.deepcave import DeepCAVERun
from deepcave.runs.objective import Objective

from nashpo.errors import InputError
from nashpo.outdir import check_out, finish_out_dir, prepare_out_dir
from nashpo.space import EDGE_NAMES, build_configspace
from nashpo.triallog import RECORD_FILE, TRIALS_FILE, read_record, read_trials

STATUS = {"SUCCESS": Status.SUCCESS, "CRASHED": Status.CRASHED, "TIMEOUT": Status.TIMEOUT, "MEMORYOUT": Status.MEMORYOUT}


def objectives_from(record: dict[str, Any]) -> list[Objective]:
    return [Objective(o["name"], lower=o["lower"], upper=o["upper"], optimize=o["optimize"]) for o in record["objectives"]]


def writing_dir(out_dir: Path, force: bool, sources: Iterable[Path] = ()) -> Path:
    """The runs' out-dir rule (see ``nashpo.outdir``) for a DeepCAVE export."""
    return prepare_out_dir(out_dir, force, "deepcave", sources)


def loadable_history(path: Path) -> None:
    """Rewrite history.jsonl in the row layout DeepCAVE 1.4.1's loader accepts.

    ``DeepCAVERun.save`` writes 9 fields per trial, but ``load`` inserts a cpu_time at position 6
    into any row that lacks 11 fields, so saved rows fail to load. Rows written here have 8 fields
    (end_time dropped); the loader's insert puts 0.0 in end_time. The simulated end time is kept
    in each trial's ``additional["sim_end_time"]``.
    """
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.write_text("".join(json.dumps(row[:6] + row[7:]) + "\n" for row in lines))


def publish(run: DeepCAVERun, tmp: Path, out_dir: Path) -> Path:
    """Save, prove loadable with DeepCAVE's own loader, then rename into place."""
    try:
        run.save(tmp)
        loadable_history(tmp / "history.jsonl")
        DeepCAVERun.from_path(tmp)
        finish_out_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def trials_to_deepcave(run_dir: Path, out_dir: Path, force: bool = False) -> Path:
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    for name in (TRIALS_FILE, RECORD_FILE):
        if not (run_dir / name).is_file():
            raise InputError("run", str(run_dir), f"is not a nashpo run folder (no {name})")
    check_out(out_dir, force, "deepcave", [run_dir])
    record = read_record(run_dir)
    trials = read_trials(run_dir)
    meta = {k: record[k] for k in ("optimizer", "dataset", "seed", "protocol", "hyperparameters", "fidelities")}
    meta["benchmark"] = record["benchmark"]["family"]
    run = DeepCAVERun(
        f"{record['optimizer']}-{record['dataset']}-{record['seed']}",
        configspace=build_configspace(),
        objectives=objectives_from(record),
        meta=meta,
    )
    obj_cols = [o["column"] for o in record["objectives"]]
    for row in trials.itertuples(index=False):
        run.add(
            costs=[float(getattr(row, c)) for c in obj_cols],
            config={e: getattr(row, e) for e in EDGE_NAMES},
            seed=int(row.seed),
            budget=float(row.epochs),
            cpu_time=float(row.cost),
            start_time=float(row.sim_time - row.cost),
            end_time=float(row.sim_time),
            status=STATUS.get(row.status, Status.CRASHED),
            origin=row.origin,
            additional={
                "trial": int(row.trial),
                "sim_end_time": float(row.sim_time),
                "arch_str": row.arch_str,
                "arch_code": int(row.arch_code),
                "nb201_index": None if row.nb201_index is None or row.nb201_index != row.nb201_index else int(row.nb201_index),
            },
        )
    return publish(run, writing_dir(out_dir, force, [run_dir]), out_dir)
