"""Optuna's TPE sampler over the six edge categoricals, driven by study.ask()/study.tell()."""

from __future__ import annotations

from typing import Any, ClassVar

import optuna
from optuna.distributions import CategoricalDistribution

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.space import EDGE_NAMES, OPS


class OptunaTPE(Optimizer):
    name = "tpe"
    defaults: ClassVar[dict[str, Any]] = {
        "n_startup_trials": 10,  # random trials before TPE (Optuna default)
        "n_ei_candidates": 24,  # Optuna default
        "multivariate": True,  # joint TPE over the edges (Optuna's default is False)
    }

    def setup(self) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(
            n_startup_trials=self.hp["n_startup_trials"],
            n_ei_candidates=self.hp["n_ei_candidates"],
            multivariate=self.hp["multivariate"],
            seed=self.seed,
        )
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.distributions = {name: CategoricalDistribution(list(OPS)) for name in EDGE_NAMES}

    def ask(self) -> TrialInfo:
        trial = self.study.ask(self.distributions)
        origin = "random" if len(self.study.trials) <= self.hp["n_startup_trials"] else "tpe"
        return TrialInfo(self.space_config(trial.params), self.max_fidelity, origin=origin, token=trial)

    def space_config(self, params: dict[str, str]) -> Any:
        from nashpo.space import code_to_config, config_to_code

        return code_to_config(config_to_code(params), self.space)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.study.tell(info.token, value.cost)
