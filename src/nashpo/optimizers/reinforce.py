"""REINFORCE (Williams 1992) with the NB201 paper's settings.

The policy is a softmax over the five ops for each of the six edges (logits initialised as
``1e-3 * N(0, 1)``); each proposal samples one op per edge independently (origin ``policy``).
After each trial the reward, the validation accuracy in %, first updates an exponential moving
average baseline (with bias correction: numerator and denominator both decay with the momentum),
then the logits take one Adam step (``beta1 = 0.9``, ``beta2 = 0.999``, ``eps = 1e-8``) on the loss
``-log p(arch) * (reward - baseline)``, whose gradient per edge is
``-(reward - baseline) * (onehot(op) - softmax(logits))``.

Settings from AutoDL-Projects, the NB201 paper's code: ``scripts-search/algos/REINFORCE.sh`` runs
``exps/algos/reinforce.py`` with ``--learning_rate 0.001 --EMA_momentum 0.9 --time_budget 12000``;
that script uses ``torch.optim.Adam`` on a 6x5 logit matrix, updates the EMA before computing the
advantage and reports the best-rewarded architecture seen (here: the runner's incumbent). The
numpy version here needs no torch. Single fidelity; all randomness from one seeded Generator.

Any finite space (every family): one softmax per hyperparameter over its choices (NB201: per edge
over the five ops). The logits are one matrix with a row per hyperparameter, padded with ``-inf``
where a hyperparameter has fewer choices than the widest one, so padded choices have probability 0
and gradient 0. The reward is ``100 - cost`` for every family; a constant offset cancels in the
advantage because the baseline is a weighted mean of past rewards.

Parallel workers (``parallel = "async"``): the policy is updated as results return, in the order
they end, as a parameter server applies the gradients of controller replicas (Zoph & Le 2017,
Sec. 3.3): each proposal samples from the policy as it is when a worker asks, and its result's
gradient uses the probabilities it was sampled with (``-log p(arch)`` of the sampling policy, as
AutoDL's ``reinforce.py`` keeps the ``log_prob`` of ``select_action``); the baseline and Adam take
results one at a time. With one worker nothing is updated between a proposal and its result, so
this is the sequential algorithm.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
INIT_SCALE = 1e-3


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class Reinforce(Optimizer):
    name = "reinforce"
    parallel = "async"  # policy updated as results return
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 0.001,  # Adam step size (AutoDL REINFORCE.sh: --learning_rate 0.001)
        "ema_momentum": 0.9,  # baseline momentum (AutoDL REINFORCE.sh: --EMA_momentum 0.9)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        if not hp["learning_rate"] > 0:
            raise InputError("reinforce.learning_rate", hp["learning_rate"], "must be positive")
        if not 0 <= hp["ema_momentum"] < 1:
            raise InputError("reinforce.ema_momentum", hp["ema_momentum"], "must be in [0, 1)")
        return hp

    def setup(self) -> None:
        self.grid = FiniteSpace(self.space)
        self.sizes = np.array(self.grid.radices)
        n, width = len(self.sizes), int(self.sizes.max())
        self.rng = np.random.default_rng(self.seed)
        self.logits = INIT_SCALE * self.rng.standard_normal((n, width))
        self.logits[np.arange(width)[None, :] >= self.sizes[:, None]] = -np.inf
        self.adam_m = np.zeros_like(self.logits)
        self.adam_v = np.zeros_like(self.logits)
        self.steps = 0
        self.ema_num = self.ema_den = 0.0

    @property
    def baseline(self) -> float:
        return self.ema_num / self.ema_den if self.ema_den else 0.0

    def ask(self) -> TrialInfo:
        probs = softmax(self.logits)
        u = self.rng.random(len(self.sizes))
        ops = [min(int(np.searchsorted(np.cumsum(p), x, side="right")), int(k) - 1) for p, x, k in zip(probs, u, self.sizes, strict=True)]
        return TrialInfo(self.grid.config(ops), self.max_fidelity, origin="policy", token=(ops, probs))

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        ops, probs = info.token
        reward = 100.0 - value.cost
        mom = self.hp["ema_momentum"]
        self.ema_num = mom * self.ema_num + (1 - mom) * reward
        self.ema_den = mom * self.ema_den + (1 - mom)
        advantage = reward - self.baseline
        onehot = np.zeros_like(probs)
        onehot[np.arange(len(ops)), ops] = 1.0
        grad = -advantage * (onehot - probs)
        self._adam(grad)

    def _adam(self, grad: np.ndarray) -> None:
        b1, b2 = ADAM_BETAS
        self.steps += 1
        self.adam_m = b1 * self.adam_m + (1 - b1) * grad
        self.adam_v = b2 * self.adam_v + (1 - b2) * grad**2
        m_hat = self.adam_m / (1 - b1**self.steps)
        v_hat = self.adam_v / (1 - b2**self.steps)
        self.logits = self.logits - self.hp["learning_rate"] * m_hat / (np.sqrt(v_hat) + ADAM_EPS)

    def close(self) -> None:
        probs = softmax(self.logits)
        policy = {
            name: {str(c): float(q) for c, q in zip(choices, p, strict=False)}
            for name, choices, p in zip(self.grid.names, self.grid.choices, probs, strict=True)
        }
        state = {"steps": self.steps, "baseline": self.baseline, "policy": policy}
        (self.workdir / "policy.json").write_text(json.dumps(state, indent=2))
