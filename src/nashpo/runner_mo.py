"""The multi-objective search loop: one loop for every family (``docs/multi_objective.md``).

``nashpo.runner.run_search(..., objectives=[two specs])`` comes here. The loop is the
single-objective one with every objective told (``TrialValue.costs``, raw minimised values): same
simulated clock, same budget rule (``Budget.fits``) and stop record, same out-dir rules. A family
*view* (``NB201View``, ``GridView``) answers what differs between families: the space, the code of
a configuration, the query, and the single-objective trial-log columns (incumbent by the error
objective), so a MO trial log holds every column of a single-objective log of that family plus one
column per objective, ``hv_regret``, ``hv_regret_final`` and ``front_size``.

The run's chosen set after each trial is the non-dominated set of the trials so far that were
evaluated at the reference fidelity (the search fidelity; for multi-fidelity runs the highest
fidelity of the run), as observed. ``hv_regret`` is its HV regret against the true front of that
fidelity; ``hv_regret_final`` that of the same configurations' seed-mean values at 200 epochs
against the 200-epoch true front (NB201; other families: equal to ``hv_regret``).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from nashpo.data.tables import FULL_EPOCHS
from nashpo.errors import InputError
from nashpo.objectives import Objective, objective_matrix, objective_set_name
from nashpo.optimizers.base import TrialValue
from nashpo.outdir import discard, finish_out_dir, os_reason, prepare_out_dir
from nashpo.pareto import REF, TrueFront, hypervolume, igd_plus, true_front
from nashpo.runner import (
    MAX_EVALUATIONS,
    OPTIMIZER_DIR,
    PROTOCOLS,
    Budget,
    Progress,
    check_reachable,
    objective_cost,
    run_provenance,
    search_fidelities,
)
from nashpo.space import EDGE_NAMES, OPS, arch_str, code_to_ops, config_to_code
from nashpo.triallog import RECORD_FILE, SCHEMA, TRIALS_FILE, TrialLog, grid_schema, write_json_atomic

MO_COLUMNS = ("hv_regret", "hv_regret_final", "front_size")


def mo_schema(base: pa.Schema, objs: Sequence[Objective]) -> pa.Schema:
    """A single-objective trial-log schema plus one column per objective and the front columns."""
    fields = list(base) + [pa.field(o.column, pa.float64()) for o in objs if o.column not in base.names]
    fields += [pa.field("hv_regret", pa.float64()), pa.field("hv_regret_final", pa.float64()), pa.field("front_size", pa.int32())]
    return pa.schema(fields)


class MOProgress(Progress):
    def line(self, n: int, sim: float, regret: float, size: float) -> str:
        return f"[{self.label}] trials {n:>6}  sim {sim:>12.0f}s  front {int(size):>4}  hv_regret {regret:.6g}"


# ------------------------------------------------------------------ family views


class NB201View:
    """NB201 in the MO loop: the arch space, fidelities in epochs, the NB201 trial-log columns."""

    family = "nb201"

    def __init__(self, bench: Any, optimizer: str, seed: int, protocol: str, fids: list[int]) -> None:
        self.bench, self.task = bench, bench.dataset
        self.protocol, self.fids = protocol, fids
        self.reference_fidelity = max(fids)
        self.final_fidelity = FULL_EPOCHS
        self.base = {"optimizer": optimizer, "dataset": self.task, "seed": seed, "protocol": protocol, "status": "SUCCESS"}
        cols = bench.table.columns
        self.v200, self.t200 = cols[f"valid_acc@{FULL_EPOCHS}"], cols.get(f"test_acc@{FULL_EPOCHS}")
        self.inc: dict[str, Any] = {"trial": -1, "code": -1, "epochs": -1, "valid": -math.inf, "v200": math.nan, "t200": math.nan}

    def schema(self, objs: Sequence[Objective]) -> pa.Schema:
        return mo_schema(SCHEMA, objs)

    def space(self, seed: int) -> Any:
        return self.bench.space(seed)

    def encode(self, config: Any) -> int:
        return config_to_code(config)

    def query(self, code: int, epochs: int, rng: np.random.Generator | None) -> tuple[dict[str, float], float]:
        if epochs not in self.fids:
            raise InputError("epochs", epochs, f"the optimizer asked for a fidelity outside {self.fids}")
        res = self.bench.query_code(code, epochs, rng)
        return res, res["cost"]

    def row(self, n: int, code: int, epochs: int, res: dict[str, float]) -> dict[str, Any]:
        inc = self.inc
        top = inc["epochs"]
        if epochs > top or (epochs == top and res["valid_acc"] > inc["valid"]):
            inc.update(trial=n, code=code, epochs=epochs, valid=res["valid_acc"], v200=float(self.v200[code]))
            inc["t200"] = float(self.t200[code]) if self.t200 is not None else math.nan
        row = dict(self.base, trial=n, arch_str=None, arch_code=code, nb201_index=self.bench.index_of(code), epochs=epochs)
        row.update(bench_seed=res.get("seed", -1), objective=100.0 - res["valid_acc"], valid_acc=res["valid_acc"], cost=res["cost"])
        row.update(inc_trial=inc["trial"], inc_arch_code=inc["code"], inc_epochs=inc["epochs"], inc_valid_acc=inc["valid"])
        row.update(inc_valid_acc_200=inc["v200"], inc_test_acc_200=inc["t200"])
        for name, op in zip(EDGE_NAMES, code_to_ops(code), strict=True):
            row[name] = OPS[op]
        return row

    def finish(self, log: TrialLog) -> None:
        log.columns["arch_str"] = [arch_str(c) for c in log.columns["arch_code"]]

    def describe(self, code: int) -> dict[str, Any]:
        return {"code": code, "arch_str": arch_str(code)}

    def record(self) -> dict[str, Any]:
        inc = self.inc
        return {
            "fidelities": self.fids,
            "benchmark": {
                "family": "nb201",
                "dataset": self.task,
                "table": str(self.bench.table.path),
                "provenance": self.bench.provenance,
            },
            "protocol": self.protocol,
            "search_fidelity": PROTOCOLS[self.protocol],
            "incumbent": {
                "trial": inc["trial"],
                "arch_code": inc["code"],
                "arch_str": arch_str(inc["code"]) if inc["code"] >= 0 else None,
                "epochs": inc["epochs"],
                "valid_acc": inc["valid"],
                "valid_acc_200": inc["v200"],
                "test_acc_200": inc["t200"],
            },
        }

    def bounds(self, obj: Objective) -> tuple[float, float]:
        if obj.per_fidelity:
            return 0.0, 100.0  # validation error in %
        values = objective_matrix("nb201", self.bench, [obj], self.reference_fidelity)[:, 0]
        return float(values.min()), float(values.max())


class GridView:
    """A family without fidelities (HPOLib FCNet, HPOBench MLP) in the MO loop: its grid trial-log columns."""

    def __init__(self, family: Any, task: Any, optimizer: str, seed: int) -> None:
        self.spec, self.table, self.task = family, task, task.task
        self.family = family.name
        self.fids: list[int] = [0]
        self.reference_fidelity = self.final_fidelity = None
        self.metric = family.metric(family.objective)
        oracle = task.oracle().set_index("metric").loc[family.objective]
        self.oracle = (float(oracle["best"]), float(oracle["worst"]))
        self.best, self.worst = (objective_cost(self.metric, v) for v in self.oracle)
        self.ranked = np.sort(objective_cost(self.metric, task.query_many(np.arange(family.n_configs))[family.objective]))
        self.metric_names = [m.name for m in family.metrics]
        self.base = {
            "optimizer": optimizer,
            "benchmark": family.name,
            "dataset": self.task,
            "seed": seed,
            "protocol": "final",
            "status": "SUCCESS",
        }
        self.inc: dict[str, Any] = {"trial": -1, "code": -1, "objective": math.inf}

    def schema(self, objs: Sequence[Objective]) -> pa.Schema:
        return mo_schema(grid_schema([(p.name, p.choices) for p in self.spec.params], self.metric_names), objs)

    def space(self, seed: int) -> Any:
        return self.spec.configspace(seed)

    def encode(self, config: Any) -> int:
        return self.spec.encode(config)

    def query(self, code: int, epochs: int, rng: np.random.Generator | None) -> tuple[dict[str, float], float]:
        res = self.table.query_code(code, None, rng)
        return res, res[self.spec.time_metric]

    def row(self, n: int, code: int, epochs: int, res: dict[str, float]) -> dict[str, Any]:
        objective = objective_cost(self.metric, res[self.spec.objective])
        if objective < self.inc["objective"]:
            self.inc = {"trial": n, "code": code, "objective": objective}
        regret = self.inc["objective"] - self.best
        span = self.worst - self.best
        row = dict(self.base, trial=n, code=code, bench_seed=res.get("seed", -1), objective=objective, cost=res[self.spec.time_metric])
        row.update(self.spec.decode(code))
        row.update({m: res[m] for m in self.metric_names})
        row.update(
            inc_trial=self.inc["trial"],
            inc_code=self.inc["code"],
            inc_objective=self.inc["objective"],
            inc_regret=regret,
            inc_regret_norm=regret / span if span > 0 else 0.0,
            inc_quantile=float(np.searchsorted(self.ranked, self.inc["objective"], side="left")) / len(self.ranked),
        )
        return row

    def finish(self, log: TrialLog) -> None:
        pass

    def describe(self, code: int) -> dict[str, Any]:
        return {"code": code, "config": self.spec.decode(code)}

    def record(self) -> dict[str, Any]:
        inc, span = self.inc, self.worst - self.best
        regret = inc["objective"] - self.best if inc["code"] >= 0 else math.nan
        return {
            "fidelities": None,
            "benchmark": {"family": self.family, "dataset": self.task, "table": str(self.table.path), "provenance": self.table.provenance},
            "protocol": "final",
            "search_fidelity": None,
            "params": [{"name": p.name, "kind": p.kind, "choices": list(p.choices)} for p in self.spec.params],
            "metrics": [{"name": m.name, "direction": m.direction, "unit": m.unit} for m in self.spec.metrics],
            "time_metric": self.spec.time_metric,
            "oracle": {
                "metric": self.metric.name,
                "best": self.oracle[0],
                "worst": self.oracle[1],
                "best_objective": self.best,
                "worst_objective": self.worst,
            },
            "incumbent": {
                "trial": inc["trial"],
                "code": inc["code"],
                "config": self.spec.decode(inc["code"]) if inc["code"] >= 0 else None,
                "objective": inc["objective"] if inc["code"] >= 0 else math.nan,
                "regret": regret,
                "regret_norm": regret / span if span > 0 else 0.0,
            },
        }

    def bounds(self, obj: Objective) -> tuple[float, float]:
        seeds = self.table.columns.get(f"{obj.metric}#seeds")
        values = obj.value(np.asarray(seeds if seeds is not None else self.table.columns[obj.metric], dtype=np.float64))
        return float(np.nanmin(values)), float(np.nanmax(values))


# ------------------------------------------------------------------ the run's non-dominated set


class RunFront:
    """Non-dominated set of the observed points so far (a repeated code with equal values counts once)."""

    def __init__(self, k: int) -> None:
        self.points = np.zeros((0, k))
        self.codes: list[int] = []
        self.trials: list[int] = []

    def add(self, trial: int, code: int, point: np.ndarray) -> bool:
        """Add a point; True when the set changed."""
        P = self.points
        if len(P):
            if np.any(np.all(P <= point, axis=1) & np.any(P < point, axis=1)):
                return False
            same = np.all(P == point, axis=1)
            if any(s and c == code for s, c in zip(same, self.codes, strict=True)):
                return False
            keep = ~(np.all(point <= P, axis=1) & np.any(point < P, axis=1))
            self.points = P[keep]
            self.codes = [c for c, k in zip(self.codes, keep, strict=True) if k]
            self.trials = [t for t, k in zip(self.trials, keep, strict=True) if k]
        self.points = np.vstack([self.points, point[None, :]])
        self.codes.append(code)
        self.trials.append(trial)
        return True

    def __len__(self) -> int:
        return len(self.codes)


# ------------------------------------------------------------------ entry and loop


def run_mo(
    optimizer: str,
    benchmark: str,
    dataset: str,
    seed: int,
    budget: Budget,
    out: Path,
    objs: tuple[Objective, ...],
    protocol: str | None,
    hyperparameters: dict[str, Any],
    fidelities: list[int] | None,
    noise: str,
    data_dir: Path | None,
    force: bool,
    progress: Any,
    bench: Any,
) -> dict[str, Any]:
    """Checks (before anything is written), then the loop in a hidden sibling of ``out``."""
    from nashpo.optimizers import get_optimizer_class

    cls = get_optimizer_class(optimizer)
    if not cls.multi_objective:
        raise InputError("optimizer", optimizer, f"is single-objective; with {len(objs)} objectives use {', '.join(optimizers_of(True))}")
    if benchmark == "nb201":
        from nashpo.benchmark import NB201Benchmark

        protocol = "proxy" if protocol is None else protocol
        if bench is None or getattr(bench, "dataset", None) != dataset:
            bench = NB201Benchmark(dataset, data_dir)
        bench = getattr(bench, "bench", bench)
        fids = search_fidelities(bench, protocol, cls.multi_fidelity, fidelities)
        hp = cls.check_hyperparameters(hyperparameters or {})
        check_reachable(bench, budget, fids)
        view: Any = NB201View(bench, optimizer, seed, protocol, fids)
        table = bench
    else:
        from nashpo.benchmarks import get_family

        family = get_family(benchmark)
        family.check_task(dataset)
        if cls.multi_fidelity:
            raise InputError("optimizer", optimizer, f"is multi-fidelity, but {family.title} ({benchmark}) holds final values only")
        if protocol not in (None, "final"):
            raise InputError(
                "protocol", protocol, f"is NB201's; {family.title} ({benchmark}) holds final values only (omit it or use final)"
            )
        if fidelities:
            raise InputError("fidelities", fidelities, f"{family.title} ({benchmark}) has no fidelities")
        hp = cls.check_hyperparameters(hyperparameters or {})
        if bench is None or getattr(bench, "family", None) != benchmark or bench.task != dataset:
            bench = family.open(dataset, data_dir)
        times = bench.query_many(np.arange(family.n_configs))[family.time_metric]
        if budget.max_evals is None and budget.max_sim_seconds > MAX_EVALUATIONS * float(np.max(times)):
            raise InputError("max_sim_seconds", budget.max_sim_seconds, f"needs more than the safety cap of {MAX_EVALUATIONS} evaluations")
        view = GridView(family, bench, optimizer, seed)
        table = bench
    reference = true_front(benchmark, table, objs, view.reference_fidelity)
    final = true_front(benchmark, table, objs, view.final_fidelity) if view.final_fidelity is not None else reference
    tmp = prepare_out_dir(Path(out), force)
    try:
        record = _mo_loop(view, table, cls, optimizer, seed, budget, hp, noise, objs, reference, final, tmp, Path(out), progress)
        finish_out_dir(tmp, Path(out))
    except OSError as exc:  # full disk, read-only file system ...: one line naming --out, nothing left
        discard(tmp)
        raise InputError("out", str(out), f"cannot be written ({os_reason(exc)})") from exc
    except BaseException:
        discard(tmp)
        raise
    return record


def optimizers_of(multi_objective: bool) -> list[str]:
    """Registered optimizers that are (or are not) multi-objective; imports each adapter (error path only)."""
    from nashpo.optimizers import REGISTRY, get_optimizer_class

    out = []
    for name in REGISTRY:
        try:
            if get_optimizer_class(name).multi_objective == multi_objective:
                out.append(name)
        except ImportError:
            continue
    return out


def _mo_loop(
    view, table, cls, optimizer, seed, budget, hp, noise, objs, reference: TrueFront, final: TrueFront, tmp: Path, out: Path, progress
) -> dict[str, Any]:
    started = dt.datetime.now(dt.UTC)
    t_start = time.perf_counter()
    (tmp / OPTIMIZER_DIR).mkdir()
    columns = tuple(o.column for o in objs)
    opt = cls(view.space(seed), seed, view.fids, tmp / OPTIMIZER_DIR, objectives=columns, **hp)
    t_loop = time.perf_counter()
    setup_seconds = t_loop - t_start
    rng = np.random.default_rng(seed) if noise == "seed" else None
    static = objective_matrix(view.family, table, objs, view.reference_fidelity)  # values that do not depend on the fidelity
    final_values = objective_matrix(view.family, table, objs, view.final_fidelity) if final is not reference else None
    log = TrialLog(view.schema(objs))
    show = MOProgress(f"{optimizer} {view.family}/{view.task} {objective_set_name(objs)} seed {seed}", progress)
    front = RunFront(len(objs))
    regret = regret_final = reference.hv
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
            stop = {"reason": "next trial would cross max_sim_seconds", "cost": cost, "would_end_at": sim + cost}
            if view.reference_fidelity is not None:
                stop["epochs"] = info.epochs
            break
        costs = tuple(float(o.value(res[o.metric])) if o.per_fidelity else float(static[code, j]) for j, o in enumerate(objs))
        t1 = time.perf_counter()
        opt.tell(info, TrialValue(cost=costs[0], time=cost, costs=costs))
        opt_time = t_ask + time.perf_counter() - t1
        sim += cost
        at_reference = view.reference_fidelity is None or info.epochs == view.reference_fidelity
        if at_reference and front.add(n, code, np.array(costs)):
            regret = reference.hv - hypervolume(front.points, reference)
            regret_final = regret if final_values is None else final.hv - hypervolume(final_values[front.codes], final)
        row = view.row(n, code, info.epochs, res)
        row.update(zip(columns, costs, strict=True))
        row.update(
            sim_time=sim, opt_time=opt_time, origin=info.origin, hv_regret=regret, hv_regret_final=regret_final, front_size=len(front)
        )
        log.append(row)
        n += 1
        show(n, sim, regret, len(front))
    loop_seconds = time.perf_counter() - t_loop
    t_close = time.perf_counter()
    opt.close()
    close_seconds = time.perf_counter() - t_close
    show(n, sim, regret, len(front), force=True)
    view.finish(log)
    log.write(tmp / TRIALS_FILE)
    order = np.lexsort(front.points.T[::-1]) if len(front) else np.zeros(0, dtype=int)
    chosen = []
    for i in order.tolist():
        item = view.describe(front.codes[i]) | {"trial": front.trials[i]}
        item.update(zip(columns, front.points[i].tolist(), strict=True))
        chosen.append(item)
    objectives = []
    for o in objs:
        lower, upper = view.bounds(o)
        objectives.append(
            {
                "name": o.spec,
                "column": o.column,
                "metric": o.metric,
                "unit": o.unit,
                "label": o.label,
                "lower": lower,
                "upper": upper,
                "optimize": "lower",
            }
        )
    record = {
        "optimizer": optimizer,
        "hyperparameters": hp,
        "multi_fidelity": cls.multi_fidelity,
        "multi_objective": True,
        "dataset": view.task,
        "seed": seed,
        "noise": noise,
        "budget": asdict(budget),
        **view.record(),
        "objectives": objectives,
        "objective_set": objective_set_name(objs),
        "reference_point": REF,
        "front": {k: v for k, v in reference.summary().items()},
        "final_true_front": final.summary(),
        "final_front": chosen,
        "hv_regret": regret,
        "hv_regret_final": regret_final,
        "igd_plus": igd_plus(front.points, reference) if len(front) else math.inf,
        "n_trials": n,
        "sim_time": sim,
        "stop": stop,
        **run_provenance(started, t_start, setup_seconds, loop_seconds, close_seconds, out),
    }
    write_json_atomic(record, tmp / RECORD_FILE)
    return record
