"""Searches on the simulated clock: the budget (``budget``), the one loop (``loop``), multi-objective
fronts (``fronts``), chunks of seeds (``chunk``). The loop's names load on first use, so the budget
and the CLI's commands import without the optimizers' libraries."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nashpo.runner.budget import MAX_EVALUATIONS, MAX_SEED, Budget

if TYPE_CHECKING:
    from nashpo.runner.loop import NOISE, OPTIMIZER_DIR, check_seed, package_versions, run_search

__all__ = ["MAX_EVALUATIONS", "MAX_SEED", "NOISE", "OPTIMIZER_DIR", "Budget", "check_seed", "package_versions", "run_search"]
LOOP_NAMES = frozenset(__all__) - {"MAX_EVALUATIONS", "MAX_SEED", "Budget"}


def __getattr__(name: str) -> Any:
    if name in LOOP_NAMES:
        return getattr(importlib.import_module("nashpo.runner.loop"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
