"""SMAC3's default BO (HyperparameterOptimizationFacade, random forest), driven by ask/tell."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from smac import HyperparameterOptimizationFacade, Scenario
from smac.runhistory.dataclasses import TrialValue as SmacTrialValue

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue


def never_called(config: Any, seed: int = 0, budget: float | None = None) -> float:
    raise RuntimeError("the nashpo runner evaluates trials; SMAC's target function must not run")


class SMACBO(Optimizer):
    name = "smac"
    defaults: ClassVar[dict[str, Any]] = {
        "n_initial_designs": 10,  # Sobol initial design size
        "random_design_probability": 0.2,  # interleaved random configurations (SMAC default)
        "retrain_after": 8,  # refit the random forest every N trials (SMAC default)
        "n_trials": 100_000,  # SMAC's own trial cap; the runner's budget stops the search first
    }

    def setup(self) -> None:
        scenario = Scenario(
            self.space,
            name=f"smac_seed{self.seed}",
            output_directory=self.workdir,
            deterministic=True,
            n_trials=self.hp["n_trials"],
            seed=self.seed,
        )
        facade = HyperparameterOptimizationFacade
        self.smac = facade(
            scenario,
            never_called,
            initial_design=facade.get_initial_design(scenario, n_configs=self.hp["n_initial_designs"]),
            random_design=facade.get_random_design(scenario, probability=self.hp["random_design_probability"]),
            intensifier=facade.get_intensifier(scenario, max_config_calls=1),
            config_selector=facade.get_config_selector(scenario, retrain_after=self.hp["retrain_after"]),
            logging_level=logging.ERROR,
            overwrite=True,
        )

    def ask(self) -> TrialInfo:
        info = self.smac.ask()
        return TrialInfo(info.config, self.max_fidelity, origin=info.config.origin or "smac", token=info)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.smac.tell(info.token, SmacTrialValue(cost=value.cost, time=value.time), save=False)

    def close(self) -> None:
        self.smac.optimizer.save()
