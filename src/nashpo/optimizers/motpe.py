"""Multi-objective TPE (Ozaki, Tanigaki, Watanabe & Onishi, "Multiobjective tree-structured Parzen
estimator for computationally expensive optimization problems", GECCO 2020; extended in JAIR 2022)
as Optuna implements it: ``TPESampler`` on a study with one ``minimize`` direction per objective,
driven by ``study.ask()``/``study.tell()``.

With several objectives Optuna's TPE splits the trials into "good" and "bad" by non-dominated rank
and, inside the last rank that is split, by hypervolume contribution (MOTPE), then proposes the
candidate with the best density ratio. Each hyperparameter is a ``CategoricalDistribution`` over
its choices (as ``tpe``); the first ``n_startup_trials`` proposals are Optuna's seeded random samples
(origin ``random``), the rest come from MOTPE (origin ``motpe``). ``multivariate`` as in ``tpe``.
Single fidelity; Optuna's INFO logging is turned down to WARNING. Parallel workers as ``tpe``:
``constant_liar=True`` for K > 1 (``_split_trials`` puts a running trial in the "above" group whatever
the number of objectives).
"""

from __future__ import annotations

from typing import Any, ClassVar

from nashpo.optimizers.base import TrialInfo, TrialValue
from nashpo.optimizers.mo_common import check_objectives, costs_of
from nashpo.optimizers.tpe import OptunaTPE


class MOTPE(OptunaTPE):
    name = "motpe"
    multi_objective = True
    defaults: ClassVar[dict[str, Any]] = {
        "n_startup_trials": 10,  # random trials before MOTPE (Optuna's default)
        "n_ei_candidates": 24,  # candidates drawn from l(x) per proposal (Optuna's default)
        "multivariate": True,  # joint density over the hyperparameters (as tpe; Optuna's default: False)
    }

    def setup(self) -> None:
        check_objectives(self.name, self.objectives)
        super().setup()  # one minimise direction per objective

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.n_told += 1
        self.study.tell(info.token, costs_of(value, self.objectives).tolist())
