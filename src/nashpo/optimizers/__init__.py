"""Optimizer adapters, one small file each. Import lazily: SMAC/DEHB/Optuna are heavy.

Plug-ins: a config entry ``mine: {class: "mypkg.module:MyOptimizer", ...}`` (or ``--hp
'{"class": ...}'``) names a subclass of ``nashpo.optimizers.base.Optimizer`` in the user's own
module (importable from ``PYTHONPATH`` or the working folder); ``resolve`` imports it, registers it
under its config name and returns the remaining hyperparameters.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
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
    "bohb": ("nashpo.optimizers.bohb", "BOHB"),
    "bohb_nb201": ("nashpo.optimizers.bohb", "BOHBNB201"),
    "tpe": ("nashpo.optimizers.tpe", "OptunaTPE"),
    # multi-objective
    "mo_rs": ("nashpo.optimizers.mo_rs", "MORandomSearch"),
    "nsga2": ("nashpo.optimizers.nsga2", "NSGA2"),
    "nsga3": ("nashpo.optimizers.nsga3", "NSGA3"),
    "linas": ("nashpo.optimizers.linas", "LINAS"),
    "parego": ("nashpo.optimizers.parego", "ParEGO"),
    "motpe": ("nashpo.optimizers.motpe", "MOTPE"),
    "mo_smac_mf": ("nashpo.optimizers.mo_smac_mf", "MOSmacMultiFidelity"),
}

BUILT_IN = frozenset(REGISTRY)
PLUGIN_KEY = "class"
_TARGET_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_]\w*$")

__all__ = ["REGISTRY", "Optimizer", "TrialInfo", "TrialValue", "adapter_source", "adapter_sources", "get_optimizer_class", "resolve"]


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
    if name in BUILT_IN:
        return Path(__file__).parent / f"{module.rsplit('.', 1)[1]}.py"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise InputError(f"optimizers.{name}.{PLUGIN_KEY}", module, "module not found")
    return Path(spec.origin)


SHARED_MODULES = ("nashpo.optimizers", "nashpo.optimizers.base", "nashpo.optimizers.finite")  # every search's code


def adapter_sources(name: str) -> list[Path]:
    """The adapter's source file, then the other adapter modules a built-in one uses, directly or
    through another (e.g. rungs.py for DEHB and BOHB): Snakemake inputs of its searches only."""
    own = adapter_source(name)
    if name not in BUILT_IN:
        return [own]
    first = REGISTRY[name][0]
    seen, todo = {first}, [first]
    while todo:
        module = importlib.import_module(todo.pop())
        for v in vars(module).values():
            used = v.__name__ if isinstance(v, ModuleType) else getattr(v, "__module__", None)
            if isinstance(used, str) and used.startswith(f"{__name__}.") and used not in seen and used not in SHARED_MODULES:
                seen.add(used)
                todo.append(used)
    return [own, *(Path(__file__).parent / f"{m.rsplit('.', 1)[1]}.py" for m in sorted(seen - {first}))]


def load_plugin(name: str, target: Any) -> type[Optimizer]:
    """Import ``target`` ("package.module:Class"), check it subclasses Optimizer, register it as ``name``."""
    from nashpo.optimizers.base import Optimizer

    field = f"optimizers.{name}.{PLUGIN_KEY}"
    if name in BUILT_IN:
        raise InputError(field, target, f"{name!r} is a built-in optimizer; give the plug-in another name")
    if not isinstance(target, str) or not _TARGET_RE.match(target):
        raise InputError(field, target, "must be 'package.module:ClassName'")
    module, attr = target.split(":")
    if os.getcwd() not in sys.path:  # a module beside the study's config
        sys.path.append(os.getcwd())
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise InputError(field, target, f"cannot import {module} ({exc})") from None
    except AttributeError:
        raise InputError(field, target, f"{module} has no {attr}") from None
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)) or cls is Optimizer:
        raise InputError(field, target, "is not a subclass of nashpo.optimizers.base.Optimizer")
    REGISTRY[name] = (module, attr)
    return cls


def resolve(name: str, hyperparameters: dict[str, Any] | None) -> tuple[type[Optimizer], dict[str, Any]]:
    """The optimizer class for ``name`` (a plug-in if the hyperparameters hold ``class``) and its
    checked hyperparameters (without ``class``); errors name ``optimizers.<name>.<field>``."""
    hp = dict(hyperparameters or {})
    target = hp.pop(PLUGIN_KEY, None)
    if target is not None:
        cls = load_plugin(name, target)
    else:
        cls = get_optimizer_class(name)
    return cls, cls.check_hyperparameters(hp)
