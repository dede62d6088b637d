"""Multi-objective searches: their tracker in the runner's one loop (``docs/multi_objective.md``).

``nashpo.runner.run_search(..., objectives=[two specs])`` runs the same loop as every search
(same simulated clock, budget rule ``Budget.fits`` and stop record, out-dir rules, the family's
view, ``Family.view``) with a ``MOTracker`` in place of the single-objective tracker
(``nashpo.runner.loop.SingleObjective``, same interface): the optimizer is told every objective
(``TrialValue.costs``, raw minimised values), and the trial log holds every column of a
single-objective log of that family (incumbent by the error objective) plus one column per
objective, ``hv_regret``, ``hv_regret_final`` and ``front_size``.

The run's chosen set after each trial is the non-dominated set of the trials so far that were
evaluated at the reference fidelity (the search fidelity; for multi-fidelity runs the highest
fidelity of the run), as observed. ``hv_regret`` is its HV regret against the true front of that
fidelity; ``hv_regret_final`` that of the same configurations' seed-mean values at 200 epochs
against the 200-epoch true front (NB201; other families: equal to ``hv_regret``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from nashpo.benchmarks.base import Objective, View
from nashpo.objectives import objective_matrix, objective_set_name
from nashpo.optimizers.base import TrialValue
from nashpo.pareto import REF, hypervolume, igd_plus, true_front
from nashpo.runner.progress import Progress

MO_COLUMNS = ("hv_regret", "hv_regret_final", "front_size")


def mo_schema(base: pa.Schema, objs: Sequence[Objective]) -> pa.Schema:
    """A single-objective trial-log schema plus one column per objective and the front columns."""
    fields = list(base) + [pa.field(o.column, pa.float64()) for o in objs if o.column not in base.names]
    fields += [pa.field("hv_regret", pa.float64()), pa.field("hv_regret_final", pa.float64()), pa.field("front_size", pa.int32())]
    return pa.schema(fields)


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


# ------------------------------------------------------------------ the loop's multi-objective part


class MOTracker:
    """What a multi-objective run adds to the runner's loop: every objective told, the run's
    non-dominated set at the reference fidelity, its HV regrets, the extra columns and record fields."""

    def __init__(self, view: View, objs: Sequence[Objective]) -> None:
        self.view, self.objs = view, tuple(objs)
        self.columns = tuple(o.column for o in objs)
        table = view.table
        self.reference = true_front(view.family, table, objs, view.reference_fidelity)
        self.final = true_front(view.family, table, objs, view.final_fidelity) if view.final_fidelity is not None else self.reference
        self.static = objective_matrix(view.family, table, objs, view.reference_fidelity)  # objectives without fidelity
        self.final_values = objective_matrix(view.family, table, objs, view.final_fidelity) if view.final_fidelity is not None else None
        self.front = RunFront(len(objs))
        self.regret = self.regret_final = self.reference.hv  # nothing found yet: HV 0

    def optimizer_arguments(self) -> dict[str, Any]:
        return {"objectives": self.columns}

    def schema(self, base: pa.Schema) -> pa.Schema:
        return mo_schema(base, self.objs)

    def progress(self, stream: Any) -> Progress:
        return Progress(f"{self.view.label} {objective_set_name(self.objs)}", stream, self.status)

    def status(self) -> str:
        return f"front {len(self.front):>4}  hv_regret {self.regret:.6g}"

    def value(self, code: int, res: dict[str, float], cost: float) -> TrialValue:
        """The objectives as observed: from the query's values (a drawn training seed under noise=seed),
        else from the table (NB201's device latencies, which the query does not return)."""
        costs = tuple(float(o.value(res[o.metric])) if o.metric in res else float(self.static[code, j]) for j, o in enumerate(self.objs))
        return TrialValue(cost=costs[0], time=cost, costs=costs)

    def observe(self, n: int, code: int, epochs: int, value: TrialValue) -> dict[str, Any]:
        costs = value.costs
        at_reference = self.view.reference_fidelity is None or epochs == self.view.reference_fidelity
        if at_reference and self.front.add(n, code, np.array(costs)):
            self.regret = self.reference.hv - hypervolume(self.front.points, self.reference)
            if self.final_values is None:
                self.regret_final = self.regret
            else:
                self.regret_final = self.final.hv - hypervolume(self.final_values[self.front.codes], self.final)
        out = dict(zip(self.columns, costs, strict=True))
        out.update(hv_regret=self.regret, hv_regret_final=self.regret_final, front_size=len(self.front))
        return out

    def record(self) -> dict[str, Any]:
        front = self.front
        chosen = []
        for i in np.lexsort(front.points.T[::-1]).tolist() if len(front) else []:
            item = self.view.describe(front.codes[i]) | {"trial": front.trials[i]}
            item.update(zip(self.columns, front.points[i].tolist(), strict=True))
            chosen.append(item)
        objectives = []
        for o in self.objs:
            lower, upper = self.view.bounds(o)
            objectives.append(
                {"name": o.spec, "column": o.column, "metric": o.metric, "unit": o.unit, "label": o.label}
                | {"lower": lower, "upper": upper, "optimize": "lower"}
            )
        return {
            "multi_objective": True,
            "objectives": objectives,
            "objective_set": objective_set_name(self.objs),
            "reference_point": REF,
            "front": self.reference.summary(),
            "final_true_front": self.final.summary(),
            "final_front": chosen,
            "hv_regret": self.regret,
            "hv_regret_final": self.regret_final,
            "igd_plus": igd_plus(front.points, self.reference) if len(front) else math.inf,
        }
