"""Greedy local search: ``n_random`` uniform configurations, then always a neighbour of the best."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace, mutate_digits


class GreedyLocalSearch(Optimizer):
    name = "greedy"
    defaults: ClassVar[dict[str, Any]] = {"n_random": 5}

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        if hp["n_random"] < 1:
            raise InputError(f"{cls.name}.n_random", hp["n_random"], "must be at least 1")
        return hp

    def setup(self) -> None:
        self.grid = FiniteSpace(self.space)
        self.rng = np.random.default_rng(self.seed)
        self.best: tuple[float, list[int]] | None = None
        self.n = 0

    def ask(self) -> TrialInfo:
        self.n += 1
        if self.best is None or self.n <= self.hp["n_random"]:
            digits = self.grid.digits(int(self.rng.integers(self.grid.n_configs)))
            return TrialInfo(self.grid.config(digits), self.max_fidelity, origin="random")
        return TrialInfo(self.grid.config(mutate_digits(self.best[1], self.grid, self.rng)), self.max_fidelity, origin="neighbour")

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        if self.best is None or value.cost < self.best[0]:
            self.best = (value.cost, self.grid.digits_of(info.config))


class NotAnOptimizer:
    pass
