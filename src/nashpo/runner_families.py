"""What the runner's one search loop needs from each benchmark family (``nashpo.runner``).

A view answers what differs between families: the search space, the code of a configuration, the
query and its simulated cost, the minimised single objective, the trial-log columns of a trial
(with the incumbent: best single objective so far), and the family's part of the run record. The
loop itself (clock, budget rule, ask/tell, timing, trial log, run record) is the same for every
family and for single- and multi-objective runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from nashpo.data.tables import FULL_EPOCHS
from nashpo.errors import InputError
from nashpo.space import EDGE_NAMES, OPS, arch_str, code_to_ops, config_to_code
from nashpo.triallog import OBJECTIVES, SCHEMA, TrialLog, grid_schema

PROTOCOLS = {
    "proxy": 12,  # NB201 paper: search on the 12-epoch schedule, report 200-epoch test
    "full": FULL_EPOCHS,  # search on 200-epoch validation
}


def objective_cost(metric: Any, value: float) -> float:
    """The minimised objective of a family's validation metric: the value itself when it is
    minimised, else its error: ``100 - value`` for a percentage, ``1 - value`` for a fraction."""
    if metric.direction == "minimize":
        return value
    return (100.0 if metric.unit == "%" else 1.0) - value


class NB201View:
    """NB201: the cell space, fidelities in epochs, incumbent = best validation accuracy at the
    highest fidelity seen so far, with its 200-epoch validation and test accuracy."""

    family = "nb201"

    def __init__(self, bench: Any, optimizer: str, seed: int, protocol: str, fids: list[int]) -> None:
        self.bench = self.table = bench
        self.task = bench.dataset
        self.optimizer, self.protocol, self.fids = optimizer, protocol, fids
        self.label = f"{optimizer} {self.task} seed {seed}"
        self.reference_fidelity = max(fids)  # multi-objective runs: the fidelity whose trials form the front
        self.final_fidelity: int | None = FULL_EPOCHS
        self.base = {"optimizer": optimizer, "dataset": self.task, "seed": seed, "protocol": protocol, "status": "SUCCESS"}
        cols = bench.table.columns
        self.v200, self.t200 = cols[f"valid_acc@{FULL_EPOCHS}"], cols.get(f"test_acc@{FULL_EPOCHS}")
        self.inc: dict[str, Any] = {"trial": -1, "code": -1, "epochs": -1, "valid": -math.inf, "v200": math.nan, "t200": math.nan}

    def schema(self) -> pa.Schema:
        return SCHEMA

    def space(self, seed: int) -> Any:
        return self.bench.space(seed)

    def encode(self, config: Any) -> int:
        return config_to_code(config)

    def query(self, code: int, epochs: int, rng: np.random.Generator | None) -> tuple[dict[str, float], float]:
        if epochs not in self.fids:
            raise InputError("epochs", epochs, f"{self.optimizer} asked for a fidelity outside {self.fids}")
        res = self.bench.query_code(code, epochs, rng)
        return res, res["cost"]

    def objective(self, res: dict[str, float]) -> float:
        return 100.0 - res["valid_acc"]

    def stop(self, epochs: int, cost: float, sim: float) -> dict[str, Any]:
        return {"reason": "next trial would cross max_sim_seconds", "epochs": epochs, "cost": cost, "would_end_at": sim + cost}

    def row(self, n: int, code: int, epochs: int, res: dict[str, float]) -> dict[str, Any]:
        """The trial's columns (apart from the clock's); updates the incumbent first."""
        inc = self.inc
        if epochs > inc["epochs"] or (epochs == inc["epochs"] and res["valid_acc"] > inc["valid"]):
            inc.update(trial=n, code=code, epochs=epochs, valid=res["valid_acc"], v200=float(self.v200[code]))
            inc["t200"] = float(self.t200[code]) if self.t200 is not None else math.nan
        row = dict(self.base, trial=n, arch_str=None, arch_code=code, nb201_index=self.bench.index_of(code), epochs=epochs)
        row.update(bench_seed=res.get("seed", -1), objective=100.0 - res["valid_acc"], valid_acc=res["valid_acc"], cost=res["cost"])
        row.update(inc_trial=inc["trial"], inc_arch_code=inc["code"], inc_epochs=inc["epochs"], inc_valid_acc=inc["valid"])
        row.update(inc_valid_acc_200=inc["v200"], inc_test_acc_200=inc["t200"])
        for name, op in zip(EDGE_NAMES, code_to_ops(code), strict=True):
            row[name] = OPS[op]
        return row

    def progress_values(self) -> tuple[float, float]:
        return self.inc["valid"], self.inc["t200"]

    def finish(self, log: TrialLog) -> None:
        log.columns["arch_str"] = [arch_str(c) for c in log.columns["arch_code"]]

    def describe(self, code: int) -> dict[str, Any]:
        return {"code": code, "arch_str": arch_str(code)}

    def record(self) -> dict[str, Any]:
        inc = self.inc
        return {
            "fidelities": self.fids,
            "benchmark": {
                "family": self.family,
                "dataset": self.task,
                "table": str(self.bench.table.path),
                "provenance": self.bench.provenance,
            },
            "dataset": self.task,
            "protocol": self.protocol,
            "search_fidelity": PROTOCOLS[self.protocol],
            "objectives": OBJECTIVES,
            "incumbent": {
                "trial": inc["trial"],
                "arch_code": inc["code"],
                "arch_str": arch_str(inc["code"]) if inc["code"] >= 0 else None,
                "epochs": inc["epochs"],
                "valid_acc": inc["valid"],
                "valid_acc_200": inc["v200"],
                "test_acc_200": inc["t200"],
            },
            "oracle": self.oracle(),
        }

    def oracle(self) -> dict[str, Any]:
        """Best 200-epoch validation and test accuracy over all architectures (seed means), for the
        analysis' regret: the incumbent's 200-epoch accuracy is measured against these."""
        best = int(np.nanargmax(self.v200))
        test = self.t200
        return {
            "epochs": FULL_EPOCHS,
            "best_valid_acc": float(self.v200[best]),
            "best_valid_arch": arch_str(best),
            "best_test_acc": float(np.nanmax(test)) if test is not None else math.nan,
            "test_acc_of_best_valid": float(test[best]) if test is not None else math.nan,
        }

    def bounds(self, objective: Any) -> tuple[float, float]:
        """Bounds of a multi-objective run's objective (``nashpo.objectives.Objective``) for DeepCAVE."""
        if objective.per_fidelity:
            return 0.0, 100.0  # validation error in %
        values = objective.value(self.bench.table.columns[objective.metric])
        return float(np.min(values)), float(np.max(values))


