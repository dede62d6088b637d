"""DEHB 0.1.2 driven by ``ask()``/``tell()``.

DEHB's own ``run()`` budgets wall-clock time; here nashpo's runner owns the simulated clock and
DEHB only proposes and learns. DEHB works on its [0, 1] vector encoding of the NB201
ConfigSpace and hands out Configurations of that space, which the runner evaluates as is.

Rungs: DEHB's fidelities are ``max * eta**-i`` for ``i = 0 .. floor(log_eta(max / min))``.
- ``eta = None`` (default): with two data fidelities (offline: 12 and 200 epochs) ``eta = max / min``
  (200 / 12), so the rungs are exactly 12 and 200; with more fidelities (full learning curves)
  ``eta = 3`` (DEHB's default).
- Each rung is mapped to the smallest data fidelity at or above it (1e-6 tolerance): e.g.
  fidelities 1..200 and eta 3 give rungs 2.47, 7.41, 22.2, 66.7, 200 -> epochs 3, 8, 23, 67, 200.
  A given ``eta`` is used as is: with only 12 and 200 epochs, ``eta = 3`` gives rungs 22.2, 66.7,
  200, which all map to 200.
- Only epochs from ``self.fidelities`` are ever proposed; DEHB is told the fidelity it asked for.

Parallel workers (``parallel = "async"``): DEHB's asynchronous ask/tell as its own ``run()`` does
with several workers (dehb 0.1.2 ``optimizers/dehb.py``: ``_get_next_bracket`` hands a job from the
first bracket whose previous rung is not waiting for results and starts a new bracket when every
active one waits; ``tell`` takes results in any order, ``bracket.complete_job`` then DE selection
against the parent). DEHB's ``n_workers`` stays 1: it only sizes the Dask cluster of DEHB's
``run()``; the runner's workers call ``ask`` themselves.

Output: ``close()`` makes DEHB save ``history.parquet.gzip`` (DEHB vectors, fitness = validation
error in %, cost = simulated seconds, fidelity = DEHB's rung; ``info`` holds the epochs run),
``incumbent.json`` and ``dehb_state.json`` into the run's ``optimizer/`` folder (the workdir),
next to ``dehb.log``. Nothing is written to the current directory (DEHB's default output path).

Logging: DEHB reconfigures loguru process-wide (a stdout sink plus a queued file sink). Right
after DEHB is built all loguru sinks are removed and one sink writes DEHB's warnings and errors to
``optimizer/dehb.log``; ``close()`` removes it, leaving loguru without sinks (nashpo itself does
not log through loguru, so its stdout/stderr stay clean).
"""

from __future__ import annotations

import bisect
import math
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from dehb import DEHB
from loguru import logger

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.rungs import two_rung_eta

DEFAULT_ETA = 3.0  # DEHB's default, used when the data has more than two fidelities
# DE mutation x crossover schemes DEHB 0.1.2 implements
STRATEGIES = tuple(
    f"{m}_{c}" for m in ("rand1", "rand2", "rand2dir", "best1", "best2", "currenttobest1", "randtobest1") for c in ("bin", "exp")
)
LOG_LEVEL = "WARNING"


@contextmanager
def quiet() -> Iterator[None]:
    """DEHB 0.1.2 calls ConfigSpace APIs that ConfigSpace 1.x flags as deprecated, on every ask."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def n_rungs(min_fidelity: float, max_fidelity: float, eta: float) -> int:
    """Number of rungs DEHB 0.1.2 builds (its own formula)."""
    return -int(math.log(min_fidelity / max_fidelity) / math.log(eta)) + 1


def auto_eta(fidelities: list[int]) -> float:
    """eta for DEHB: max/min with two fidelities (rungs on both), else DEHB's default."""
    return two_rung_eta(fidelities, n_rungs, DEFAULT_ETA)


def rung_to_epochs(rung: float, fidelities: list[int]) -> int:
    """Smallest data fidelity at or above DEHB's rung (the highest one if the rung is above all)."""
    pos = bisect.bisect_left(fidelities, rung * (1 - 1e-6))
    return fidelities[min(pos, len(fidelities) - 1)]


class DEHBOptimizer(Optimizer):
    name = "dehb"
    parallel = "async"  # DEHB's asynchronous ask/tell (new bracket when every active one waits)
    multi_fidelity = True
    defaults: ClassVar[dict[str, Any]] = {
        "eta": None,  # number > 1; None: max/min fidelity with two fidelities, else 3 (see module doc)
        "mutation_factor": 0.5,  # DE mutation scale F (DEHB's default)
        "crossover_prob": 0.5,  # DE binomial/exponential crossover rate (DEHB's default)
        "strategy": "rand1_bin",  # DE mutation/crossover strategy (DEHB's default)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        eta = hp["eta"]
        if eta is not None and (isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 1):
            raise InputError("dehb.eta", eta, "must be a number > 1 (or null for the automatic choice)")
        if not 0 < hp["mutation_factor"] <= 2:
            raise InputError("dehb.mutation_factor", hp["mutation_factor"], "must be in (0, 2]")
        if not 0 <= hp["crossover_prob"] <= 1:
            raise InputError("dehb.crossover_prob", hp["crossover_prob"], "must be in [0, 1]")
        if hp["strategy"] not in STRATEGIES:
            raise InputError("dehb.strategy", hp["strategy"], f"unknown; choose from {', '.join(STRATEGIES)}")
        return hp

    def setup(self) -> None:
        lo, hi = self.fidelities[0], self.fidelities[-1]
        self.eta = float(self.hp["eta"]) if self.hp["eta"] is not None else auto_eta(self.fidelities)
        # DEHB hands its output path to loguru as a format string ("{" in a path breaks it), so it
        # is built in a scratch folder and then pointed at the workdir, before it writes anything.
        with tempfile.TemporaryDirectory(prefix="nashpo-dehb-") as scratch, quiet():
            self.dehb = DEHB(
                cs=self.space,
                dimensions=len(self.space),
                min_fidelity=lo,
                max_fidelity=hi,
                eta=self.eta,
                mutation_factor=float(self.hp["mutation_factor"]),
                crossover_prob=float(self.hp["crossover_prob"]),
                strategy=self.hp["strategy"],
                seed=self.seed,
                n_workers=1,
                output_path=scratch,
                save_freq="end",
                log_level=LOG_LEVEL,
            )
            logger.remove()  # DEHB's stdout sink and its queued file sink in the scratch folder
        self.dehb.output_path = self.workdir
        self.dehb.log_filename = str(self.workdir / "dehb.log")
        self.dehb.de_params["output_path"] = self.workdir
        for de in self.dehb.de.values():
            de.output_path = self.workdir
        self.log_file = open(self.workdir / "dehb.log", "w")  # closed in close()
        self.log_sink = logger.add(self.log_file, level=LOG_LEVEL, format="{time} {level} {message}")
        self.rung_epochs = {float(r): rung_to_epochs(float(r), self.fidelities) for r in self.dehb.fidelities}

    def ask(self) -> TrialInfo:
        with quiet():
            job = self.dehb.ask()
        return TrialInfo(job["config"], self.rung_epochs[float(job["fidelity"])], origin="dehb", token=job)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        with quiet():
            self.dehb.tell(info.token, {"fitness": value.cost, "cost": value.time, "info": {"epochs": info.epochs}})

    def close(self) -> None:
        with quiet():
            self.dehb.save()
        logger.remove(self.log_sink)
        self.log_file.close()
