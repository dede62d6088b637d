"""Test plug-in: a multi-fidelity, multi-objective random search (each configuration at the lowest, then the highest fidelity)."""

from __future__ import annotations

from nashpo.optimizers.base import TrialInfo
from nashpo.optimizers.mo_rs import MORandomSearch


class MORandomTwoFidelities(MORandomSearch):
    name = "mo_rs_mf"
    multi_fidelity = True

    def setup(self) -> None:
        super().setup()
        self._again: TrialInfo | None = None

    def ask(self) -> TrialInfo:
        if self._again is not None:
            info, self._again = self._again, None
            return info
        info = super().ask()
        self._again = TrialInfo(info.config, self.max_fidelity, origin="promoted")
        return TrialInfo(info.config, self.fidelities[0], origin="random")
