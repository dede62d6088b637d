"""Multi-objective random search: uniform random configurations, and the non-dominated set of what it was told.

The baseline of multi-objective HPO and NAS benchmarks (e.g. Bergstra & Bengio 2012 for random
search; Morales-Hernández, Van Nieuwenhuyse & Rojas Gonzalez 2022, "A survey on multi-objective
hyperparameter optimization algorithms for machine learning", use it as the reference method):
proposals ignore the objectives entirely. The adapter keeps the non-dominated set of the raw
objective vectors it was told (``self.front``: a list of ``(config, costs)``), as the runner's
trial log does, so a user of the adapter alone also gets its Pareto set.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ConfigSpace import Configuration

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue


def dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """``a`` is no worse than ``b`` in every (minimised) objective and better in one."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


class MORandomSearch(Optimizer):
    name = "mo_rs"
    parallel = "async"  # independent samples: nothing waits for a result
    multi_objective = True
    defaults: ClassVar[dict[str, Any]] = {}

    batch: ClassVar[int] = 256  # ConfigSpace samples batches much faster than single configs

    def setup(self) -> None:
        self.space.seed(self.seed)
        self._queue: list = []
        self.front: list[tuple[Configuration, tuple[float, ...]]] = []

    def ask(self) -> TrialInfo:
        if not self._queue:
            self._queue = self.space.sample_configuration(self.batch)[::-1]
        return TrialInfo(self._queue.pop(), self.max_fidelity, origin="random")

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        costs = tuple(value.costs) or (value.cost,)
        if any(dominates(c, costs) or (c == costs and cfg == info.config) for cfg, c in self.front):
            return
        self.front = [(cfg, c) for cfg, c in self.front if not dominates(costs, c)]
        self.front.append((info.config, costs))
