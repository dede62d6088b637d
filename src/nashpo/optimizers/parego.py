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
``parego_weights.json``: per trial, SMAC's origin and the weights in force when the model proposed
it (null for the initial design and random configurations, which need none, and for a
configuration asked again at a higher budget by ``mo_smac_mf``).

Parallel workers (``parallel = "async"``, as ``smac_bo``): ask without tell; the model and the
ParEGO scalarisation use the results in, pending trials are SMAC's running trials.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from ConfigSpace import Configuration
from smac import HyperparameterOptimizationFacade, Scenario
from smac.callback import Callback
from smac.main.config_selector import ConfigSelector
from smac.multi_objective.parego import ParEGO as SmacParEGO
from smac.runhistory.dataclasses import TrialValue as SmacTrialValue
from smac.runhistory.enumerations import StatusType

from nashpo.errors import InputError
from nashpo.optimizers.base import TrialInfo, TrialValue
from nashpo.optimizers.mo_common import check_int, check_objectives, check_probability, costs_of, write_json
from nashpo.optimizers.smac_bo import SMACAskTell

WEIGHTS_FILE = "parego_weights.json"


class WeightsAtProposal(Callback):
    """Keeps, per configuration SMAC's config selector hands out, the ParEGO weights in force then
    (Hyperband fetches a whole rung of new configurations before it asks for the first one)."""

    def __init__(self) -> None:
        super().__init__()
        self.theta_of: dict[Configuration, list[float] | None] = {}

    def on_next_configurations_end(self, config_selector: ConfigSelector, config: Configuration) -> None:
        mo = config_selector._runhistory_encoder.multi_objective_algorithm
        theta = getattr(mo, "_theta", None)
        self.theta_of.setdefault(config, None if theta is None else np.asarray(theta).tolist())


class SMACMultiObjective(SMACAskTell):
    """SMAC ask/tell with a vector of costs (one per objective) and the ParEGO weights kept per trial."""

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        if not hp["rho"] > 0:
            raise InputError(f"{cls.name}.rho", hp["rho"], "must be a positive number")
        for key in ("n_initial_designs", "retrain_after", "n_trees", "retries", "n_trials"):
            check_int(cls.name, key, hp[key], 1)
        check_probability(cls.name, "random_design_probability", hp["random_design_probability"])
        return hp

    def parego(self, scenario: Scenario) -> SmacParEGO:
        self.weights: list[dict[str, Any]] = []
        self._asked: set[Any] = set()
        self._proposals = WeightsAtProposal()
        return SmacParEGO(scenario, rho=float(self.hp["rho"]))

    def ask(self) -> TrialInfo:
        info = super().ask()
        # weights only for a new configuration from the model (not the initial design, not random, not
        # a Hyperband promotion of a configuration asked before)
        proposed = info.config not in self._asked and not str(info.origin).startswith(("Initial Design", "Sobol", "Random"))
        self._asked.add(info.config)
        theta = self._proposals.theta_of.get(info.config) if proposed else None
        self.weights.append({"trial": len(self.weights), "origin": info.origin, "theta": theta})
        return info

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        costs = costs_of(value, self.objectives)
        start, end = self.simulated_span(value)
        result = SmacTrialValue(
            cost=costs.tolist(),
            time=value.time,
            status=StatusType[value.status],
            starttime=start,
            endtime=end,
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
        self.quiet_smac_logger()
        scenario = self.scenario(objectives=list(self.objectives))
        facade = HyperparameterOptimizationFacade
        self.smac = self.facade(
            facade,
            scenario,
            facade.get_intensifier(scenario, max_config_calls=1),
            multi_objective_algorithm=self.parego(scenario),
            callbacks=[self._proposals],
        )
