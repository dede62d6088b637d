"""What every benchmark family provides: tasks, a finite search space, metrics with a direction,
the objectives a search may minimise, and the runner's view of a search on one of its tasks.

A *family* is one collection of tabular benchmarks over one search space (NB201, HPOLib FCNet,
HPOBench MLP); a *task* is one dataset inside it. Every configuration of a family's finite
space has an integer *code* 0..n_configs-1, the row of the family's per-task table.

Families never advance a clock and never see an optimizer: the runner queries them through a
``View`` the family builds (``Family.view``), the same way for every family.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from nashpo.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    from ConfigSpace import Configuration, ConfigurationSpace

Kind = Literal["categorical", "ordinal"]
Direction = Literal["minimize", "maximize"]
Value = str | int | float

# Hyperparameter names must be plain identifiers: safe as ConfigSpace/SMAC/DEHB/Optuna names,
# as DeepCAVE and parquet column names, and never clashing with table columns (`@`, `#`, `:`).
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Column names the trial log (``nashpo.triallog``) and the tables use for their own purposes;
# names starting with ``inc_`` are the incumbent's columns.
RESERVED_NAMES = frozenset(
    {
        "trial", "optimizer", "dataset", "benchmark", "task", "seed", "protocol", "arch_str", "arch_code", "nb201_index",
        "epochs", "bench_seed", "objective", "valid_acc", "cost", "sim_time", "start_time", "worker", "opt_time", "origin", "status",
        "code", "fidelity", "budget", "config_id", "time",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Param:
    """One hyperparameter of a finite space: its choices in code-digit order."""

    name: str
    choices: tuple[Value, ...]
    kind: Kind

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name) or self.name in RESERVED_NAMES or self.name.startswith("inc_"):
            raise ValueError(f"hyperparameter name {self.name!r} is not a plain identifier or is reserved")
        if self.kind not in ("categorical", "ordinal"):
            raise ValueError(f"{self.name}: kind {self.kind!r} must be categorical or ordinal")
        if len(set(self.choices)) != len(self.choices) or len(self.choices) < 2:
            raise ValueError(f"{self.name}: choices must be at least two distinct values")
        if self.kind == "ordinal" and any(isinstance(c, str) for c in self.choices):
            raise ValueError(f"{self.name}: ordinal choices must be numbers")

    def index_of(self, value: Any) -> int:
        """Position of ``value`` among the choices; numbers match to 1e-9 relative."""
        if isinstance(value, (bool, np.bool_)):
            raise InputError(self.name, value, f"outside the space; choose from {_show(self.choices)}")
        try:
            return self.choices.index(value)
        except ValueError:
            pass
        if isinstance(value, (int, float, np.integer, np.floating)) and self.kind == "ordinal":
            for i, c in enumerate(self.choices):
                if abs(float(value) - float(c)) <= 1e-9 * max(abs(float(c)), 1e-300):
                    return i
        raise InputError(self.name, value, f"outside the space; choose from {_show(self.choices)}")


@dataclass(frozen=True)
class Metric:
    """One value the data holds per configuration, and which way is better."""

    name: str
    direction: Direction
    unit: str = ""
    description: str = ""

    def best(self, values: np.ndarray) -> int:
        """Row of the best value (first one on ties); NaN never wins."""
        return int(np.nanargmin(values) if self.direction == "minimize" else np.nanargmax(values))


@dataclass(frozen=True)
class Objective:
    """One minimised objective of a family: ``value = offset + scale * table[metric]``."""

    spec: str  # as the user writes it, e.g. "latency:pixel3"
    column: str  # trial-log column, e.g. "latency_pixel3"
    metric: str  # the family table's column (NB201 per-fidelity metrics without "@epochs")
    unit: str
    label: str  # axis label
    offset: float = 0.0
    scale: float = 1.0
    per_fidelity: bool = False  # NB201: the value depends on the evaluated epochs

    def value(self, raw: Any) -> Any:
        return self.offset + self.scale * raw


def _show(choices: Sequence[Value]) -> str:
    return ", ".join(str(c) for c in choices)


@runtime_checkable
class Task(Protocol):
    """One prepared task of a family: the only thing that answers queries."""

    family: str
    task: str
    n_configs: int
    fidelities: list[int] | None

    def query_code(self, code: int, fidelity: int | None = None, rng: np.random.Generator | None = None) -> dict[str, float]:
        """Metrics of one configuration: seed means, or one training seed drawn from ``rng``."""
        ...

    def query_many(self, codes: np.ndarray, fidelity: int | None = None) -> dict[str, np.ndarray]:
        """Vectorised seed means for many codes."""
        ...

    def oracle(self) -> pd.DataFrame:
        """Best value of every metric (seed means), computed from the whole table."""
        ...

    @property
    def provenance(self) -> dict[str, Any]: ...


class View(Protocol):
    """What the runner's one loop asks a family about one search on one of its tasks: the space,
    a configuration's code, the query and its simulated cost, the minimised single objective, the
    trial-log columns of a trial (with the incumbent), progress, and the family's run-record part."""

    family: str
    task: str
    table: Any  # the opened task the objectives are read from
    label: str
    fids: list[int]
    reference_fidelity: int | None  # multi-objective runs: the fidelity whose trials form the front
    final_fidelity: int | None

    def check_budget(self, budget: Any, max_evaluations: int) -> None:
        """Refuse a time budget that even the most expensive trials cannot use up within the cap."""
        ...

    def schema(self) -> Any: ...

    def space(self, seed: int) -> Any: ...

    def encode(self, config: Any) -> int: ...

    def query(self, code: int, epochs: int, rng: np.random.Generator | None) -> tuple[dict[str, float], float]: ...

    def objective(self, res: dict[str, float]) -> float: ...

    def check_noise(self, noise: str) -> None:
        """Refuse a noise the search's data cannot apply (``seed`` without per-seed values)."""
        ...

    def stop(self, code: int, epochs: int, res: dict[str, float], cost: float, sim: float, candidate: bool = True) -> dict[str, Any]:
        """The run record's ``stop`` for a trial that would cross the budget (queried, never charged or logged)."""
        ...

    def row(self, n: int, code: int, epochs: int, res: dict[str, float], candidate: bool = True) -> dict[str, Any]: ...

    def status(self) -> str:
        """The incumbent part of a progress line."""
        ...

    def finish(self, log: Any) -> None: ...

    def describe(self, code: int) -> dict[str, Any]: ...

    def record(self) -> dict[str, Any]: ...

    def bounds(self, objective: Objective) -> tuple[float, float]: ...


