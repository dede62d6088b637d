"""Objectives of a multi-objective search: spec strings per family, minimised values per configuration.

A spec names one minimised objective of a family (``docs/multi_objective.md``):

| family | spec | trial-log column | value | unit |
|---|---|---|---|---|
| nb201 | ``valid_error`` | ``valid_error`` | 100 - valid_acc at the evaluated fidelity | % |
| nb201 | ``latency:<device>`` (27 HELP devices) | ``latency_<device>`` | HELP latency | ms |
| nb201 | ``latency`` | ``latency`` | NB201's own ``latency_s`` * 1000 | ms |
| nb201 | ``params`` | ``params`` | ``params_mb`` | MB |
| hpolib | ``valid_loss`` | ``valid_loss`` | ``val_loss`` | MSE |
| hpolib | ``model_size`` | ``model_size`` | ``model_size`` | parameters |
| hpobench | ``valid_error`` | ``valid_error`` | 1 - ``val_acc`` | fraction |
| hpobench | ``train_time`` | ``train_time`` | ``train_time`` | s |

The first objective is the family's error objective; exactly two objectives are supported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nashpo.errors import InputError

# HELP (Lee et al. 2021) latency tables of the NB201 space, one per device setting (the mirror's help-latency/).
HELP_DEVICES = (
    "1080ti_1", "1080ti_32", "1080ti_256", "2080ti_1", "2080ti_32", "2080ti_256",
    "titanx_1", "titanx_32", "titanx_256", "titanxp_1", "titanxp_32", "titanxp_256",
    "titan_rtx_1", "titan_rtx_32", "titan_rtx_256",
    "gold_6226", "gold_6240", "silver_4114", "silver_4210r",
    "pixel2", "pixel3", "essential_ph_1", "samsung_a50", "samsung_s7",
    "raspi4", "eyeriss", "fpga",
)  # fmt: skip
NB201_SEARCH_FIDELITY = 12  # the proxy protocol's search fidelity (default fidelity of NB201 fronts)
N_OBJECTIVES = 2


@dataclass(frozen=True)
class Objective:
    """One minimised objective: ``value = offset + scale * table[metric]``."""

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


def _nb201_objective(spec: str) -> Objective | None:
    if spec == "valid_error":
        return Objective(spec, "valid_error", "valid_acc", "%", "validation error (%)", 100.0, -1.0, True)
    if spec == "latency":
        return Objective(spec, "latency", "latency_s", "ms", "latency (ms, NB201)", 0.0, 1000.0)
    if spec == "params":
        return Objective(spec, "params", "params_mb", "MB", "parameters (MB)")
    if spec.startswith("latency:") and spec.split(":", 1)[1] in HELP_DEVICES:
        device = spec.split(":", 1)[1]
        return Objective(spec, f"latency_{device}", f"latency_ms:{device}", "ms", f"latency on {device} (ms)")
    return None


GRID_OBJECTIVES: dict[str, dict[str, Objective]] = {
    "hpolib": {
        "valid_loss": Objective("valid_loss", "valid_loss", "val_loss", "MSE", "validation loss (MSE)"),
        "model_size": Objective("model_size", "model_size", "model_size", "parameters", "model size (parameters)"),
    },
    "hpobench": {
        "valid_error": Objective("valid_error", "valid_error", "val_acc", "fraction", "validation error", 1.0, -1.0),
        "train_time": Objective("train_time", "train_time", "train_time", "s", "training time (s)"),
    },
}
ERROR_OBJECTIVE = {"nb201": "valid_error", "hpolib": "valid_loss", "hpobench": "valid_error"}


def choices(benchmark: str) -> list[str]:
    """Every spec the family accepts."""
    if benchmark == "nb201":
        return ["valid_error", "latency", "params", *(f"latency:{d}" for d in HELP_DEVICES)]
    return list(GRID_OBJECTIVES[benchmark])


def parse_objectives(benchmark: str, spec: str | Sequence[str]) -> tuple[Objective, ...]:
    """A comma-separated string (CLI) or a list (config) -> objectives; errors name ``objectives``."""
    from nashpo.benchmarks import get_family

    get_family(benchmark)  # validates the family name
    if isinstance(spec, str):
        items = [s.strip() for s in spec.split(",")]
    elif isinstance(spec, Sequence) and all(isinstance(s, str) for s in spec):
        items = [s.strip() for s in spec]
    else:
        raise InputError("objectives", spec, "must be a comma-separated string or a list of objective names")
    known = choices(benchmark)
    out: list[Objective] = []
    for item in items:
        obj = _nb201_objective(item) if benchmark == "nb201" else GRID_OBJECTIVES[benchmark].get(item)
        if obj is None:
            raise InputError("objectives", item, f"unknown for {benchmark}; choose from {', '.join(known)}")
        if obj in out:
            raise InputError("objectives", spec if isinstance(spec, str) else list(spec), f"names {item} twice")
        out.append(obj)
    if not out:
        raise InputError("objectives", spec, f"empty; choose from {', '.join(known)}")
    if out[0].spec != ERROR_OBJECTIVE[benchmark]:
        raise InputError("objectives", out[0].spec, f"the first objective must be the error objective {ERROR_OBJECTIVE[benchmark]}")
    if len(out) > N_OBJECTIVES:
        raise InputError("objectives", ",".join(o.spec for o in out), f"exactly {N_OBJECTIVES} objectives are supported")
    return tuple(out)


def objective_set_name(objs: Sequence[Objective]) -> str:
    """Filesystem-safe name of an objective set, e.g. ``valid_error+latency_pixel3``."""
    return "+".join(o.column for o in objs)


def open_task(benchmark: str, task: Any, data_dir: str | Path | None = None) -> Any:
    """An opened task: NB201Benchmark for nb201, the family's GridTask otherwise (a name is opened)."""
    if not isinstance(task, str):
        return getattr(task, "bench", task)  # NB201Task wraps an NB201Benchmark
    if benchmark == "nb201":
        from nashpo.benchmark import NB201Benchmark

        return NB201Benchmark(task, data_dir)
    from nashpo.benchmarks import get_family

    family = get_family(benchmark)
    return family.open(family.check_task(task), data_dir)


def _column(benchmark: str, table: Any, obj: Objective, fidelity: int | None) -> np.ndarray:
    if benchmark == "nb201":
        cols = table.table.columns
        name = f"{obj.metric}@{table.check_fidelity(fidelity)}" if obj.per_fidelity else obj.metric
        values = cols.get(name)
        if values is None:
            raise InputError(
                "objectives", obj.spec, f"needs {name}, which the {table.dataset} table lacks (prepare the data with the NB201 mirror)"
            )
        return values
    if fidelity is not None:
        raise InputError("fidelity", fidelity, f"{benchmark} holds final values only; it has no fidelities")
    return table.columns[obj.metric]


def objective_matrix(
    benchmark: str, task: Any, objs: Sequence[Objective], fidelity: int | None = None, data_dir: str | Path | None = None
) -> np.ndarray:
    """(n_configs, k) seed-mean minimised values of every configuration, in code order.

    ``task``: a task name or an opened task. NB201's error is taken at ``fidelity`` (default: the
    proxy protocol's search fidelity, 12 epochs); other families have no fidelities."""
    table = open_task(benchmark, task, data_dir)
    if benchmark == "nb201" and fidelity is None:
        fidelity = NB201_SEARCH_FIDELITY
    return np.column_stack([o.value(_column(benchmark, table, o, fidelity)) for o in objs]).astype(np.float64)
