"""The search budget: simulated seconds and/or evaluations, with the safety caps."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nashpo.errors import InputError

# Safety cap on evaluations per search (docs/hardening.md): a budget that cannot stop before it is refused.
MAX_EVALUATIONS = 100_000
MAX_SEED = 2**32 - 1  # SMAC, DEHB, Optuna and ConfigSpace take 32-bit seeds


@dataclass(frozen=True)
class Budget:
    """Stop when either limit is reached. One rule for every optimizer: a trial counts only if it
    fits, i.e. ends at or before ``max_sim_seconds``. The trial that would cross the limit is not
    evaluated, not charged and not logged, and the search ends there; ``run.json``'s ``stop``
    describes it. The NB201 paper's scripts (AutoDL-Projects, Jan 2020) never charge it either, and
    ``exps/algos/RANDOM.py`` and ``R_EA.py`` drop it before recording it, but ``exps/algos/reinforce.py``
    appends it to the trace it reports the best of before its budget check; that reporting rule is
    ``nashpo.analysis.nb201_table``'s opt-in ``paper`` incumbent rule, outside the search."""

    max_sim_seconds: float | None = None
    max_evals: int | None = None

    def __post_init__(self) -> None:
        if self.max_sim_seconds is None and self.max_evals is None:
            raise InputError("budget", None, "give max_sim_seconds and/or max_evals")
        if self.max_sim_seconds is not None and (
            isinstance(self.max_sim_seconds, bool)
            or not isinstance(self.max_sim_seconds, (int, float))
            or not 0 < self.max_sim_seconds < math.inf
        ):
            raise InputError("max_sim_seconds", self.max_sim_seconds, "must be a positive finite number")
        if self.max_evals is not None and (isinstance(self.max_evals, bool) or not isinstance(self.max_evals, int) or self.max_evals <= 0):
            raise InputError("max_evals", self.max_evals, "must be a positive integer")
        if self.max_evals is not None and self.max_evals > MAX_EVALUATIONS:
            raise InputError("max_evals", self.max_evals, f"exceeds the safety cap of {MAX_EVALUATIONS} evaluations per search")

    def exhausted(self, n: int, sim: float) -> bool:
        return (self.max_evals is not None and n >= self.max_evals) or (self.max_sim_seconds is not None and sim >= self.max_sim_seconds)

    def fits(self, sim: float, cost: float) -> bool:
        """Whether a trial costing ``cost`` simulated seconds, started at ``sim``, ends within the budget."""
        return self.max_sim_seconds is None or sim + cost <= self.max_sim_seconds
