"""ParEGO (Knowles, "ParEGO: a hybrid algorithm with on-line landscape approximation for expensive
multiobjective optimization problems", IEEE TEC 10(1), 2006) as SMAC3 2.4.1 implements it:
``smac.multi_objective.parego.ParEGO`` inside the HyperparameterOptimizationFacade (random forest,
log EI, Sobol initial design), driven by ask/tell at a single fidelity.

SMAC normalises each objective by the bounds observed so far and scalarises the normalised vector
with the augmented Tchebycheff function ``max(theta * f) + rho * sum(theta * f)``; ``theta`` is
drawn anew (uniform, normalised to sum 1) each time SMAC refits its model. Knowles' ParEGO draws a
new weight vector for every evaluation, so ``retrain_after`` defaults to 1 here (SMAC's default
is 8): every model-based proposal has its own weights. SMAC's objectives are named after the run's
objective columns (``self.objectives``).

Output: SMAC's run folder ``<workdir>/parego_seed<seed>/<seed>`` (see ``smac_bo``) and
``parego_weights.json``: per trial, SMAC's origin and the weights in force when it was proposed
(null for the initial design, which needs none).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from smac import HyperparameterOptimizationFacade, Scenario
from smac.multi_objective.parego import ParEGO as SmacParEGO
from smac.runhistory.dataclasses import TrialValue as SmacTrialValue
from smac.runhistory.enumerations import StatusType

from nashpo.errors import InputError
from nashpo.optimizers.base import TrialInfo, TrialValue
from nashpo.optimizers.mo_common import check_objectives, costs_of, write_json
from nashpo.optimizers.smac_bo import SMACAskTell

WEIGHTS_FILE = "parego_weights.json"


class SMACMultiObjective(SMACAskTell):
    """SMAC ask/tell with a vector of costs (one per objective) and the ParEGO weights kept per trial."""

    def check_rho(self) -> None:
        rho = self.hp["rho"]
        if not rho > 0:
            raise InputError(f"{self.name}.rho", rho, "must be a positive number")

    def parego(self, scenario: Scenario) -> SmacParEGO:
        self.weights: list[dict[str, Any]] = []
        return SmacParEGO(scenario, rho=float(self.hp["rho"]))

    def ask(self) -> TrialInfo:
        info = super().ask()
        theta = self.smac.runhistory.multi_objective_algorithm._theta  # set when SMAC last refitted
        from_model = not str(info.origin).startswith(("Initial Design", "Sobol", "Random"))
        self.weights.append(
            {
                "trial": len(self.weights),
                "origin": info.origin,
                "theta": np.asarray(theta).tolist() if theta is not None and from_model else None,
            }
        )
        return info

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        costs = costs_of(value, self.objectives)
        start, self._clock = self._clock, self._clock + value.time
        result = SmacTrialValue(
            cost=costs.tolist(),
            time=value.time,
            status=StatusType[value.status],
            starttime=start,
            endtime=self._clock,
            additional_info={"epochs": info.epochs},
        )
        self.smac.tell(info.token, result, save=False)

    def close(self) -> None:
        super().close()
        write_json({"objectives": list(self.objectives), "rho": self.hp["rho"], "trials": self.weights}, self.workdir / WEIGHTS_FILE)


class ParEGO(SMACMultiObjective):
    name = "parego"
    multi_objective = True
    defaults: ClassVar[dict[str, Any]] = {
        "rho": 0.05,  # augmentation of the Tchebycheff scalarisation (Knowles 2006 and SMAC: 0.05)
        "n_initial_designs": 10,  # Sobol initial design size (as smac)
        "random_design_probability": 0.2,  # share of interleaved random configurations (SMAC default)
        "retrain_after": 1,  # new weights and model refit after every trial (Knowles; SMAC default 8)
        "n_trees": 10,  # random forest size (SMAC default)
        "retries": 16,  # SMAC default; see smac_bo
        "n_trials": 100_000,  # SMAC's own trial cap; the runner's budget stops the search first
    }

    def setup(self) -> None:
        check_objectives(self.name, self.objectives)
        self.check_values()
        self.check_rho()
        self.quiet_smac_logger()
        scenario = Scenario(
            self.space,
            name=f"parego_seed{self.seed}",
            objectives=list(self.objectives),
            output_directory=self.workdir,
            deterministic=True,
            n_trials=self.hp["n_trials"],
            seed=self.seed,
        )
        facade = HyperparameterOptimizationFacade
        self.smac = facade(
            scenario,
            None,  # pure ask/tell: the runner evaluates
            model=self.random_forest(scenario),
            initial_design=facade.get_initial_design(scenario, n_configs=self.hp["n_initial_designs"]),
            random_design=facade.get_random_design(scenario, probability=self.hp["random_design_probability"]),
            intensifier=facade.get_intensifier(scenario, max_config_calls=1),
            config_selector=facade.get_config_selector(scenario, retrain_after=self.hp["retrain_after"], retries=self.hp["retries"]),
            multi_objective_algorithm=self.parego(scenario),
            logging_level=False,
            overwrite=True,  # never ask on stdin about an old run folder
        )
