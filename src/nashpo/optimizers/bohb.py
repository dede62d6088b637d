"""BOHB (Falkner et al., ICML 2018) from hpbandster 0.7.4, the library the NB201 paper ran, in-process.

hpbandster's own ``BOHB.run()`` schedules jobs over a Pyro name server and real workers. Here its
parts run in-process and the runner owns the simulated clock: the ``BOHB`` config generator
(``hpbandster.optimizers.config_generators.bohb.BOHB``: TPE-like KDEs, ``get_config(budget)`` and
``new_result(job)``), and Hyperband's brackets as hpbandster builds them
(``hpbandster.optimizers.bohb.BOHB.get_next_iteration``: one ``SuccessiveHalving`` iteration per
bracket, cycling through the brackets). ``ask()`` does what hpbandster's ``Master.run`` loop does
with one worker: the next run of the first active iteration, else a new iteration; ``tell()`` does
what ``Master.job_callback`` does: ``register_result`` on the iteration, then ``new_result`` on
the config generator. Every trial is a hpbandster ``Job`` with ``result = {"loss": cost}``.

Parallel workers (``parallel = "async"``): with K workers ``ask()`` is what ``Master.run`` does
whenever a worker is free (hpbandster 0.7.4 ``core/master.py``: ``_queue_wait`` lets it submit
while fewer jobs run than there are workers; the next run of the first active iteration, and a new
``SuccessiveHalving`` iteration when every active one waits for results, ``get_next_run`` returning
None); ``tell()`` is ``job_callback`` for results in the order they end. The config generator
proposes from the results in; pending runs are not in its model (as in hpbandster).

Rungs: hpbandster's budgets are ``max * eta**-i`` for ``i = max_SH_iter - 1 .. 0`` with
``max_SH_iter = -int(log(min / max) / log(eta)) + 1``, ``min``/``max`` the lowest/highest fidelity.
hpbandster keeps its own float budgets; the runner queries the smallest data fidelity at or above
each one. ``eta = None`` (default) is ``max / min`` with two fidelities (offline 12 and 200 epochs:
rungs exactly 12 and 200), else hpbandster's default 3; an ``eta`` whose rungs all land on one
fidelity is refused (as in ``smac_hb``). The other defaults are hpbandster's.

Randomness: hpbandster draws from numpy's global random state and samples random configurations
from the ConfigSpace. The space is seeded with the run seed, and the generator's numpy state is
its own ``RandomState(seed)``, swapped in for each ask and tell and swapped out after, so the
global state other code sees is unchanged and every seed gives the same search.

Multi-fidelity, so it runs on the families with fidelities (NB201); the families with final
values only (HPOLib FCNet, HPOBench MLP) refuse it as they refuse ``smac_hb`` and ``dehb``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import Configuration
from hpbandster.core.dispatcher import Job
from hpbandster.optimizers.bohb import BOHB as HpBandSterBOHB
from hpbandster.optimizers.config_generators.bohb import BOHB as BOHBConfigGenerator

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.rungs import two_rung_eta
from nashpo.optimizers.smac_hb import fidelity_at_or_above

HPBANDSTER_LOGGER = "hpbandster"
DEFAULT_ETA = 3.0  # hpbandster's default, used when the data has more than two fidelities


def max_sh_iter(min_budget: float, max_budget: float, eta: float) -> int:
    """Number of rungs hpbandster builds (its own formula, ``BOHB.__init__``)."""
    return -int(np.log(min_budget / max_budget) / np.log(eta)) + 1


def auto_eta(fidelities: list[int]) -> float:
    """eta for hpbandster: max/min with two fidelities (rungs on both), else hpbandster's default."""
    return two_rung_eta(fidelities, max_sh_iter, DEFAULT_ETA)


@contextmanager
def numpy_global_state(state: np.random.RandomState) -> Iterator[None]:
    """Run with ``state`` as numpy's global random state; put the caller's global state back after."""
    saved = np.random.get_state()
    np.random.set_state(state.get_state())
    try:
        yield
    finally:
        state.set_state(np.random.get_state())
        np.random.set_state(saved)


