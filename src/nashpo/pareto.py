"""Exact Pareto fronts of a task, hypervolume, HV regret and IGD+ (all via moocore).

Every objective is minimised. Per task (dataset x objective set x fidelity) the **true front** is
the non-dominated set of the seed-mean values of every configuration. Values are normalised by
the true front's ideal and nadir point, ``z = (y - ideal) / (nadir - ideal)``, so the true front
spans [0, 1] in every objective, and the hypervolume is taken against the reference point
``REF = 1.1`` in every normalised objective (points beyond it add nothing).

- ``hypervolume(points, front)``: HV of raw points in that normalised space;
- ``hv_regret(points, front) = front.hv - hypervolume(points, front)`` (0 for the true front);
- ``igd_plus(points, front)``: IGD+ (Ishibuchi et al. 2015) of the points to the true front, normalised.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moocore
import numpy as np

from nashpo.benchmarks import get_family
from nashpo.benchmarks.base import Objective
from nashpo.objectives import objective_matrix, open_task

REF = 1.1


@dataclass(frozen=True)
class TrueFront:
    """The exact front of one task: codes and raw points sorted by the first objective (then the
    second), its ideal and nadir point, and its hypervolume in normalised space."""

    benchmark: str
    task: str
    objectives: tuple[str, ...]  # specs
    fidelity: int | None
    codes: np.ndarray
    points: np.ndarray
    ideal: np.ndarray
    nadir: np.ndarray
    hv: float
    span: np.ndarray = field(repr=False)

    def normalise(self, points: Any) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64).reshape(-1, len(self.ideal)) - self.ideal) / self.span

    def summary(self) -> dict[str, Any]:
        return {
            "ideal": self.ideal.tolist(),
            "nadir": self.nadir.tolist(),
            "hv": self.hv,
            "fidelity": self.fidelity,
            "size": len(self.codes),
        }


def nondominated(points: Any) -> np.ndarray:
    """Mask of the rows no other row dominates (rows with equal values are all kept)."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) == 0:
        return np.zeros(0, dtype=bool)
    return moocore.is_nondominated(pts, keep_weakly=True)


def front_from_matrix(
    values: np.ndarray, benchmark: str = "", task: str = "", objectives: Sequence[str] = (), fidelity: int | None = None
) -> TrueFront:
    """The exact front of a (n_configs, k) matrix of minimised values (row = code)."""
    values = np.asarray(values, dtype=np.float64)
    codes = np.flatnonzero(nondominated(values))
    order = np.lexsort(values[codes].T[::-1])  # first objective, then the second, ...
    codes = codes[order]
    points = values[codes]
    ideal, nadir = points.min(axis=0), points.max(axis=0)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)  # a one-point front: unit scale
    z = (points - ideal) / span
    hv = float(moocore.hypervolume(z, ref=np.full(values.shape[1], REF)))
    return TrueFront(benchmark, task, tuple(objectives), fidelity, codes, points, ideal, nadir, hv, span)


def true_front(
    benchmark: str, task: Any, objs: Sequence[Objective], fidelity: int | None = None, data_dir: str | Path | None = None
) -> TrueFront:
    """The exact front of ``task`` (a name or an opened task) for ``objs`` at ``fidelity`` (default:
    the family's ``default_fidelity``; NB201: 12 epochs, the proxy protocol's search fidelity).
    Cached per opened table."""
    table = open_task(benchmark, task, data_dir)
    if fidelity is None:
        fidelity = get_family(benchmark).default_fidelity
    return _cached_front(benchmark, table, tuple(objs), fidelity)


@functools.lru_cache(maxsize=256)
def _cached_front(benchmark: str, table: Any, objs: tuple[Objective, ...], fidelity: int | None) -> TrueFront:
    values = objective_matrix(benchmark, table, objs, fidelity)
    name = getattr(table, "dataset", None) or table.task
    return front_from_matrix(values, benchmark, name, [o.spec for o in objs], fidelity)


def hypervolume(points: Any, front: TrueFront) -> float:
    """HV of raw minimised points, normalised by ``front``, against ``REF`` (0 for no points)."""
    z = front.normalise(points)
    if len(z) == 0:
        return 0.0
    return float(moocore.hypervolume(z, ref=np.full(z.shape[1], REF)))


def hv_regret(points: Any, front: TrueFront) -> float:
    return front.hv - hypervolume(points, front)


def igd_plus(points: Any, front: TrueFront) -> float:
    """IGD+ of raw points to the true front, both normalised (inf for no points)."""
    z = front.normalise(points)
    if len(z) == 0:
        return float("inf")
    return float(moocore.igd_plus(z, ref=front.normalise(front.points)))
