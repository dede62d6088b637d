"""Pieces shared by the multi-objective adapters (``nsga2``, ``linas``, ``parego``, ``motpe``, ``mo_smac_mf``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from nashpo.errors import InputError
from nashpo.optimizers.base import TrialValue


def check_objectives(name: str, objectives: tuple[str, ...]) -> None:
    """A multi-objective adapter needs at least two objective columns."""
    if len(objectives) < 2:
        raise InputError("objectives", ",".join(objectives), f"{name} is multi-objective; give at least two objectives")


def costs_of(value: TrialValue, objectives: tuple[str, ...]) -> np.ndarray:
    """The trial's minimised objectives in the run's order (raw values, as the runner tells them)."""
    if len(value.costs) != len(objectives):
        raise RuntimeError(f"told {len(value.costs)} objective values {value.costs}, expected {len(objectives)} ({', '.join(objectives)})")
    return np.asarray(value.costs, dtype=float)


def check_int(name: str, key: str, value: Any, lo: int) -> None:
    if value < lo:
        raise InputError(f"{name}.{key}", value, f"must be at least {lo}")


def check_probability(name: str, key: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InputError(f"{name}.{key}", value, "must be a number in [0, 1]" + (" (or null)" if allow_none else ""))


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (minimised) that no other row dominates."""
    points = np.asarray(points, dtype=float)
    le = (points[:, None, :] <= points[None, :, :]).all(axis=2)
    lt = (points[:, None, :] < points[None, :, :]).any(axis=2)
    dominated = (le & lt).any(axis=0)  # row j is dominated if some row i is <= everywhere and < somewhere
    return ~dominated


def write_json(data: Any, path: Path) -> None:
    """Atomic JSON write into the optimizer's workdir."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=True) + "\n")
    os.replace(tmp, path)
