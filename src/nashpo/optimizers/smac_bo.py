"""SMAC3's default BO (HyperparameterOptimizationFacade: random forest, log EI, Sobol initial design),
driven by ask/tell at a single fidelity (the highest one the runner passes).

SMAC's own run folder is ``<workdir>/<name>/<seed>`` (``name = smac_seed<seed>``); ``close()`` writes
``scenario.json``, ``configspace.json``, ``runhistory.json``, ``intensifier.json`` and
``optimization.json`` there, the layout DeepCAVE's ``SMAC3v2Run.from_path`` reads. SMAC is told the
simulated clock as ``starttime``/``endtime``, so DeepCAVE's trial times are simulated seconds.

Parallel workers (``parallel = "async"``): SMAC's own parallel mode, ask without tell. smac 2.4.1
``main/smbo.py`` ``SMBO.ask`` marks every trial it hands out as running in the runhistory
(``add_running_trial``), and its intensifier skips running configurations (``intensifier/intensifier.py``
``Intensifier.__iter__``: ``get_running_configs``) while its config selector fits the model on the
results in (the runhistory encoder leaves running trials out); SMAC's Dask runner asks whenever a
worker is free, as the runner does here, and tells results in the order they end. SMAC's
``starttime``/``endtime`` are the trial's start and end on the runner's simulated clock
(``TrialValue.start_time``).

Logging: SMAC's ``logging_level`` option reconfigures the root logger, so it is switched off and only
the ``smac`` logger is quietened (to ERROR) while the optimizer is open.
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

from ConfigSpace import ConfigurationSpace
from smac import HyperparameterOptimizationFacade, Scenario
from smac.facade.abstract_facade import AbstractFacade
from smac.model.random_forest import RandomForest
from smac.runhistory.dataclasses import TrialInfo as SmacTrialInfo
from smac.runhistory.dataclasses import TrialValue as SmacTrialValue
from smac.runhistory.enumerations import StatusType

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue

SMAC_LOGGER = "smac"
NO_MODEL_ORIGIN = "Random Search (no model data)"
SMAC_MAX_LEAVES = 2**20  # smac.model.random_forest.RandomForest default


def leaf_cap(space: ConfigurationSpace) -> int:
    """Most leaves a tree can need: one per distinct configuration of a finite space (else SMAC's cap)."""
    size = space.estimate_size()
    return int(size) if math.isfinite(size) and size < SMAC_MAX_LEAVES else SMAC_MAX_LEAVES


class SMACAskTell(Optimizer):
    """Shared ask/tell plumbing of the SMAC adapters; subclasses build ``self.smac`` in ``setup()``."""

    parallel = "async"  # SMAC's ask without tell (its intensifier skips running trials)
    smac: AbstractFacade

    def check_values(self) -> None:
        """Ranges SMAC would otherwise reject with an unclear error (types are checked by the base class)."""
        for key in ("n_initial_designs", "retrain_after", "n_trees", "retries", "n_trials"):
            if key in self.hp and self.hp[key] < 1:
                raise InputError(f"{self.name}.{key}", self.hp[key], "must be >= 1")
        p = self.hp.get("random_design_probability", 0.0)
        if not 0.0 <= p <= 1.0:
            raise InputError(f"{self.name}.random_design_probability", p, "must be in [0, 1]")

    def quiet_smac_logger(self) -> None:
        logger = logging.getLogger(SMAC_LOGGER)
        self._smac_log_level = logger.level
        logger.setLevel(logging.ERROR)
        self._clock = 0.0  # end of the last result told: a trial's start when the caller gives none

    def random_forest(self, scenario: Scenario) -> RandomForest:
        """The facade's random forest (``HyperparameterOptimizationFacade.get_model`` values), made cheaper
        without changing a single prediction:

        - ``n_jobs=1`` instead of all cores: each tree writes its own prediction column, so the result
          is the same; SMAC's joblib threads only add hand-off overhead for 10 small trees and compete
          with the searches Snakemake runs in parallel.
        - ``max_leaf_nodes`` = the space size (15,625 for NB201) instead of 2**20: a leaf holds at least
          one distinct configuration, so the cap never binds and every tree is the same, but sklearn
          allocates node arrays for the cap on every fit (about 0.1 s per tree at 2**20).
        """
        return RandomForest(
            scenario.configspace,
            log_y=True,
            n_trees=self.hp["n_trees"],
            bootstrapping=True,
            ratio_features=1.0,
            min_samples_split=2,
            min_samples_leaf=1,
            max_depth=2**20,
            instance_features=scenario.instance_features,
            seed=scenario.seed,
            n_jobs=1,
            max_leaf_nodes=leaf_cap(scenario.configspace),
        )

    def scenario(self, **extra: Any) -> Scenario:
        """SMAC's scenario of this search (``extra``: objectives, min/max budget)."""
        return Scenario(
            self.space,
            name=f"{self.name}_seed{self.seed}",
            output_directory=self.workdir,
            deterministic=True,
            n_trials=self.hp["n_trials"],
            seed=self.seed,
            **extra,
        )

    def facade(self, facade: type[AbstractFacade], scenario: Scenario, intensifier: Any, **extra: Any) -> AbstractFacade:
        """``facade`` driven by ask/tell only, with this adapter's forest, designs and config selector
        (``extra``: a multi-objective algorithm, callbacks)."""
        return facade(
            scenario,
            None,  # pure ask/tell: the runner evaluates
            model=self.random_forest(scenario),
            initial_design=facade.get_initial_design(scenario, n_configs=self.hp["n_initial_designs"]),
            random_design=facade.get_random_design(scenario, probability=self.hp["random_design_probability"]),
            intensifier=intensifier,
            config_selector=facade.get_config_selector(scenario, retrain_after=self.hp["retrain_after"], retries=self.hp["retries"]),
            logging_level=False,
            overwrite=True,  # never ask on stdin about an old run folder
            **extra,
        )

    def epochs_of(self, info: SmacTrialInfo) -> int:
        return self.max_fidelity

    def ask(self) -> TrialInfo:
        info = self.smac.ask()
        if info.config.origin is None:  # SMAC's config selector samples one at random while its model has no data
            info.config.origin = NO_MODEL_ORIGIN
        return TrialInfo(info.config, self.epochs_of(info), origin=info.config.origin, token=info)

    def simulated_span(self, value: TrialValue) -> tuple[float, float]:
        """The told trial's start and end on the simulated clock: the runner's, or end to end for a
        caller that tells results one after the other without a start."""
        start = self._clock if value.start_time is None else value.start_time
        end = start + value.time
        self._clock = max(self._clock, end)
        return start, end

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        start, end = self.simulated_span(value)
        result = SmacTrialValue(
            cost=value.cost,
            time=value.time,
            status=StatusType[value.status],
            starttime=start,
            endtime=end,
            additional_info={"epochs": info.epochs},
        )
        self.smac.tell(info.token, result, save=False)  # saving every trial is slow; close() saves once

    def close(self) -> None:
        self.smac.optimizer.save()
        logging.getLogger(SMAC_LOGGER).setLevel(self._smac_log_level)


class SMACBO(SMACAskTell):
    name = "smac"
    defaults: ClassVar[dict[str, Any]] = {
        # Sobol initial design size. SMAC's facade default is 10 per hyperparameter (60 here) capped at
        # 25% of n_trials; 10 suits the ~100-trial budgets of the NB201 proxy protocol.
        "n_initial_designs": 10,
        "random_design_probability": 0.2,  # share of interleaved random configurations (SMAC default)
        "retrain_after": 8,  # refit the random forest after this many new trials (SMAC default)
        "n_trees": 10,  # random forest size (SMAC default)
        # acquisition proposals already evaluated that SMAC skips before it falls back to random
        # configurations ("Random Search (max retries, no candidates)"); SMAC default
        "retries": 16,
        "n_trials": 100_000,  # SMAC's own trial cap; the runner's budget stops the search first
    }

    def setup(self) -> None:
        self.check_values()
        self.quiet_smac_logger()
        scenario = self.scenario()
        facade = HyperparameterOptimizationFacade
        # deterministic=True means one seed, so every configuration is evaluated exactly once
        self.smac = self.facade(facade, scenario, facade.get_intensifier(scenario, max_config_calls=1))
