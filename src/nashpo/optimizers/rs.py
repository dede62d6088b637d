"""Random search: uniform samples from the space at the highest fidelity."""

from __future__ import annotations

from typing import Any, ClassVar

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue


class RandomSearch(Optimizer):
    name = "rs"
    parallel = "async"  # independent samples: nothing waits for a result
    defaults: ClassVar[dict[str, Any]] = {}

    batch: ClassVar[int] = 256  # ConfigSpace samples batches much faster than single configs

    def setup(self) -> None:
        self.space.seed(self.seed)
        self._queue: list = []

    def ask(self) -> TrialInfo:
        if not self._queue:
            self._queue = self.space.sample_configuration(self.batch)[::-1]
        return TrialInfo(self._queue.pop(), self.max_fidelity, origin="random")

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        pass
