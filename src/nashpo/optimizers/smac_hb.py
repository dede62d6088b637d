"""SMAC3's MultiFidelityFacade with Hyperband (random forest BO + Hyperband, BOHB-like), over the
fidelities (epochs) the runner passes.

Rungs: SMAC's Hyperband budgets are ``max * eta**-i`` for ``i = s_max .. 0`` with
``s_max = floor(log(max / min) / log(eta))``, ``min``/``max`` the lowest/highest fidelity.

- Two fidelities (offline: 12 and 200 epochs): the default ``eta = max / min`` (200 / 12) gives
  exactly two rungs, 12 and 200.
- More fidelities (e.g. every epoch from NASLib curves): ``eta`` defaults to 3, and every rung
  budget is moved up to the nearest fidelity the data has at or above it (with 1..200 epochs:
  2.47, 7.4, 22.2, 66.7, 200 -> 3, 8, 23, 67, 200). The mapping is applied to SMAC's own rung
  table, so SMAC asks for, is told and records (runhistory ``budget``) the epochs the trial ran at.

An ``eta`` whose rungs all land on one fidelity (e.g. ``eta = 3`` with only 12 and 200 epochs: 22.2,
66.7, 200 -> 200) is refused. The SMAC run folder, ``close()``, logging and the single-threaded
surrogate are as in ``smac_bo``.

Parallel workers (``parallel = "async"``, as ``smac_bo``): SMAC's successive halving never waits
(smac 2.4.1 ``intensifier/successive_halving.py`` ``__iter__``: it yields the trials of a stage that
are neither running nor evaluated, promotes a stage once all its trials are in, and when nothing can
be yielded it adds a new batch of configurations to the first stage of the next bracket), so a free
worker always gets a trial.
"""

from __future__ import annotations

import bisect
from typing import Any, ClassVar

from smac import MultiFidelityFacade, Scenario
from smac.intensifier.hyperband import Hyperband
from smac.runhistory.dataclasses import TrialInfo as SmacTrialInfo

from nashpo.errors import InputError
from nashpo.optimizers.smac_bo import SMACAskTell

REL_TOL = 1e-9  # rung budgets come from float powers of eta: 200 * (200 / 12) ** -1 may be 12.000000000000002


def fidelity_at_or_above(budget: float, fidelities: list[int]) -> int:
    """Smallest fidelity >= budget (up to float rounding); the highest one if budget is above all."""
    pos = bisect.bisect_left(fidelities, budget * (1 - REL_TOL))
    return fidelities[min(pos, len(fidelities) - 1)]


def to_fidelity(budget: float, fidelities: list[int]) -> int:
    """Largest fidelity <= budget (the smallest one if budget is below all). Used by the DEHB adapter,
    whose ``eta`` is set just under ``max / min`` so its low rung (12.01) maps down to 12."""
    pos = bisect.bisect_right(fidelities, budget + 1e-9)
    return fidelities[max(pos - 1, 0)]


class FidelityHyperband(Hyperband):
    """SMAC's Hyperband with every rung budget moved up to a fidelity the data has."""

    def __init__(self, scenario: Scenario, fidelities: list[int], **kwargs: Any) -> None:
        self._fidelities = sorted(fidelities)
        super().__init__(scenario, **kwargs)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._budgets_in_stage = {
            bracket: [float(fidelity_at_or_above(b, self._fidelities)) for b in budgets]
            for bracket, budgets in self._budgets_in_stage.items()
        }


def smac_rungs(eta: float, lo: float, hi: float) -> list[float]:
    """SMAC's Hyperband rung budgets (its first bracket), computed by SMAC's own helpers."""
    s_max = Hyperband._get_max_iterations(eta, hi, lo)
    return Hyperband._compute_configs_and_budgets_for_stages(eta, hi, s_max)[0]


def hyperband_rungs(name: str, eta: float | None, fidelities: list[int]) -> tuple[float, list[int]]:
    """eta (None: max/min fidelity with two fidelities, else 3) and the data fidelities its rungs map to."""
    lo, hi = float(fidelities[0]), float(fidelities[-1])
    if eta is None:
        eta = hi / lo if len(fidelities) == 2 else 3.0
    rungs = sorted({fidelity_at_or_above(b, fidelities) for b in smac_rungs(float(eta), lo, hi)})
    if len(rungs) < 2:
        raise InputError(
            f"{name}.eta",
            eta,
            f"all Hyperband rungs map to {rungs} epochs with fidelities {fidelities}; leave eta unset (max/min fidelity with two fidelities)",
        )
    return float(eta), rungs


def fidelity_hyperband(scenario: Scenario, fidelities: list[int], eta: float, incumbent_selection: str) -> FidelityHyperband:
    """The multi-fidelity facade's get_intensifier arguments, with rungs on data fidelities."""
    return FidelityHyperband(
        scenario,
        fidelities,
        eta=eta,
        n_seeds=1,
        instance_seed_order="shuffle_once",
        max_incumbents=10,
        incumbent_selection=incumbent_selection,
    )


class SMACHyperband(SMACAskTell):
    name = "smac_hb"
    multi_fidelity = True
    defaults: ClassVar[dict[str, Any]] = {
        "eta": None,  # number > 1; None: max/min fidelity with two fidelities, else 3 (SMAC's default)
        # Random initial design size (SMAC: 10 per hyperparameter capped at 25% of n_trials); as smac.
        "n_initial_designs": 10,
        "random_design_probability": 0.2,  # SMAC default
        "retrain_after": 8,  # SMAC default
        "n_trees": 10,  # SMAC default
        "retries": 16,  # SMAC default; see smac_bo
        "n_trials": 100_000,  # SMAC's own trial cap; the runner's budget stops the search first
    }

    def setup(self) -> None:
        self.check_values()
        eta = self.hp["eta"]
        if eta is not None and (isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 1):
            raise InputError("smac_hb.eta", eta, "must be a number > 1")
        self.eta, self.rungs = hyperband_rungs(self.name, eta, self.fidelities)
        self.quiet_smac_logger()
        scenario = self.scenario(min_budget=float(self.fidelities[0]), max_budget=float(self.fidelities[-1]))
        hyperband = fidelity_hyperband(scenario, self.fidelities, self.eta, "highest_observed_budget")
        self.smac = self.facade(MultiFidelityFacade, scenario, hyperband)

    def epochs_of(self, info: SmacTrialInfo) -> int:
        epochs = round(info.budget)
        if epochs not in self.fidelities or epochs != info.budget:  # FidelityHyperband only hands out data fidelities
            raise RuntimeError(f"SMAC asked for budget {info.budget}, not one of the fidelities {self.fidelities}")
        return epochs
