"""NSGA-III (Deb & Jain, "An evolutionary many-objective optimization algorithm using
reference-point-based nondominated sorting approach, Part I", IEEE TEC 18(4), 2014) from pymoo 0.6.2.

NSGA-II's crowding distance loses its pull with three objectives or more (most of a population is
mutually non-dominated); NSGA-III keeps the non-dominated sorting and replaces crowding by niching
around a set of reference directions on the unit simplex. Everything else is ``nsga2``'s adapter: the
same integer encoding, operators, no revisits, generations buffered, extra offspring for free workers.

Reference directions: Das and Dennis' systematic simplex lattice (pymoo ``get_reference_directions
("das-dennis", m, n_partitions=p)``), as Deb & Jain use for up to 5 objectives; ``n_partitions``
None picks the p whose number of directions C(m + p - 1, p) is closest to ``pop_size`` (ties: the
larger). The population is max(``pop_size``, number of directions), as Deb & Jain size it to the
directions. ``close()`` writes ``nsga3_generations.json``.
"""

from __future__ import annotations

from math import comb
from typing import Any, ClassVar

import numpy as np
from pymoo.algorithms.moo.nsga3 import NSGA3 as PymooNSGA3
from pymoo.util.ref_dirs import get_reference_directions

from nashpo.errors import InputError
from nashpo.optimizers.mo_common import check_int
from nashpo.optimizers.nsga2 import NSGA2


def simplex_partitions(n_objectives: int, pop_size: int) -> int:
    """The lattice size p whose C(m + p - 1, p) directions come closest to ``pop_size`` (ties: larger p)."""
    best, p = 1, 1
    while comb(n_objectives + p - 1, p) <= 4 * pop_size:
        if abs(comb(n_objectives + p - 1, p) - pop_size) <= abs(comb(n_objectives + best - 1, best) - pop_size):
            best = p
        p += 1
    return best


class NSGA3(NSGA2):
    name = "nsga3"
    defaults: ClassVar[dict[str, Any]] = NSGA2.defaults | {"n_partitions": None}

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        value = hp["n_partitions"]
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{cls.name}.n_partitions", value, "must be a whole number of lattice divisions (or null)")
            check_int(cls.name, "n_partitions", value, 1)
        return hp

    def pymoo_algorithm(self, **operators: Any) -> Any:
        m = len(self.objectives)
        p = self.hp["n_partitions"] or simplex_partitions(m, self.hp["pop_size"])
        self.ref_dirs = np.asarray(get_reference_directions("das-dennis", m, n_partitions=p), float)
        return PymooNSGA3(ref_dirs=self.ref_dirs, pop_size=max(self.hp["pop_size"], len(self.ref_dirs)), **operators)
