"""A finite ConfigurationSpace (categorical and ordinal hyperparameters only) as mixed-radix codes.

Optimizers that work on choice indices (``re``, ``reinforce``, ``tpe``) see any family's space
through this class: a configuration is one choice index (digit) per hyperparameter, and its code
is the mixed-radix number of those digits, first hyperparameter most significant. The order is
the space's own (ConfigSpace sorts names), except for the NB201 cell space, whose edges keep
arch-string order so that a code is the NB201 arch code. Adapters never see a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from ConfigSpace import CategoricalHyperparameter, Configuration, ConfigurationSpace, OrdinalHyperparameter

from nashpo.errors import InputError
from nashpo.space import EDGE_NAMES


class FiniteSpace:
    def __init__(self, space: ConfigurationSpace) -> None:
        names = list(space.keys())
        self.is_nb201 = sorted(names) == sorted(EDGE_NAMES)
        if self.is_nb201:
            names = list(EDGE_NAMES)
        if space.conditions or space.forbidden_clauses:
            raise InputError("space", space.name, "has conditions or forbidden clauses; only plain finite spaces are supported")
        self.space = space
        self.names = tuple(names)
        choices: list[tuple[Any, ...]] = []
        kinds: list[str] = []
        for name in names:
            hp = space[name]
            if isinstance(hp, CategoricalHyperparameter):
                choices.append(tuple(hp.choices))
                kinds.append("categorical")
            elif isinstance(hp, OrdinalHyperparameter):
                choices.append(tuple(hp.sequence))
                kinds.append("ordinal")
            else:
                raise InputError("space", name, f"is a {type(hp).__name__}; only categorical and ordinal hyperparameters are supported")
        self.choices = tuple(choices)
        self.kinds = tuple(kinds)
        self.radices = tuple(len(c) for c in choices)
        self.places = tuple(int(np.prod(self.radices[i + 1 :], dtype=np.int64)) for i in range(len(names)))
        self.n_configs = int(np.prod(self.radices, dtype=np.int64))
        self._index = [{c: i for i, c in enumerate(cs)} for cs in choices]

    def digits(self, code: int) -> list[int]:
        return [code // p % r for p, r in zip(self.places, self.radices, strict=True)]

    def code(self, digits: Sequence[int]) -> int:
        return sum(int(d) * p for d, p in zip(digits, self.places, strict=True))

    def config(self, digits: Sequence[int]) -> Configuration:
        values = {n: cs[int(d)] for n, cs, d in zip(self.names, self.choices, digits, strict=True)}
        return Configuration(self.space, values=values)

    def digits_of(self, config: Configuration) -> list[int]:
        return [index[config[name]] for name, index in zip(self.names, self._index, strict=True)]


def mutate_digits(digits: Sequence[int], space: FiniteSpace, rng: np.random.Generator) -> list[int]:
    """Move one hyperparameter, drawn uniformly, to another value: a categorical to one of its other
    choices uniformly, an ordinal to a neighbouring value (either side with probability 1/2; the only
    neighbour at either end of its sequence)."""
    out = list(digits)
    i = int(rng.integers(len(out)))
    k = space.radices[i]
    if space.kinds[i] == "categorical":
        out[i] = (out[i] + 1 + int(rng.integers(k - 1))) % k
    else:
        step = 1 if int(rng.integers(2)) else -1
        d = out[i] + step
        out[i] = d if 0 <= d < k else out[i] - step
    return out
