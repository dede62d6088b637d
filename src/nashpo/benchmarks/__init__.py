"""Benchmark families behind one interface (see ``base.Family``), imported lazily by name.

A new family is one module implementing ``Family`` plus one line in ``FAMILIES``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from nashpo.benchmarks.base import check_in

if TYPE_CHECKING:
    from nashpo.benchmarks.base import Family

FAMILIES: dict[str, str] = {
    "nb201": "nashpo.benchmarks.nb201:NB201Family",
    "hpolib": "nashpo.benchmarks.fcnet:FCNetFamily",
    "hpobench": "nashpo.benchmarks.hpobench_mlp:MLPFamily",
}
DEFAULT_FAMILY = "nb201"

_cache: dict[str, Family] = {}


def get_family(name: str) -> Family:
    """The family registered as ``name`` (one shared instance per process)."""
    family = _cache.get(name)
    if family is None:
        module, attr = FAMILIES[check_in("benchmark", name, tuple(FAMILIES))].split(":")
        family = getattr(importlib.import_module(module), attr)()
        _cache[name] = family
    return family


def tasks_of(name: str) -> tuple[str, ...]:
    return get_family(name).tasks


__all__ = ["DEFAULT_FAMILY", "FAMILIES", "get_family", "tasks_of"]
