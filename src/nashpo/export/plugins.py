"""DeepCAVE's own dashboard plugins, run headless on an exported run or a group of runs.

``run_plugin(name, run)`` calls the plugin's ``process`` (as a dashboard worker does) and
``load_outputs`` (as the dashboard does to draw) with the inputs the dashboard would offer by
default: first objective (valid_error), highest budget, every hyperparameter, fixed seeds. Keyword
arguments override single inputs. Used by the tests, ``benchmarks/bench_deepcave.py`` and
``nashpo deepcave-check`` (one line per plugin for exported runs).
"""

from __future__ import annotations

import contextlib
import functools
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
# Multi-objective runs also get DeepCAVE's Pareto Front (``nashpo deepcave-check``: every pair of objectives) and Cost
# over Time per objective.
MO_PLUGINS = ("pareto_front",)


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


@contextlib.contextmanager
def fixed_ablation() -> Iterator[None]:
    """DeepCAVE 1.4.1's Ablation Paths fits its surrogate on category indices (``specific=True``)
    but queries it with the [0, 1]-normalised encoding, so in an all-categorical space every step
    predicts the default's cost (a flat path; or "aborted" when the incumbent looks worse). Within
    the block it queries with the encoding it was fitted on, as DeepCAVE's multi-objective ablation
    already does."""
    from deepcave.evaluators.ablation import Ablation

    original = Ablation.calculate

    def calculate(self, *args: Any, **kwargs: Any) -> None:
        run = self.run
        run.encode_config = functools.partial(type(run).encode_config, run, specific=True)  # explicit specific= still wins
        try:
            return original(self, *args, **kwargs)
        finally:
            del run.encode_config

    Ablation.calculate = calculate
    try:
        yield
    finally:
        Ablation.calculate = original


def plugin_class(name: str) -> type:
    from deepcave.plugins.budget.budget_correlation import BudgetCorrelation
    from deepcave.plugins.hyperparameter.ablation_paths import AblationPaths
    from deepcave.plugins.hyperparameter.configuration_cube import ConfigurationCube
    from deepcave.plugins.hyperparameter.importances import Importances
    from deepcave.plugins.hyperparameter.parallel_coordinates import ParallelCoordinates
    from deepcave.plugins.hyperparameter.pdp import PartialDependencies
    from deepcave.plugins.hyperparameter.symbolic_explanations import SymbolicExplanations
    from deepcave.plugins.objective.cost_over_time import CostOverTime
    from deepcave.plugins.objective.pareto_front import ParetoFront
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
        "pareto_front": ParetoFront,
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
        "pareto_front": {
            "objective_id_1": 0,
            "objective_id_2": 1,
            "budget_id": budget,
            "show_all": False,
            "show_error": False,
            "show_runs": True,
            "show_groups": True,
        },
    }[name]


@dataclass
class PluginResult:
    name: str
    inputs: dict[str, Any]
    outputs: Any  # raw data from process, JSON round-tripped as the dashboard caches it
    components: Any  # what load_outputs returns for the page
    seconds: float


def run_plugin(name: str, run: AbstractRun, fix_ablation: bool = True, **overrides: Any) -> PluginResult:
    from deepcave.utils.compression import Encoder

    plugin = plugin_class(name)()
    inputs = default_inputs(name, run) | overrides
    plugin.generate_inputs(**inputs)  # raises on unknown or missing inputs, as in DeepCAVE's API mode
    start = time.perf_counter()
    with fixed_ablation() if fix_ablation else contextlib.nullcontext():
        raw = plugin.process(run, inputs)
    outputs = json.loads(json.dumps(raw, cls=Encoder))  # the dashboard caches outputs as JSON
    if plugin.activate_run_selection:
        components = plugin.load_outputs(run, inputs, outputs)
    else:
        components = plugin.load_outputs([run], inputs, {run.id: outputs})
    return PluginResult(name, inputs, outputs, components, time.perf_counter() - start)


def summary(result: PluginResult, run: AbstractRun) -> str:
    """One line: what the plugin shows, in numbers."""
    out, name = result.outputs, result.name
    top = str(top_budget_id(run))
    if name == "overview":
        obj = run.get_objectives()[0]
        _, best = run.get_incumbent(objectives=obj)
        return f"best {obj.name} {best:.3f}, runtime {max(t.end_time for t in run.history):.0f} s, {len(run.history)} trials"
    if name == "configurations":
        perf = out["performances"][run.get_objectives()[0].name]
        first = {b: v[0] if isinstance(v, list) else v for b, v in perf.items() if v is not None and v != []}  # a list per seed
        return f"incumbent config {result.inputs['config_id']}: " + ", ".join(f"{b}: {v:.3f}" for b, v in first.items())
    if name == "cost_over_time":
        t, c = out["times"], out["costs_mean"]
        return f"{len(t)} points, {t[0]:.0f} s -> {t[-1]:.0f} s, cost {c[0]:.3f} -> {c[-1]:.3f}" if t else "no points"
    if name == "budget_correlation":
        return (
            "; ".join(f"{b1} vs {b2}: {v}" for b1, row in out["correlations"].items() for b2, v in row.items() if b1 != b2)
            or "single budget"
        )
    if name.startswith("importances"):
        ranked = sorted(out[top].items(), key=lambda kv: -kv[1][0])
        return ", ".join(f"{k} {v[0]:.2f}" for k, v in ranked[:3])
    if name == "ablation_paths":
        path = out[top][0]
        values = [v[0] for v in path.values()]
        return f"{next(iter(path))} {values[0]:.2f} -> {list(path)[-1]} {values[-1]:.2f} over {len(values) - 1} steps"
    if name in ("configuration_cube", "parallel_coordinates"):
        return f"{len(json.loads(out['df'])[run.get_objectives()[0].name])} configurations drawn"
    if name == "partial_dependencies":
        ys = [y for row in out["y"] for y in (row if isinstance(row, list) else [row])]
        return f"{result.inputs['hyperparameter_name_1']}: predicted {min(ys):.2f}..{max(ys):.2f}"
    if name == "symbolic_explanations":
        return out["expr"]
    if name == "pareto_front":
        on = [p for p, keep in zip(out["points_avg"], out["pareto_points"], strict=True) if keep]
        names = [run.get_objective(result.inputs[k]).name for k in ("objective_id_1", "objective_id_2")]
        return f"{len(on)} of {len(out['points_avg'])} configurations on the front; " + ", ".join(
            f"{n} {min(p[i] for p in on):.4g}..{max(p[i] for p in on):.4g}" for i, n in enumerate(names)
        )
    if name == "footprint":
        kinds = ("config_points", "border_points", "support_points")
        return ", ".join(f"{len(out[k][2])} {k.split('_')[0]}" for k in kinds) + f", incumbent {out['incumbent_points'][2]}"
    return ""
