"""Optuna's TPE sampler over a finite space, driven by ``study.ask()``/``study.tell()``.

Each hyperparameter is a ``CategoricalDistribution`` over its choices (NB201: each edge over the
five ops; an ordinal's sequence is treated as unordered choices, as Optuna has no ordinal type). The first
``n_startup_trials`` proposals are Optuna's seeded random samples (origin ``random``), the rest
come from TPE (origin ``tpe``). ``multivariate=True`` (Optuna's default is False) models the six
edges jointly, as in BOHB's TPE; the edges of a cell interact strongly (e.g. a cell with no
path from input to output is useless whatever its other ops), which independent per-edge
densities cannot capture. Single fidelity; Optuna's INFO logging is turned down to WARNING.

Parallel workers (``parallel = "async"``): Optuna's own parallel TPE. With K > 1 workers the sampler
is ``TPESampler(constant_liar=True)`` (Optuna 4.6 ``optuna/samplers/_tpe/sampler.py``, ``_sample`` and
``_split_trials``: trials still ``RUNNING`` join the "above" group, as if they had the worst value,
so free workers do not propose next to pending ones); results are told in the order they end. With one worker ``constant_liar`` stays
False, Optuna's default. A proposal is random (origin ``random``) while fewer than
``n_startup_trials`` results are in, as Optuna's sampler decides (it counts completed trials).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import optuna
from ConfigSpace import Configuration
from optuna.distributions import CategoricalDistribution

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace


class OptunaTPE(Optimizer):
    name = "tpe"
    parallel = "async"  # Optuna's constant liar for K > 1 (ask with pending trials)
    defaults: ClassVar[dict[str, Any]] = {
        "n_startup_trials": 10,  # random trials before TPE (Optuna's default)
        "n_ei_candidates": 24,  # candidates drawn from l(x) per proposal (Optuna's default)
        "multivariate": True,  # joint density over the edges (Optuna's default: False)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        for key in ("n_startup_trials", "n_ei_candidates"):
            if hp[key] < 1:
                raise InputError(f"{cls.name}.{key}", hp[key], "must be at least 1")
        return hp

    def setup(self) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():  # multivariate is flagged experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=self.hp["n_startup_trials"],
                n_ei_candidates=self.hp["n_ei_candidates"],
                multivariate=self.hp["multivariate"],
                seed=self.seed,
                constant_liar=self.workers > 1,
            )
        self.study = optuna.create_study(directions=["minimize"] * len(self.objectives), sampler=sampler)
        grid = FiniteSpace(self.space)
        self.n_told = 0  # completed trials: Optuna's sampler is random while fewer than n_startup_trials
        self.distributions = {name: CategoricalDistribution(list(c)) for name, c in zip(grid.names, grid.choices, strict=True)}

    def ask(self) -> TrialInfo:
        trial = self.study.ask(self.distributions)
        origin = "random" if self.n_told < self.hp["n_startup_trials"] else self.name
        return TrialInfo(Configuration(self.space, values=trial.params), self.max_fidelity, origin=origin, token=trial)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.n_told += 1
        self.study.tell(info.token, value.cost)
