"""Objectives of a search: spec strings, objective sets and minimised values per configuration.

A spec names one minimised objective of a family (``docs/multi_objective.md``); each family
declares its own (``Family.objective_specs``, ``Family.find_objective``: NB201's in
``nashpo.benchmarks.nb201``, the grid families' beside their grids). The first objective of a set is
the family's error objective (``Family.error_objective``); a set holds one objective (a
single-objective search) or 2 to ``MAX_OBJECTIVES`` (docs/multi_objective.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nashpo.benchmarks import get_family
from nashpo.benchmarks.base import Objective
from nashpo.errors import InputError

MAX_OBJECTIVES = 6  # exact hypervolume stays fast on the true fronts up to here (benchmarks/hv_dimensions.py)

__all__ = ["MAX_OBJECTIVES", "Objective", "objective_matrix", "objective_set_name", "open_task", "parse_objectives"]


def parse_objectives(benchmark: str, spec: str | Sequence[str]) -> tuple[Objective, ...]:
    """A comma-separated string (CLI) or a list (config) -> objectives; errors name ``objectives``."""
    family = get_family(benchmark)  # validates the family name
    if isinstance(spec, str):
        items = [s.strip() for s in spec.split(",")]
    elif isinstance(spec, Sequence) and all(isinstance(s, str) for s in spec):
        items = [s.strip() for s in spec]
    else:
        raise InputError("objectives", spec, "must be a comma-separated string or a list of objective names")
    known = family.objective_specs()
    out: list[Objective] = []
    for item in items:
        obj = family.find_objective(item)
        if obj is None:
            raise InputError("objectives", item, f"unknown for {benchmark}; choose from {', '.join(known)}")
        if obj in out:
            raise InputError("objectives", spec if isinstance(spec, str) else list(spec), f"names {item} twice")
        out.append(obj)
    if not out:
        raise InputError("objectives", spec, f"empty; choose from {', '.join(known)}")
    if out[0].spec != family.error_objective:
        raise InputError("objectives", out[0].spec, f"the first objective must be the error objective {family.error_objective}")
    if len(out) > MAX_OBJECTIVES:
        raise InputError(
            "objectives", ",".join(o.spec for o in out), f"names {len(out)} objectives; at most {MAX_OBJECTIVES} are supported"
        )
    return tuple(out)


def objective_set_name(objs: Sequence[Objective]) -> str:
    """Filesystem-safe name of an objective set, e.g. ``valid_error+latency_pixel3``."""
    return "+".join(o.column for o in objs)


def open_task(benchmark: str, task: Any, data_dir: str | Path | None = None) -> Any:
    """The opened task the objectives read (``Family.load``): a task name is opened."""
    return get_family(benchmark).load(task, data_dir)


def objective_matrix(
    benchmark: str, task: Any, objs: Sequence[Objective], fidelity: int | None = None, data_dir: str | Path | None = None
) -> np.ndarray:
    """(n_configs, k) seed-mean minimised values of every configuration, in code order.

    ``task``: a task name or an opened task. Per-fidelity objectives are read at ``fidelity``
    (default: the family's ``default_fidelity``; NB201: 12 epochs, the proxy protocol's search fidelity)."""
    family = get_family(benchmark)
    table = family.load(task, data_dir)
    if fidelity is None:
        fidelity = family.default_fidelity
    return np.column_stack([o.value(family.objective_values(table, o, fidelity)) for o in objs]).astype(np.float64)
