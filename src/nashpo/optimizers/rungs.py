"""Hyperband-style rungs shared by the multi-fidelity adapters (DEHB, BOHB)."""

from __future__ import annotations

import math
from collections.abc import Callable


def two_rung_eta(fidelities: list[int], n_rungs: Callable[[float, float, float], int], default: float) -> float:
    """max/min with two fidelities, so that the rungs land on both (``n_rungs`` is the library's own
    rung count; eta steps down an ulp at a time where its log rounding would drop the lower rung);
    ``default`` with more than two fidelities."""
    lo, hi = fidelities[0], fidelities[-1]
    if len(fidelities) > 2:
        return default
    eta = hi / lo
    while n_rungs(lo, hi, eta) < 2:
        eta = math.nextafter(eta, 1.0)
    return eta
