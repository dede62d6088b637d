"""Regularized (aging) evolution, Real et al. 2019, with the NB201 paper's settings.

The first ``population_size`` proposals are uniform random architectures (origin ``random``).
After that, each proposal samples ``sample_size`` members of the population uniformly without
replacement, takes the one with the lowest objective as parent and mutates it (origin
``mutation``); every evaluated architecture joins the population and the oldest member is
removed once it holds more than ``population_size`` (aging, not removal of the worst).

Population and tournament sizes follow the NB201 paper's REA runs (AutoDL-Projects ``R-EA.sh``:
``--ea_population 10 --ea_sample_size 3``). Two choices differ between implementations and are
hyperparameters:

- ``tournament``: ``without_replacement`` (default) draws ``sample_size`` distinct members;
  ``with_replacement`` draws them independently, so one member can fill several places, as in
  AutoDL-Projects ``exps/algos/R_EA.py`` (``random.choice`` in a loop).
- ``mutation``: ``edge`` (default) picks one of the six edges uniformly; ``node`` picks one of the
  three intermediate nodes uniformly, then one of its incoming edges, as in AutoDL's
  ``mutate_arch_func``: the edge into node 1 is then mutated with probability 1/3, each edge into
  node 3 with 1/9. Either way the op is replaced by one of the four other ops uniformly.

Why the defaults: a tournament of ``sample_size`` distinct members and every edge equally likely to
mutate are what the two parameters say, whatever the cell's shape; they are also what earlier
nashpo results used. They make ``re`` slightly stronger than AutoDL's REA (about 0.08 pp test
accuracy on cifar10 at 12,000 simulated seconds). ``re_autodl`` is the same optimizer with AutoDL's
two choices as defaults, for comparisons with the NB201 paper's REA row. Single fidelity, all
randomness from one seeded numpy Generator.

Parallel workers (``parallel = "async"``, docs/parallel.md): asynchronous regularized evolution as
Real et al. 2019 ran it (their Algorithm 1, on many workers at once): a free worker samples its
tournament from the population as it is when it asks; results join the population in the order they
arrive. While fewer than ``population_size`` results are in (the initial population is still filling)
a free worker proposes a uniformly random architecture. With one worker this is the sequential
algorithm above: the first ``population_size`` proposals are random, every later one a mutation.

Any finite space (every family): a member is one choice index per hyperparameter
(``nashpo.optimizers.finite``); a random member is a uniformly drawn code. ``mutation: edge`` moves
one hyperparameter, drawn uniformly, to another value: a categorical to one of its other choices
uniformly, an ordinal to a neighbouring value (``finite.mutate_digits``). On the NB201 space this is
exactly the edge mutation above. ``mutation: node`` exists only for the NB201 cell.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace, mutate_digits
from nashpo.space import EDGES, N_EDGES, N_OPS, code_to_ops, ops_to_code

TOURNAMENTS = ("without_replacement", "with_replacement")
MUTATIONS = ("edge", "node")
# Edges (arch-string order) grouped by the node they enter: node 1 <- 0; node 2 <- 0, 1; node 3 <- 0, 1, 2.
NODE_EDGES = tuple(tuple(i for i, (_, b) in enumerate(EDGES) if b == node) for node in (1, 2, 3))


def mutate(code: int, rng: np.random.Generator, mode: str = "edge") -> int:
    """Replace the op of one edge by a uniformly drawn different op.

    ``edge``: the edge is drawn uniformly; ``node``: a node, then one of its incoming edges (AutoDL).
    """
    ops = list(code_to_ops(code))
    if mode == "node":
        incoming = NODE_EDGES[int(rng.integers(len(NODE_EDGES)))]
        edge = incoming[int(rng.integers(len(incoming)))]
    else:
        edge = int(rng.integers(N_EDGES))
    ops[edge] = (ops[edge] + 1 + int(rng.integers(N_OPS - 1))) % N_OPS
    return ops_to_code(ops)


class RegularizedEvolution(Optimizer):
    name = "re"
    parallel = "async"  # asynchronous aging evolution (Real et al. 2019); random while the population fills
    defaults: ClassVar[dict[str, Any]] = {
        "population_size": 10,  # members kept alive (NB201 paper: 10)
        "sample_size": 3,  # tournament size: candidates drawn per parent choice (NB201 paper: 3)
        "tournament": "without_replacement",  # or with_replacement (AutoDL R_EA.py)
        "mutation": "edge",  # or node (AutoDL R_EA.py)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        if hp["population_size"] < 2:
            raise InputError(f"{cls.name}.population_size", hp["population_size"], "must be at least 2")
        if not 1 <= hp["sample_size"] <= hp["population_size"]:
            raise InputError(f"{cls.name}.sample_size", hp["sample_size"], f"must be in 1..population_size ({hp['population_size']})")
        if hp["tournament"] not in TOURNAMENTS:
            raise InputError(f"{cls.name}.tournament", hp["tournament"], f"unknown; choose from {', '.join(TOURNAMENTS)}")
        if hp["mutation"] not in MUTATIONS:
            raise InputError(f"{cls.name}.mutation", hp["mutation"], f"unknown; choose from {', '.join(MUTATIONS)}")
        return hp

    def setup(self) -> None:
        self.grid = FiniteSpace(self.space)
        if self.hp["mutation"] == "node" and not self.grid.is_nb201:
            raise InputError(f"{self.name}.mutation", "node", "needs the NB201 cell space; use edge (one hyperparameter moves)")
        self.rng = np.random.default_rng(self.seed)
        self.population: deque[tuple[int, float]] = deque()  # (code, objective), oldest first
        self.n_told = 0  # results in so far (the population fills with the first population_size)

    def ask(self) -> TrialInfo:
        if self.n_told < self.hp["population_size"]:  # initial population still filling: random
            return self._trial(int(self.rng.integers(self.grid.n_configs)), "random")
        with_replacement = self.hp["tournament"] == "with_replacement"
        picks = self.rng.choice(len(self.population), size=self.hp["sample_size"], replace=with_replacement)
        parent = min((self.population[int(i)] for i in picks), key=lambda member: member[1])
        if self.hp["mutation"] == "node":
            return self._trial(mutate(parent[0], self.rng, "node"), "mutation")
        return self._trial(self.grid.code(mutate_digits(self.grid.digits(parent[0]), self.grid, self.rng)), "mutation")

    def _trial(self, code: int, origin: str) -> TrialInfo:
        return TrialInfo(self.grid.config(self.grid.digits(code)), self.max_fidelity, origin=origin)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.n_told += 1
        self.population.append((self.grid.code(self.grid.digits_of(info.config)), value.cost))
        if len(self.population) > self.hp["population_size"]:
            self.population.popleft()


class AutoDLRegularizedEvolution(RegularizedEvolution):
    """``re`` with AutoDL-Projects' tournament (with replacement) and mutation (node first) as defaults."""

    name = "re_autodl"
    defaults: ClassVar[dict[str, Any]] = {**RegularizedEvolution.defaults, "tournament": "with_replacement", "mutation": "node"}
