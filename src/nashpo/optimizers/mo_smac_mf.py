"""Multi-objective multi-fidelity SMAC, MO-BOHB-like: SMAC3 2.4.1's MultiFidelityFacade (random
forest BO + Hyperband) with ParEGO scalarisation (Knowles 2006; see ``parego``), after MO-BOHB
(Guerrero-Viu, Hauns, Izquierdo, Miotto, Schrodi, Biedenkapp, Elsken, Deng, Lindauer & Hutter,
"Bag of baselines for multi-objective joint neural architecture search and hyperparameter
optimization", ICML 2021 AutoML workshop), which pairs BOHB's Hyperband with ParEGO-style random
scalarisations.

Budgets are the fidelities the runner gives (NB201: 12 and 200 epochs); the rungs are placed on
them exactly as in ``smac_hb`` (``eta`` None: max/min fidelity with two fidelities, else 3; every
rung moved up to a fidelity the data has). SMAC's successive halving promotes the configurations
of a rung by non-dominated sorting (crowding distance breaks ties) of their objective vectors at
that budget; the surrogate learns the ParEGO scalarisation, with new weights at every refit
(``retrain_after`` 1, as ``parego``). Output: SMAC's run folder ``<workdir>/mo_smac_mf_seed<seed>/<seed>``
and ``parego_weights.json`` (see ``parego``). Parallel workers (``parallel = "async"``): SMAC's ask
without tell with its never-waiting successive halving, as ``smac_hb``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from smac import MultiFidelityFacade

from nashpo.errors import InputError
from nashpo.optimizers.mo_common import check_objectives
from nashpo.optimizers.parego import ParEGO, SMACMultiObjective
from nashpo.optimizers.smac_hb import SMACHyperband, fidelity_hyperband, hyperband_rungs


class MOSmacMultiFidelity(SMACMultiObjective, SMACHyperband):
    name = "mo_smac_mf"
    multi_fidelity = True
    multi_objective = True
    defaults: ClassVar[dict[str, Any]] = {
        "eta": None,  # number > 1; None: max/min fidelity with two fidelities, else 3 (as smac_hb)
        **{k: v for k, v in ParEGO.defaults.items()},  # rho 0.05, retrain_after 1, ... (as parego)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        eta = hp["eta"]
        if eta is not None and (isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 1):
            raise InputError(f"{cls.name}.eta", eta, "must be a number > 1 (or null for the automatic choice)")
        return hp

    def setup(self) -> None:
        check_objectives(self.name, self.objectives)
        self.eta, self.rungs = hyperband_rungs(self.name, self.hp["eta"], self.fidelities)
        self.quiet_smac_logger()
        scenario = self.scenario(
            objectives=list(self.objectives), min_budget=float(self.fidelities[0]), max_budget=float(self.fidelities[-1])
        )
        # SMAC's default (highest_observed_budget) fails an assertion in update_incumbents with several
        # objectives once two incumbents differ in their highest budget; SMAC's incumbents play no part here
        hyperband = fidelity_hyperband(scenario, self.fidelities, self.eta, "highest_budget")
        self.smac = self.facade(
            MultiFidelityFacade,
            scenario,
            hyperband,
            multi_objective_algorithm=self.parego(scenario),
            callbacks=[self._proposals],
        )
