"""Random search: uniform samples from the space at the highest fidelity."""

from __future__ import annotations

from typing import Any, ClassVar

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue


class RandomSearch(Optimizer):
    name = "rs"
    defaults: ClassVar[dict[str, Any]] = {}

    def setup(self) -> None:
        self.space.seed(self.seed)

    def ask(self) -> TrialInfo:
        return TrialInfo(self.space.sample_configuration(), self.max_fidelity, origin="random")

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        pass
