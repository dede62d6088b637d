"""SMAC3's MultiFidelityFacade with Hyperband (BOHB-like), over the fidelities the data has.

Rungs: SMAC's budgets are ``max_budget * eta**-i``. Offline the data has 12 and 200 epochs; the
default ``eta = None`` then uses ``eta = floor(200 / 12) = 16``, giving rungs 12.5 and 200. Each
budget SMAC asks for is mapped to the largest data fidelity at or below it (never below the
smallest), so 12.5 -> 12. With full curves (every epoch) set ``eta`` (e.g. 3): rungs 200, 66.7,
22.2, 7.4 map to epochs 200, 66, 22, 7. SMAC is told the budget it asked for.
"""

from __future__ import annotations

import bisect
import logging
from typing import Any, ClassVar

from smac import MultiFidelityFacade, Scenario
from smac.runhistory.dataclasses import TrialValue as SmacTrialValue

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.smac_bo import never_called


def to_fidelity(budget: float, fidelities: list[int]) -> int:
    """Largest fidelity <= budget (the smallest one if budget is below all)."""
    pos = bisect.bisect_right(fidelities, budget + 1e-9)
    return fidelities[max(pos - 1, 0)]


class SMACHyperband(Optimizer):
    name = "smac_hb"
    multi_fidelity = True
    defaults: ClassVar[dict[str, Any]] = {
        "eta": None,  # int; None: floor(max/min fidelity) when the data has two fidelities, else 3
        "n_initial_designs": 10,  # random initial design size
        "random_design_probability": 0.2,
        "n_trials": 100_000,
    }

    def setup(self) -> None:
        lo, hi = self.fidelities[0], self.fidelities[-1]
        eta = self.hp["eta"]
        if eta is None:
            eta = int(hi // lo) if len(self.fidelities) == 2 else 3
        if not isinstance(eta, int) or isinstance(eta, bool) or eta < 2:
            raise InputError("smac_hb.eta", eta, "must be an integer >= 2")
        self.eta = eta
        scenario = Scenario(
            self.space,
            name=f"smac_hb_seed{self.seed}",
            output_directory=self.workdir,
            deterministic=True,
            n_trials=self.hp["n_trials"],
            min_budget=lo,
            max_budget=hi,
            seed=self.seed,
        )
        facade = MultiFidelityFacade
        self.smac = facade(
            scenario,
            never_called,
            initial_design=facade.get_initial_design(scenario, n_configs=self.hp["n_initial_designs"]),
            random_design=facade.get_random_design(scenario, probability=self.hp["random_design_probability"]),
            intensifier=facade.get_intensifier(scenario, eta=eta),
            logging_level=logging.ERROR,
            overwrite=True,
        )

    def ask(self) -> TrialInfo:
        info = self.smac.ask()
        epochs = to_fidelity(float(info.budget), self.fidelities)
        return TrialInfo(info.config, epochs, origin=info.config.origin or "smac_hb", token=info)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.smac.tell(info.token, SmacTrialValue(cost=value.cost, time=value.time), save=False)

    def close(self) -> None:
        self.smac.optimizer.save()
