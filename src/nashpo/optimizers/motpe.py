"""Multi-objective TPE (Ozaki, Tanigaki, Watanabe & Onishi, "Multiobjective tree-structured Parzen
estimator for computationally expensive optimization problems", GECCO 2020; extended in JAIR 2022)
as Optuna implements it: ``TPESampler`` on a study with one ``minimize`` direction per objective,
driven by ``study.ask()``/``study.tell()``.

With several objectives Optuna's TPE splits the trials into "good" and "bad" by non-dominated rank
and, inside the last rank that is split, by hypervolume contribution (MOTPE), then proposes the
candidate with the best density ratio. Each hyperparameter is a ``CategoricalDistribution`` over
its choices (as ``tpe``); the first ``n_startup_trials`` proposals are Optuna's seeded random samples
(origin ``random``), the rest come from MOTPE (origin ``motpe``). ``multivariate`` as in ``tpe``.
Single fidelity; Optuna's INFO logging is turned down to WARNING.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import optuna
from ConfigSpace import Configuration
from optuna.distributions import CategoricalDistribution

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace
from nashpo.optimizers.mo_common import check_int, check_objectives, costs_of


class MOTPE(Optimizer):
    name = "motpe"
    multi_objective = True
    defaults: ClassVar[dict[str, Any]] = {
        "n_startup_trials": 10,  # random trials before MOTPE (Optuna's default)
        "n_ei_candidates": 24,  # candidates drawn from l(x) per proposal (Optuna's default)
        "multivariate": True,  # joint density over the hyperparameters (as tpe; Optuna's default: False)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        for key in ("n_startup_trials", "n_ei_candidates"):
            check_int(cls.name, key, hp[key], 1)
        return hp

    def setup(self) -> None:
        check_objectives(self.name, self.objectives)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():  # multivariate is flagged experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=self.hp["n_startup_trials"],
                n_ei_candidates=self.hp["n_ei_candidates"],
                multivariate=self.hp["multivariate"],
                seed=self.seed,
            )
        self.study = optuna.create_study(directions=["minimize"] * len(self.objectives), sampler=sampler)
        grid = FiniteSpace(self.space)
        self.distributions = {name: CategoricalDistribution(list(c)) for name, c in zip(grid.names, grid.choices, strict=True)}

    def ask(self) -> TrialInfo:
        trial = self.study.ask(self.distributions)
        origin = "random" if trial.number < self.hp["n_startup_trials"] else "motpe"
        return TrialInfo(Configuration(self.space, values=trial.params), self.max_fidelity, origin=origin, token=trial)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.study.tell(info.token, costs_of(value, self.objectives).tolist())
