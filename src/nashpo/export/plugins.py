"""DeepCAVE's own dashboard plugins, run headless on an exported run or a group of runs.

``run_plugin(name, run)`` calls the plugin's ``process`` (as a dashboard worker does) and
``load_outputs`` (as the dashboard does to draw) with the inputs the dashboard would offer by
default: first objective (valid_error), highest budget, every hyperparameter, fixed seeds. Keyword
arguments override single inputs. Used by the tests, ``benchmarks/bench_deepcave.py`` and
``nashpo deepcave-check``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # deepcave sets itself up from sys.argv on import: the dashboard imports it late
    from deepcave.runs import AbstractRun

PLUGINS = (
    "overview",
    "configurations",
    "cost_over_time",
    "budget_correlation",
    "importances_fanova",
    "importances_lpi",
    "ablation_paths",
    "configuration_cube",
    "parallel_coordinates",
    "partial_dependencies",
    "symbolic_explanations",
    "footprint",
)


# DeepCAVE's Footprint adds border and random configurations until it has 4,000 points (or none
# is rejected 3 times in a row). In an all-categorical space it rejects none, so every Footprint
# builds a 4,000-point distance matrix one row at a time and runs MDS on it: 726 s for a 200-trial
# run here (benchmarks/bench_deepcave.py). Capping both generators bounds it.
FOOTPRINT_SUPPORT = 250


@contextlib.contextmanager
def bounded_footprint(per_kind: int | None = FOOTPRINT_SUPPORT) -> Iterator[None]:
    """Within the block, DeepCAVE's Footprint adds at most ``per_kind`` border and ``per_kind``
    random configurations (None: DeepCAVE's own, up to 4,000 points in total)."""
    import deepcave.evaluators.footprint as footprint

    if per_kind is None:
        yield
        return
    originals = {name: getattr(footprint, name) for name in ("sample_border_config", "sample_random_config")}
    try:
        for name, sample in originals.items():
            setattr(footprint, name, lambda *a, _sample=sample, **k: itertools.islice(_sample(*a, **k), per_kind))
        yield
    finally:
        for name, sample in originals.items():
            setattr(footprint, name, sample)


def plugin_class(name: str) -> type:
    from deepcave.plugins.budget.budget_correlation import BudgetCorrelation
    from deepcave.plugins.hyperparameter.ablation_paths import AblationPaths
    from deepcave.plugins.hyperparameter.configuration_cube import ConfigurationCube
    from deepcave.plugins.hyperparameter.importances import Importances
    from deepcave.plugins.hyperparameter.parallel_coordinates import ParallelCoordinates
    from deepcave.plugins.hyperparameter.pdp import PartialDependencies
    from deepcave.plugins.hyperparameter.symbolic_explanations import SymbolicExplanations
    from deepcave.plugins.objective.cost_over_time import CostOverTime
    from deepcave.plugins.summary.configurations import Configurations
    from deepcave.plugins.summary.footprint import FootPrint
    from deepcave.plugins.summary.overview import Overview

    return {
        "overview": Overview,
        "configurations": Configurations,
        "cost_over_time": CostOverTime,
        "budget_correlation": BudgetCorrelation,
        "importances_fanova": Importances,
        "importances_lpi": Importances,
        "ablation_paths": AblationPaths,
        "configuration_cube": ConfigurationCube,
        "parallel_coordinates": ParallelCoordinates,
        "partial_dependencies": PartialDependencies,
        "symbolic_explanations": SymbolicExplanations,
        "footprint": FootPrint,
    }[name]


def top_budget_id(run: AbstractRun) -> int:
    return len(run.get_budgets(include_combined=False)) - 1


def default_inputs(name: str, run: AbstractRun) -> dict[str, Any]:
    """The cleaned inputs (one value per input) the dashboard would pass by default."""
    hps = list(run.configspace.keys())
    budget = top_budget_id(run)
    every_budget = list(range(len(run.get_budgets(include_combined=False))))
    return {
        "overview": {},
        "configurations": {"config_id": run.get_config_id(run.get_incumbent(objectives=run.get_objectives()[0])[0])},
        "cost_over_time": {"objective_id": 0, "budget_id": budget, "xaxis": "times", "show_runs": True, "show_groups": True},
        "budget_correlation": {"objective_id": 0},
        "importances_fanova": {
            "objective_id1": 0,
            "objective_id2": None,
            "method": "global",
            "n_trees": 10,
            "hyperparameter_names": hps,
            "n_hps": len(hps),
            "budget_ids": every_budget,
        },
        "importances_lpi": {
            "objective_id1": 0,
            "objective_id2": None,
            "method": "local",
            "n_trees": 10,
            "hyperparameter_names": hps,
            "n_hps": len(hps),
            "budget_ids": every_budget,
        },
        "ablation_paths": {
            "objective_id1": 0,
            "objective_id2": None,
            "n_trees": 10,
            "n_hps": len(hps),
            "show_confidence": False,
            "budget_id": budget,
        },
        "configuration_cube": {
            "objective_id": 0,
            "budget_id": budget,
            "n_configs": len(run.get_configs()),
            "hyperparameter_names": hps[:3],
        },
        "parallel_coordinates": {
            "objective_id": 0,
            "budget_id": budget,
            "show_important_only": True,  # the dashboard's default (its other branch drops n_hps names)
            "n_hps": len(hps),
            "show_unsuccessful": False,
            "hyperparameter_names": hps,
            "hide_hps": True,
        },
        "partial_dependencies": {
            "objective_id": 0,
            "budget_id": budget,
            "hyperparameter_name_1": hps[0],
            "hyperparameter_name_2": None,
            "show_confidence": True,
            "show_ice": True,
        },
        "symbolic_explanations": {
            "objective_id": 0,
            "budget_id": budget,
            "hyperparameter_name_1": hps[0],
            "hyperparameter_name_2": None,
            "parsimony": -4,
            "generations": 5,
            "population_size": 500,
            "random_seed": 0,
            "metric": "rmse",
        },
        "footprint": {"objective_id": 0, "budget_id": budget, "details": 0.5, "show_borders": True, "show_supports": True},
    }[name]


@dataclass
class PluginResult:
    name: str
    inputs: dict[str, Any]
    outputs: Any  # raw data from process, JSON round-tripped as the dashboard caches it
    components: Any  # what load_outputs returns for the page
    seconds: float


def run_plugin(name: str, run: AbstractRun, **overrides: Any) -> PluginResult:
    from deepcave.utils.compression import Encoder

    plugin = plugin_class(name)()
    inputs = default_inputs(name, run) | overrides
    plugin.generate_inputs(**inputs)  # raises on unknown or missing inputs, as in DeepCAVE's API mode
    start = time.perf_counter()
    outputs = json.loads(json.dumps(plugin.process(run, inputs), cls=Encoder))  # the dashboard caches outputs as JSON
    if plugin.activate_run_selection:
        components = plugin.load_outputs(run, inputs, outputs)
    else:
        components = plugin.load_outputs([run], inputs, {run.id: outputs})
    return PluginResult(name, inputs, outputs, components, time.perf_counter() - start)