class GridView:
    """A family without fidelities (HPOLib FCNet, HPOBench MLP): the family's time metric on the
    clock, incumbent = lowest objective so far, validation regret against the task's oracle."""

    reference_fidelity: int | None = None
    final_fidelity: int | None = None

    def __init__(self, family: Any, task: Any, optimizer: str, seed: int) -> None:
        self.spec, self.table, self.task = family, task, task.task
        self.family = family.name
        self.fids: list[int] = [0]
        self.label = f"{optimizer} {family.name}/{task.task} seed {seed}"
        self.metric = family.metric(family.objective)
        oracle = task.oracle().set_index("metric").loc[family.objective]
        self.oracle = (float(oracle["best"]), float(oracle["worst"]))
        self.best, self.worst = objective_cost(self.metric, self.oracle[0]), objective_cost(self.metric, self.oracle[1])
        self.span = self.worst - self.best
        self.ranked = np.sort(objective_cost(self.metric, task.query_many(np.arange(family.n_configs))[family.objective]))
        self.metric_names = [m.name for m in family.metrics]
        self.base = {
            "optimizer": optimizer,
            "benchmark": family.name,
            "dataset": task.task,
            "seed": seed,
            "protocol": "final",
            "status": "SUCCESS",
        }
        self.inc: dict[str, Any] = {"trial": -1, "code": -1, "objective": math.inf}

    def schema(self) -> pa.Schema:
        return grid_schema([(p.name, p.choices) for p in self.spec.params], self.metric_names)

    def space(self, seed: int) -> Any:
        return self.spec.configspace(seed)

    def encode(self, config: Any) -> int:
        return self.spec.encode(config)

    def query(self, code: int, epochs: int, rng: np.random.Generator | None) -> tuple[dict[str, float], float]:
        res = self.table.query_code(code, None, rng)
        return res, res[self.spec.time_metric]

    def objective(self, res: dict[str, float]) -> float:
        return objective_cost(self.metric, res[self.spec.objective])

    def stop(self, epochs: int, cost: float, sim: float) -> dict[str, Any]:
        return {"reason": "next trial would cross max_sim_seconds", "cost": cost, "would_end_at": sim + cost}

    def regret(self) -> float:
        return self.inc["objective"] - self.best if self.inc["code"] >= 0 else math.nan

    def row(self, n: int, code: int, epochs: int, res: dict[str, float]) -> dict[str, Any]:
        objective = self.objective(res)
        if objective < self.inc["objective"]:
            self.inc = {"trial": n, "code": code, "objective": objective}
        regret = self.regret()
        row = dict(self.base, trial=n, code=code, bench_seed=res.get("seed", -1), objective=objective, cost=res[self.spec.time_metric])
        row.update(self.spec.decode(code))
        row.update({m: res[m] for m in self.metric_names})
        row.update(
            inc_trial=self.inc["trial"],
            inc_code=self.inc["code"],
            inc_objective=self.inc["objective"],
            inc_regret=regret,
            inc_regret_norm=regret / self.span if self.span > 0 else 0.0,
            inc_quantile=float(np.searchsorted(self.ranked, self.inc["objective"], side="left")) / len(self.ranked),
        )
        return row

    def progress_values(self) -> tuple[float, float]:
        return self.inc["objective"], self.regret()

    def finish(self, log: TrialLog) -> None:
        pass

    def describe(self, code: int) -> dict[str, Any]:
        return {"code": code, "config": self.spec.decode(code)}

    def record(self) -> dict[str, Any]:
        inc, regret, metric = self.inc, self.regret(), self.metric
        return {
            "fidelities": None,
            "benchmark": {"family": self.family, "dataset": self.task, "table": str(self.table.path), "provenance": self.table.provenance},
            "dataset": self.task,
            "protocol": "final",
            "search_fidelity": None,
            "params": [{"name": p.name, "kind": p.kind, "choices": list(p.choices)} for p in self.spec.params],
            "metrics": [{"name": m.name, "direction": m.direction, "unit": m.unit} for m in self.spec.metrics],
            "time_metric": self.spec.time_metric,
            "objectives": [
                {
                    "name": metric.name if metric.direction == "minimize" else f"{metric.name}_error",
                    "metric": metric.name,
                    "column": "objective",
                    "unit": metric.unit,
                    "lower": self.best,
                    "upper": self.worst,
                    "optimize": "lower",
                }
            ],
            "oracle": {
                "metric": metric.name,
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
                "regret_norm": regret / self.span if self.span > 0 else 0.0,
            },
        }

    def bounds(self, objective: Any) -> tuple[float, float]:
        """Bounds of a multi-objective run's objective over every training seed of the table, for DeepCAVE."""
        seeds = self.table.columns.get(f"{objective.metric}#seeds")
        values = objective.value(np.asarray(seeds if seeds is not None else self.table.columns[objective.metric], dtype=np.float64))
        return float(np.nanmin(values)), float(np.nanmax(values))
