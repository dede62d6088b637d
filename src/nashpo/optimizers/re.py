"""Regularized (aging) evolution, Real et al. 2019, with the NB201 paper's settings.

The first ``population_size`` proposals are uniform random architectures (origin ``random``).
After that, each proposal samples ``sample_size`` members of the population uniformly without
replacement, takes the one with the lowest objective as parent and mutates it (origin
``mutation``); every evaluated architecture joins the population and the oldest member is
removed once it holds more than ``population_size`` (aging, not removal of the worst).

Defaults follow the NB201 paper's REA runs (AutoDL-Projects ``R-EA.sh``/``REA.py``:
``--ea_population 10 --ea_sample_size 3``). Mutation picks one of the six edges uniformly and
replaces its op by one of the four other ops uniformly (Real et al.'s "op mutation"; AutoDL picks a
node first, which favours the edge into node 1). Single fidelity, all randomness from one
seeded numpy Generator.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.space import N_ARCHS, N_EDGES, N_OPS, code_to_config, code_to_ops, config_to_code, ops_to_code


def mutate(code: int, rng: np.random.Generator) -> int:
    """Replace the op of one uniformly drawn edge by a uniformly drawn different op."""
    ops = list(code_to_ops(code))
    edge = int(rng.integers(N_EDGES))
    ops[edge] = (ops[edge] + 1 + int(rng.integers(N_OPS - 1))) % N_OPS
    return ops_to_code(ops)


class RegularizedEvolution(Optimizer):
    name = "re"
    defaults: ClassVar[dict[str, Any]] = {
        "population_size": 10,  # members kept alive (NB201 paper: 10)
        "sample_size": 3,  # tournament size: candidates drawn per parent choice (NB201 paper: 3)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        if hp["population_size"] < 2:
            raise InputError("re.population_size", hp["population_size"], "must be at least 2")
        if not 1 <= hp["sample_size"] <= hp["population_size"]:
            raise InputError("re.sample_size", hp["sample_size"], f"must be in 1..population_size ({hp['population_size']})")
        return hp

    def setup(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.population: deque[tuple[int, float]] = deque()  # (arch code, objective), oldest first
        self.n_random = 0

    def ask(self) -> TrialInfo:
        if self.n_random < self.hp["population_size"]:
            self.n_random += 1
            return self._trial(int(self.rng.integers(N_ARCHS)), "random")
        picks = self.rng.choice(len(self.population), size=self.hp["sample_size"], replace=False)
        parent = min((self.population[int(i)] for i in picks), key=lambda member: member[1])
        return self._trial(mutate(parent[0], self.rng), "mutation")

    def _trial(self, code: int, origin: str) -> TrialInfo:
        return TrialInfo(code_to_config(code, self.space), self.max_fidelity, origin=origin)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.population.append((config_to_code(info.config), value.cost))
        if len(self.population) > self.hp["population_size"]:
            self.population.popleft()