class BOHB(Optimizer):
    name = "bohb"
    parallel = "async"  # hpbandster's Master.run with K workers: a new iteration when every active one waits
    multi_fidelity = True
    defaults: ClassVar[dict[str, Any]] = {
        "eta": None,  # number >= 2; None: max/min fidelity with two fidelities, else 3 (hpbandster's default)
        "min_points_in_model": None,  # int; None: number of hyperparameters + 1 (hpbandster's default)
        "top_n_percent": 15,  # hpbandster's default
        "num_samples": 64,  # samples to optimise EI (hpbandster's default)
        "random_fraction": 1 / 3,  # hpbandster's default
        "bandwidth_factor": 3.0,  # hpbandster's default
        "min_bandwidth": 1e-3,  # hpbandster's default
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        eta = hp["eta"]
        if eta is not None and (isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta >= 2):
            raise InputError(f"{cls.name}.eta", eta, "must be a number >= 2 (hpbandster's limit) or null")
        points = hp["min_points_in_model"]
        if points is not None and (isinstance(points, bool) or not isinstance(points, int) or points < 1):
            raise InputError(f"{cls.name}.min_points_in_model", points, "must be an integer >= 1 or null")
        if not 1 <= hp["top_n_percent"] <= 99:
            raise InputError(f"{cls.name}.top_n_percent", hp["top_n_percent"], "must be in [1, 99]")
        if hp["num_samples"] < 1:
            raise InputError(f"{cls.name}.num_samples", hp["num_samples"], "must be >= 1")
        if not 0 <= hp["random_fraction"] <= 1:
            raise InputError(f"{cls.name}.random_fraction", hp["random_fraction"], "must be in [0, 1]")
        for key in ("bandwidth_factor", "min_bandwidth"):
            if not hp[key] > 0:
                raise InputError(f"{cls.name}.{key}", hp[key], "must be positive")
        return hp

    def setup(self) -> None:
        lo, hi = float(self.fidelities[0]), float(self.fidelities[-1])
        self.eta = float(self.hp["eta"]) if self.hp["eta"] is not None else auto_eta(self.fidelities)
        self.logger = logging.getLogger(HPBANDSTER_LOGGER)
        self._log_level = self.logger.level
        self.logger.setLevel(logging.ERROR)
        self.space.seed(self.seed)
        self.numpy_state = np.random.RandomState(self.seed)
        self.generator = BOHBConfigGenerator(
            configspace=self.space,
            min_points_in_model=self.hp["min_points_in_model"],
            top_n_percent=int(self.hp["top_n_percent"]),
            num_samples=int(self.hp["num_samples"]),
            random_fraction=float(self.hp["random_fraction"]),
            bandwidth_factor=float(self.hp["bandwidth_factor"]),
            min_bandwidth=float(self.hp["min_bandwidth"]),
        )
        n_rungs = max_sh_iter(lo, hi, self.eta)
        budgets = hi * np.power(self.eta, -np.linspace(n_rungs - 1, 0, n_rungs))
        self.max_budget = float(budgets[-1])
        self.epochs_of = {float(b): self.query_epochs(float(b)) for b in budgets}
        if self.rungs_on_fidelities and len(set(self.epochs_of.values())) < 2:
            raise InputError(
                f"{self.name}.eta",
                self.hp["eta"],
                f"all Hyperband rungs map to {sorted(set(self.epochs_of.values()))} epochs with fidelities {self.fidelities}; "
                "leave eta unset (max/min fidelity with two fidelities)",
            )
        # the fields hpbandster's BOHB.get_next_iteration reads from its master
        self.master = SimpleNamespace(max_SH_iter=n_rungs, eta=self.eta, budgets=budgets, config_generator=self.generator)
        self.iterations: list[Any] = []

    rungs_on_fidelities: ClassVar[bool] = True  # rungs must land on at least two data fidelities

    def query_epochs(self, budget: float) -> int:
        """The fidelity the runner queries for one of hpbandster's budgets."""
        return fidelity_at_or_above(budget, self.fidelities)

    def next_iteration(self) -> Any:
        return HpBandSterBOHB.get_next_iteration(self.master, len(self.iterations))

    def ask(self) -> TrialInfo:
        with numpy_global_state(self.numpy_state):
            while True:  # hpbandster's Master.run with one worker
                run = None
                for iteration in self.iterations:
                    if not iteration.is_finished:
                        run = iteration.get_next_run()
                        if run is not None:
                            break
                if run is not None:
                    break
                self.iterations.append(self.next_iteration())
        config_id, values, budget = run
        job = Job(config_id, config=values, budget=budget, working_directory=str(self.workdir))
        config = Configuration(self.space, values=values)
        picked = self.iterations[config_id[0]].data[config_id].config_info.get("model_based_pick", False)
        origin = "model" if picked else "random"
        return TrialInfo(config, self.epochs_of[float(budget)], origin, job, self.counts_for_incumbent(float(budget)))

    def counts_for_incumbent(self, budget: float) -> bool:
        """Every trial may become the runner's incumbent (the best at the highest fidelity seen)."""
        return True

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        job: Job = info.token
        job.result = {"loss": float(value.cost), "info": {"epochs": info.epochs, "sim_seconds": float(value.time)}}
        with numpy_global_state(self.numpy_state):  # hpbandster's Master.job_callback
            self.iterations[job.id[0]].register_result(job)
            self.generator.new_result(job)

    def close(self) -> None:
        self.logger.setLevel(self._log_level)


class BOHBNB201(BOHB):
    """The NB201 paper's BOHB (AutoDL-Projects ``exps/algos/BOHB.py``, Jan 2020, run by
    ``scripts-search/algos/BOHB.sh``): hpbandster's BOHB with ``eta=3, min_budget=12,
    max_budget=200, num_samples=4, random_fraction=0.0, bandwidth_factor=3`` and one worker.

    The paper's worker ignores the budget: every evaluation, at every rung (hpbandster's budgets
    22.2, 66.7 and 200), returns the 12-epoch schedule's validation accuracy and is charged that
    schedule's time; so every trial here is queried at the lowest fidelity (12 epochs). The
    reported architecture is hpbandster's incumbent (``Result.get_incumbent_id``: the lowest loss
    among the results at ``max_budget``, ties to the lowest config id, i.e. the first evaluated):
    only trials at budget 200 are incumbent candidates, and the runner's incumbent is exactly
    that. End of budget: the paper's worker counts an evaluation only while
    ``sim_cost_time + cur_time <= time_budget`` and from the first one that does not fit returns
    loss 100 for every further evaluation. Those cannot change the incumbent (a loss of 100 is
    worse than any counted result at ``max_budget``), so the search equals the runner's budget
    rule: the crossing trial is not counted and the search ends there.
    """

    name = "bohb_nb201"
    defaults: ClassVar[dict[str, Any]] = {
        **BOHB.defaults,
        "eta": 3.0,  # BOHB.sh / BOHB.py: eta=3
        "num_samples": 4,  # BOHB.sh: --num_samples 4
        "random_fraction": 0.0,  # BOHB.sh: --random_fraction 0.0
        "bandwidth_factor": 3.0,  # BOHB.sh: --bandwidth_factor 3
    }
    rungs_on_fidelities = False
    MIN_BUDGET, MAX_BUDGET = 12, 200  # BOHB.py: min_budget=12, max_budget=200 (epochs)

    def setup(self) -> None:
        if (self.fidelities[0], self.fidelities[-1]) != (self.MIN_BUDGET, self.MAX_BUDGET):
            raise InputError(
                "fidelities",
                self.fidelities,
                f"{self.name} needs the {self.MIN_BUDGET}- and {self.MAX_BUDGET}-epoch data (NB201 with the mirror)",
            )
        super().setup()

    def query_epochs(self, budget: float) -> int:
        return self.fidelities[0]  # the paper's worker ignores the budget: the 12-epoch schedule

    def counts_for_incumbent(self, budget: float) -> bool:
        return budget == self.max_budget
