"""DEHB driven by ask/tell: DEHB's own ``total_cost`` is wall-clock, so nashpo's runner owns
the simulated clock and DEHB only proposes and learns.

Rungs: DEHB's fidelities are ``max * eta**-i``. Offline the data has 12 and 200 epochs; the
default ``eta = None`` uses ``eta = 0.999 * 200 / 12`` so that DEHB gets exactly two rungs
(12.01 and 200). Each fidelity DEHB asks for is mapped to the largest data fidelity at or below
it (12.01 -> 12). With full curves set ``eta`` (e.g. 3): rungs 200, 66.7, 22.2, 7.4 map to epochs
200, 66, 22, 7. DEHB is told the fidelity it asked for.

DEHB writes ``history.parquet.gzip``, ``incumbent.json``, ``dehb_state.json`` and ``dehb.log``
into the run's ``optimizer/`` folder at close (never into the current directory).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ConfigSpace import Configuration
from dehb import DEHB
from loguru import logger

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.smac_hb import to_fidelity


class DEHBOptimizer(Optimizer):
    name = "dehb"
    multi_fidelity = True
    defaults: ClassVar[dict[str, Any]] = {
        "eta": None,  # float; None: just under max/min fidelity with two fidelities, else 3
        "mutation_factor": 0.5,
        "crossover_prob": 0.5,
        "strategy": "rand1_bin",
    }

    def setup(self) -> None:
        lo, hi = self.fidelities[0], self.fidelities[-1]
        eta = self.hp["eta"]
        if eta is None:
            eta = 0.999 * hi / lo if len(self.fidelities) == 2 else 3.0
        if not isinstance(eta, (int, float)) or isinstance(eta, bool) or eta <= 1:
            raise InputError("dehb.eta", eta, "must be a number > 1")
        self.dehb = DEHB(
            cs=self.space,
            dimensions=len(self.space),
            min_fidelity=lo,
            max_fidelity=hi,
            eta=float(eta),
            mutation_factor=self.hp["mutation_factor"],
            crossover_prob=self.hp["crossover_prob"],
            strategy=self.hp["strategy"],
            seed=self.seed,
            n_workers=1,
            output_path=self.workdir,
            save_freq="end",
            log_level="ERROR",
        )

    def ask(self) -> TrialInfo:
        job = self.dehb.ask()
        config = job["config"]
        if not isinstance(config, Configuration):  # DEHB hands out vectors without a ConfigSpace
            config = self.dehb.vector_to_configspace(config)
        return TrialInfo(config, to_fidelity(float(job["fidelity"]), self.fidelities), origin="dehb", token=job)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.dehb.tell(info.token, {"fitness": value.cost, "cost": value.time, "info": {"epochs": info.epochs}})

    def close(self) -> None:
        self.dehb.save()
        logger.remove()  # DEHB reconfigured loguru process-wide and holds its log file open
