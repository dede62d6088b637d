"""Optimizer adapters, one small file each. Import lazily: SMAC/DEHB/Optuna are heavy."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nashpo.errors import InputError

if TYPE_CHECKING:  # base imports ConfigSpace (~0.7 s): the workflow only needs the registry
    from nashpo.optimizers.base import Optimizer

# name -> (module, class)
REGISTRY: dict[str, tuple[str, str]] = {
    "rs": ("nashpo.optimizers.rs", "RandomSearch"),
    "re": ("nashpo.optimizers.re", "RegularizedEvolution"),
    "re_autodl": ("nashpo.optimizers.re", "AutoDLRegularizedEvolution"),
    "reinforce": ("nashpo.optimizers.reinforce", "Reinforce"),
    "smac": ("nashpo.optimizers.smac_bo", "SMACBO"),
    "smac_hb": ("nashpo.optimizers.smac_hb", "SMACHyperband"),
    "dehb": ("nashpo.optimizers.dehb", "DEHBOptimizer"),
    "tpe": ("nashpo.optimizers.tpe", "OptunaTPE"),
}

__all__ = ["REGISTRY", "Optimizer", "TrialInfo", "TrialValue", "adapter_source", "get_optimizer_class"]


def __getattr__(name: str) -> Any:
    if name in ("Optimizer", "TrialInfo", "TrialValue"):
        from nashpo.optimizers import base

        return getattr(base, name)
    raise AttributeError(name)


def check_name(name: str) -> str:
    if name not in REGISTRY:
        raise InputError("optimizer", name, f"unknown; choose from {', '.join(REGISTRY)}")
    return name


def get_optimizer_class(name: str) -> type[Optimizer]:
    module, cls = REGISTRY[check_name(name)]
    return getattr(importlib.import_module(module), cls)


def adapter_source(name: str) -> Path:
    """The adapter's source file (a Snakemake input, so editing it reruns its jobs)."""
    module = REGISTRY[check_name(name)][0]
    return Path(__file__).parent / f"{module.rsplit('.', 1)[1]}.py"
