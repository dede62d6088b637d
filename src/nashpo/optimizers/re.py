"""Regularized (aging) evolution, Real et al. 2019, as used in the NB201 paper.

A population of ``population_size`` architectures starts at random. Each step samples
``sample_size`` members uniformly, takes the best as parent, mutates one edge to a different op,
evaluates the child, adds it, and removes the oldest member.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.space import N_EDGES, N_OPS, code_to_config, code_to_ops, config_to_code, ops_to_code


def mutate(code: int, rng: np.random.Generator) -> int:
    """Change one random edge to a different op."""
    ops = list(code_to_ops(code))
    edge = int(rng.integers(N_EDGES))
    ops[edge] = (ops[edge] + 1 + int(rng.integers(N_OPS - 1))) % N_OPS
    return ops_to_code(ops)


class RegularizedEvolution(Optimizer):
    name = "re"
    defaults: ClassVar[dict[str, Any]] = {
        "population_size": 10,  # NB201 paper's REA setting
        "sample_size": 3,  # tournament size (NB201 paper)
    }

    def setup(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.population: deque[tuple[int, float]] = deque()
        if self.hp["population_size"] < 2 or not 1 <= self.hp["sample_size"] <= self.hp["population_size"]:
            from nashpo.errors import InputError

            raise InputError("re.sample_size", self.hp["sample_size"], "must be in 1..population_size (and population_size >= 2)")

    def ask(self) -> TrialInfo:
        if len(self.population) < self.hp["population_size"]:
            code = int(self.rng.integers(N_OPS**N_EDGES))
            return TrialInfo(code_to_config(code, self.space), self.max_fidelity, origin="random")
        idx = self.rng.choice(len(self.population), size=self.hp["sample_size"], replace=False)
        parent = min((self.population[i] for i in idx), key=lambda member: member[1])
        child = mutate(parent[0], self.rng)
        return TrialInfo(code_to_config(child, self.space), self.max_fidelity, origin="mutation")

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.population.append((config_to_code(info.config), value.cost))
        if len(self.population) > self.hp["population_size"]:
            self.population.popleft()