@runtime_checkable
class Family(Protocol):
    """A benchmark family: a finite space shared by its tasks, and how to open a task."""

    name: str
    title: str
    tasks: tuple[str, ...]
    params: tuple[Param, ...]
    metrics: tuple[Metric, ...]
    objective: str  # the metric searched on (validation)
    time_metric: str  # simulated seconds charged per query
    fidelities: tuple[int, ...] | None  # None: final values only
    n_seeds: int  # training seeds per configuration in the data (at most)
    n_configs: int

    def check_task(self, task: str) -> str: ...

    def configspace(self, seed: int | None = None) -> ConfigurationSpace: ...

    def encode(self, config: Configuration | Mapping[str, Any]) -> int: ...

    def decode(self, code: int) -> dict[str, Value]: ...

    def open(self, task: str, data_dir: str | Path | None = None, auto_prepare: bool = True) -> Task: ...

    def prepare(self, tasks: Sequence[str] | None = None, data_dir: str | Path | None = None, log: Any = None) -> list[Path]: ...

    def metric(self, name: str) -> Metric: ...

    # ------------------------------------------------------------ searches and objectives
    error_objective: str  # the objective spec every objective set starts with
    default_fidelity: int | None  # where objective values are read when no fidelity is given

    def load(self, task: Any, data_dir: str | Path | None = None, opened: Any = None) -> Any:
        """The opened task a search and the objectives read: a task name is opened (``opened`` is
        reused when it holds that task), an opened task is returned as it is."""
        ...

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
    ) -> View:
        """Check the family's part of a search (protocol, fidelities) and open its view."""
        ...

    def objective_specs(self) -> list[str]:
        """Every objective spec the family accepts."""
        ...

    def find_objective(self, spec: str) -> Objective | None: ...

    def objective_values(self, table: Any, objective: Objective, fidelity: int | None) -> np.ndarray:
        """Seed-mean raw values of ``objective``'s column for every configuration at ``fidelity``."""
        ...


def check_in(field: str, value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InputError(field, value, f"unknown; choose from {', '.join(allowed)}")
    return value


def find_metric(metrics: Sequence[Metric], name: str) -> Metric:
    for m in metrics:
        if m.name == name:
            return m
    raise InputError("metric", name, f"unknown; choose from {', '.join(m.name for m in metrics)}")
