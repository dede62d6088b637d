"""DeepCAVE export, proven with DeepCAVE's own loader and its dashboard plugins (run headless).

Every optimizer's trial log, DEHB's native folder, SMAC's native folder; values checked against
the trial log: incumbent cost, simulated clock, queried budgets.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deepcave.runs.converters.dataframe import DataFrameRun
from deepcave.runs.converters.smac3v2 import SMAC3v2Run
from deepcave.runs.group import Group
from deepcave.utils.util import custom_round
from scipy import stats

from nashpo.errors import InputError
from nashpo.export.deepcave import NashpoRun, deepcave_converters, load_export, load_nashpo_run, trials_to_deepcave
from nashpo.export.dehb_native import dehb_to_deepcave
from nashpo.export.plugins import PLUGINS, bounded_footprint, run_plugin
from nashpo.runner import Budget, run_search
from nashpo.space import EDGE_NAMES, config_to_code
from nashpo.triallog import read_trials

EVALS = {"rs": 60, "re": 60, "tpe": 40, "smac": 25, "smac_hb": 70, "dehb": 60, "bohb": 60}
MULTI_FIDELITY = ("smac_hb", "dehb", "bohb")
GROUP_SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name, evals in EVALS.items():
        out[name] = root / name
        run_search(name, "cifar10", 1, Budget(max_evals=evals), out[name], data_dir=data_dir, progress=None)
    for seed in GROUP_SEEDS[1:]:
        out[f"rs{seed}"] = root / f"rs{seed}"
        run_search("rs", "cifar10", seed, Budget(max_evals=EVALS["rs"]), out[f"rs{seed}"], data_dir=data_dir, progress=None)
    out["dehb2"] = root / "dehb2"
    run_search("dehb", "cifar10", 2, Budget(max_evals=EVALS["dehb"]), out["dehb2"], data_dir=data_dir, progress=None)
    return out


@pytest.fixture(scope="module")
def exports(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dc")
    return {name: trials_to_deepcave(run, root / name) for name, run in runs.items()}


def unique_trials(run: Path) -> pd.DataFrame:
    """DeepCAVE keeps one trial per (config, budget, seed): the last one."""
    return read_trials(run).drop_duplicates(["arch_code", "epochs"], keep="last")


def expected_trajectory(trials: pd.DataFrame, budget: float) -> tuple[list[float], list[float]]:
    """Improvements of the best objective at ``budget`` on the simulated clock (DeepCAVE rounds times to 0.01 s)."""
    at = trials[(trials.epochs == budget) & (trials.status == "SUCCESS")].sort_values("sim_time")
    times, costs, best = [], [], math.inf
    for row in at.itertuples():
        if row.objective < best:
            best = row.objective
            times.append(round(row.sim_time, 2))
            costs.append(row.objective)
    return times, costs


def text_of(component) -> str:
    """All text a Dash component tree shows."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


@pytest.mark.parametrize("optimizer", list(EVALS))
def test_trial_log_export_loads_with_deepcave(runs: dict[str, Path], exports: dict[str, Path], optimizer: str) -> None:
    run = load_export(exports[optimizer])
    assert isinstance(run, DataFrameRun)
    trials = read_trials(runs[optimizer])
    unique = unique_trials(runs[optimizer])
    assert len(run.history) == len(unique)
    assert [o.name for o in run.get_objectives()] == ["valid_error", "Time"]  # DeepCAVE's loader adds Time
    assert run.get_budgets(include_combined=False) == sorted(float(e) for e in trials["epochs"].unique())
    assert run.meta["optimizer"] == optimizer and run.meta["seed"] == 1 and run.meta["dataset"] == "cifar10"
    for trial in run.history:
        config = run.get_config(trial.config_id)
        assert run.get_config_id(config) == trial.config_id  # key order = ConfigSpace's: incumbents resolve
        code = config_to_code({e: config[e] for e in EDGE_NAMES})
        row = unique[(unique.arch_code == code) & (unique.epochs == trial.budget)].iloc[0]
        assert trial.costs[0] == pytest.approx(row.objective)
        assert trial.costs[1] == pytest.approx(row.cost, abs=0.01)
        assert trial.seed == 1 and trial.additional["arch_code"] == code and trial.additional["trial"] == row.trial
        assert trial.additional["origin"] == row.origin
        # the simulated clock is DeepCAVE's time axis
        assert trial.end_time == pytest.approx(row.sim_time, abs=0.01)
        assert trial.start_time == pytest.approx(row.start_time, abs=0.01)  # the trial log's own start


@pytest.mark.parametrize("optimizer", list(EVALS))
def test_nashpo_converter_shows_the_run(runs: dict[str, Path], exports: dict[str, Path], optimizer: str) -> None:
    """``nashpo deepcave``'s converter: the optimizer on Overview, each configuration's origin, only
    valid_error as objective; the trials, times and costs are DeepCAVE's DataFrame loader's."""
    plain, run = load_export(exports[optimizer]), load_nashpo_run(exports[optimizer])
    assert isinstance(run, NashpoRun) and run.prefix == f"{optimizer} (nashpo)" and run.name == f"{optimizer}-cifar10-1"
    assert run.get_objective_names() == ["valid_error"] and plain.get_objective_names() == ["valid_error", "Time"]
    assert [(t.config_id, t.budget, t.costs, t.start_time, t.end_time) for t in run.history] == [
        (t.config_id, t.budget, t.costs[:1], t.start_time, t.end_time) for t in plain.history
    ]
    assert run.meta["optimizer"] == optimizer and run.meta["objectives"] == plain.meta["objectives"][:1]
    # a configuration's origin: the trial log's origin of the first trial that evaluated it
    trials = read_trials(runs[optimizer]).sort_values("trial")
    first = trials.drop_duplicates("arch_code", keep="first").set_index("arch_code")["origin"]
    for config_id, config in run.configs.items():
        assert run.get_origin(config_id) == first[config_to_code({e: config[e] for e in EDGE_NAMES})]
        assert plain.get_origin(config_id) is None  # DeepCAVE's DataFrame loader keeps none
    shown = text_of(run_plugin("overview", run).components)
    assert f"Optimizer: {optimizer} (nashpo)" in shown and "DataFrame" not in shown and "Best Time" not in shown
    assert "Optimizer: DataFrame" in text_of(run_plugin("overview", plain).components)
    incumbent = run.get_config_id(run.get_incumbent(objectives=run.get_objectives()[0])[0])
    table = run_plugin("configurations", run, config_id=incumbent).outputs["overview_table_data"]
    assert dict(zip(table["Key"], table["Value"], strict=True))["Origin"] == run.get_origin(incumbent) in set(trials["origin"])


def test_nashpo_converter_in_deepcaves_config(exports: dict[str, Path], tmp_path: Path) -> None:
    """The converter takes DataFrameRun's place in DeepCAVE's config (DeepCAVE keeps the last
    converter that loads a folder, so not both); a DataFrame folder without nashpo.json loads as
    DeepCAVE's own converter loads it; plain ``deepcave --config <nashpo/deepcave_config.py>`` gets it."""
    import shutil

    from deepcave.config import Config
    from deepcave.utils.configs import parse_config

    import nashpo.deepcave_config

    default = Config().CONVERTERS
    ours = parse_config(nashpo.deepcave_config.__file__).CONVERTERS  # as DeepCAVE's own `--config` loads it
    assert ours == deepcave_converters(default) == [NashpoRun if c is DataFrameRun else c for c in default]
    assert DataFrameRun not in ours and ours.count(NashpoRun) == 1
    other = tmp_path / "other"
    shutil.copytree(exports["re"], other)
    (other / "nashpo.json").unlink()
    run, plain = NashpoRun.from_path(other), DataFrameRun.from_path(other)
    assert run.prefix == "DataFrame" and run.name == "other" and run.get_objective_names() == ["valid_error", "Time"]
    assert [(t.costs, t.end_time) for t in run.history] == [(t.costs, t.end_time) for t in plain.history]
    assert {run.get_origin(i) for i in run.configs} == {None}
    assert run.hash != load_nashpo_run(exports["re"]).hash
    group = Group("rs", [load_nashpo_run(exports[name]) for name in ("rs", *(f"rs{s}" for s in GROUP_SEEDS[1:]))])
    assert group.get_objective_names() == ["valid_error"]
    assert "Optimizer: rs (nashpo)" in text_of(run_plugin("overview", group).components)  # Overview: the first run's prefix


def test_parallel_clock_in_cost_over_time(data_dir: Path, tmp_path: Path) -> None:
    """Four workers: DeepCAVE's times are the simulated clock the trials overlap on, so Cost over
    Time and Overview end at the run's clock (within the budget), not at the sum of costs (~4x it)."""
    budget = 20_000
    run_search("rs", "cifar10", 1, Budget(max_sim_seconds=budget), tmp_path / "run", data_dir=data_dir, progress=None, workers=4)
    trials = read_trials(tmp_path / "run")
    clock = float(trials["sim_time"].max())
    assert sorted(trials["worker"].unique()) == [0, 1, 2, 3] and clock <= budget < trials["cost"].sum() / 3
    assert np.allclose(trials["start_time"] + trials["cost"], trials["sim_time"])
    export = trials_to_deepcave(tmp_path / "run", tmp_path / "dc")
    unique = trials.drop_duplicates(["arch_code", "epochs"], keep="last")
    times, costs = expected_trajectory(unique, 12.0)
    for run in (load_export(export), load_nashpo_run(export)):
        by_trial = {t.additional["trial"]: t for t in run.history}
        for row in unique.itertuples():
            assert by_trial[row.trial].start_time == pytest.approx(row.start_time, abs=0.01)
            assert by_trial[row.trial].end_time == pytest.approx(row.sim_time, abs=0.01)
            assert by_trial[row.trial].additional["worker"] == row.worker
        assert sum(1 for t in run.history if t.start_time < 0.01) == 4  # every worker starts at 0
        cot = run_plugin("cost_over_time", run)
        assert cot.outputs["times"] == pytest.approx(times, abs=0.01) and cot.outputs["costs_mean"] == pytest.approx(costs)
        assert cot.outputs["times"][-1] <= clock + 0.01
        assert list(cot.components.data[0].x) == pytest.approx(times, abs=0.01)
        assert f"Total runtime [s]: {round(clock, 2)}" in text_of(run_plugin("overview", run).components)


def test_nashpo_converter_on_a_multi_objective_run(data_dir: Path, tmp_path: Path) -> None:
    """Only the run's own objectives (no Time); Cost over Time for each of them."""
    run_search(
        "mo_rs",
        "cifar10",
        0,
        Budget(max_sim_seconds=6000),
        tmp_path / "run",
        data_dir=data_dir,
        progress=None,
        objectives=["valid_error", "latency:pixel3"],
    )
    export = trials_to_deepcave(tmp_path / "run", tmp_path / "dc")
    run = load_nashpo_run(export)
    assert run.prefix == "mo_rs (nashpo)" and run.get_objective_names() == ["valid_error", "latency_pixel3"]
    assert load_export(export).get_objective_names() == ["valid_error", "latency_pixel3", "Time"]
    trials = read_trials(tmp_path / "run")
    for objective_id, column in enumerate(("valid_error", "latency_pixel3")):
        cot = run_plugin("cost_over_time", run, objective_id=objective_id).outputs
        assert cot["costs_mean"][-1] == pytest.approx(trials[column].min())
    front = run_plugin("pareto_front", run).outputs  # the two objectives, by default
    assert sum(front["pareto_points"]) >= 1
    assert {run.get_origin(i) for i in run.configs} <= set(trials["origin"])


@pytest.mark.parametrize("optimizer", list(EVALS))
def test_plugins_on_every_optimizer(runs: dict[str, Path], exports: dict[str, Path], optimizer: str, symbolic_expression) -> None:
    """DeepCAVE's plugins (process + load_outputs), as its dashboard runs them, with values checked."""
    run = load_export(exports[optimizer])
    trials = read_trials(runs[optimizer])
    unique = unique_trials(runs[optimizer])
    top = float(trials["epochs"].max())
    at_top = unique[(unique.epochs == top) & (unique.status == "SUCCESS")]
    best = float(at_top["objective"].min())
    # the trial log's own incumbent (best validation at the highest fidelity seen) after the last trial
    assert trials.iloc[-1]["inc_epochs"] == top and 100 - trials.iloc[-1]["inc_valid_acc"] == pytest.approx(best)

    overview = run_plugin("overview", run)
    shown = text_of(overview.components)
    assert f"Best valid_error: {custom_round(best)} " in shown
    assert f"Total runtime [s]: {round(float(trials['sim_time'].max()), 2)}" in shown
    assert f"Total trials: {len(unique)}" in shown

    incumbent_id = run.get_config_id(run.get_incumbent(objectives=run.get_objectives()[0])[0])
    configurations = run_plugin("configurations", run, config_id=incumbent_id)
    assert configurations.outputs["performances"]["valid_error"][str(top)] == pytest.approx([best])

    cot = run_plugin("cost_over_time", run)
    times, costs = expected_trajectory(unique, top)
    assert cot.outputs["times"] == pytest.approx(times, abs=0.01)
    assert cot.outputs["costs_mean"] == pytest.approx(costs)
    assert cot.outputs["times"] == sorted(cot.outputs["times"]) and cot.outputs["costs_mean"][-1] == pytest.approx(best)
    assert list(cot.components.data[0].x) == pytest.approx(times, abs=0.01)  # what the figure draws

    for method in ("importances_fanova", "importances_lpi"):
        imp = run_plugin(method, run)
        budget_ids = [str(i) for i in range(len(run.get_budgets()))]  # with "Combined" for multi-fidelity runs
        assert sorted(imp.outputs) == budget_ids
        for values in imp.outputs.values():
            assert set(values) == set(EDGE_NAMES) and all(np.isfinite(v[0]) and v[0] >= 0 for v in values.values())
        if method == "importances_lpi":
            assert sum(v[0] for v in imp.outputs[budget_ids[-1]].values()) == pytest.approx(1.0, abs=1e-6)
        drawn = len(run.get_budgets(include_combined=False))  # the budgets selected in the inputs
        assert len(imp.components.data) == drawn and len(imp.components.data[0].x) == len(EDGE_NAMES)

    ablation = run_plugin("ablation_paths", run)
    path, _ = ablation.outputs[str(len(run.get_budgets(include_combined=False)) - 1)]
    assert next(iter(path)) == "default" and set(path) == {"default", *EDGE_NAMES}
    steps = [v[0] for v in path.values()]
    assert steps[-1] < steps[0]  # from the default cell (every edge 'none') to the incumbent, predicted
    assert ablation.components[0].data

    n_top = len(at_top)
    cube = run_plugin("configuration_cube", run)
    cube_df = pd.read_json(cube.outputs["df"])
    assert sorted(cube_df["valid_error"]) == pytest.approx(sorted(at_top["objective"]))
    coords = run_plugin("parallel_coordinates", run)
    coords_df = pd.read_json(coords.outputs["df"])
    assert len(coords_df) == n_top and sorted(coords_df["valid_error"]) == pytest.approx(sorted(at_top["objective"]))
    assert len(coords.components.data[0].dimensions) == len(EDGE_NAMES) + 1

    pdp = run_plugin("partial_dependencies", run)
    assert len(pdp.outputs["x"]) == len(pdp.outputs["y"]) > 0 and np.all(np.isfinite(pdp.outputs["y"]))
    symbolic = symbolic_expression(run, "valid_error")
    assert np.all(np.isfinite(symbolic.outputs["y_symbolic"]))

    if optimizer in MULTI_FIDELITY:
        corr = run_plugin("budget_correlation", run)
        # architectures evaluated at both budgets: SMAC's Hyperband promotes them, DEHB's evolution rarely repeats one
        both = unique.pivot_table(index="arch_code", columns="epochs", values="objective").dropna()
        assert len(both) >= (3 if optimizer in ("smac_hb", "bohb") else 1)
        expected = round(stats.spearmanr(both[12], both[200]).correlation, 2) if len(both) > 1 else math.nan
        assert corr.outputs["correlations"]["200.0"]["12.0"] == pytest.approx(expected, nan_ok=True)
        assert corr.outputs["correlations_symmetric"]["12.0"]["200.0"] == pytest.approx(expected, nan_ok=True)
        assert corr.components[1].data  # the correlation figure


def test_group_of_seeds(runs: dict[str, Path], exports: dict[str, Path]) -> None:
    """DeepCAVE's Group of three seeds of one optimizer, through every plugin."""
    members = [load_export(exports["rs"]), *(load_export(exports[f"rs{s}"]) for s in GROUP_SEEDS[1:])]
    group = Group("rs", members)
    assert sorted(group.get_seeds(include_combined=False)) == list(GROUP_SEEDS)
    logs = [unique_trials(runs[n]) for n in ("rs", *(f"rs{s}" for s in GROUP_SEEDS[1:]))]
    assert len(group.history) == sum(len(t) for t in logs)
    results = {}
    with bounded_footprint(40):
        for name in PLUGINS:
            if name == "budget_correlation":  # one budget
                continue
            extra = {"parsimony": -2} if name == "symbolic_explanations" else {}
            results[name] = run_plugin(name, group, **extra)
            assert results[name].components

    cot = results["cost_over_time"].outputs
    per_run = [expected_trajectory(t, 12.0) for t in logs]
    assert cot["times"] == pytest.approx(sorted({x for times, _ in per_run for x in times}), abs=0.01)
    finals = [costs[-1] for _, costs in per_run]
    assert cot["costs_mean"][-1] == pytest.approx(np.mean(finals))
    assert cot["costs_std"][-1] == pytest.approx(np.std(finals))

    # DeepCAVE's group incumbent: among architectures every seed evaluated, if any; else any
    shared = set.intersection(*(set(t.arch_code) for t in logs))
    shown = text_of(results["overview"].components)
    assert f"Total trials: {len(group.history)}" in shown
    if not shared:
        best = min(float(t["objective"].min()) for t in logs)
        assert f"Best valid_error: {custom_round(best)} ± 0.0 " in shown
    incumbent = results["configurations"].inputs["config_id"]
    assert results["configurations"].outputs["overview_table_data"]["Key"][-1] == "Derived from"
    assert results["configurations"].outputs["performances"]["valid_error"]["12.0"] == pytest.approx(
        [float(group.get_incumbent(objectives=group.get_objectives()[0])[1])]
    )
    for method in ("importances_fanova", "importances_lpi"):
        assert set(results[method].outputs["0"]) == set(EDGE_NAMES)
    n_configs = len(group.get_configs(budget=12.0))
    assert len(pd.read_json(results["parallel_coordinates"].outputs["df"])) == n_configs
    assert len(pd.read_json(results["configuration_cube"].outputs["df"])) == n_configs
    steps = [v[0] for v in results["ablation_paths"].outputs["0"][0].values()]
    assert steps[-1] < steps[0]
    assert results["symbolic_explanations"].outputs["expr"].startswith("valid_error = ")
    assert len(results["footprint"].outputs["config_points"][2]) == n_configs
    assert results["footprint"].outputs["incumbent_points"][2] == [incumbent]


def test_multi_fidelity_group(runs: dict[str, Path], exports: dict[str, Path]) -> None:
    """A Group of two DEHB seeds: both budgets, Budget Correlation and Cost over Time at 200 epochs."""
    group = Group("dehb", [load_export(exports["dehb"]), load_export(exports["dehb2"])])
    assert group.get_budgets(include_combined=False) == [12.0, 200.0]
    logs = [unique_trials(runs["dehb"]), unique_trials(runs["dehb2"])]
    corr = run_plugin("budget_correlation", group)
    both = pd.concat(logs).pivot_table(index="arch_code", columns="epochs", values="objective", aggfunc="mean").dropna()  # mean over seeds
    expected = round(stats.spearmanr(both[12], both[200]).correlation, 2) if len(both) > 1 else math.nan
    assert corr.outputs["correlations"]["200.0"]["12.0"] == pytest.approx(expected, nan_ok=True)
    cot = run_plugin("cost_over_time", group).outputs
    finals = [expected_trajectory(t, 200.0)[1][-1] for t in logs]
    assert cot["costs_mean"][-1] == pytest.approx(np.mean(finals))
    assert "Best valid_error: " in text_of(run_plugin("overview", group).components)


def test_ablation_needs_the_encoding_fix(exports: dict[str, Path]) -> None:
    """DeepCAVE 1.4.1 queries Ablation's surrogate in another encoding than it was fitted on: the path
    is flat (or aborted, all zeros). ``run_plugin`` and the dashboard's workers apply ``fixed_ablation``."""
    run = load_export(exports["re"])
    broken = run_plugin("ablation_paths", run, fix_ablation=False).outputs["0"][0]
    assert len({round(v[0], 9) for v in broken.values()}) == 1
    fixed = run_plugin("ablation_paths", run).outputs["0"][0]
    assert len({round(v[0], 9) for v in fixed.values()}) > 1
    assert run.encode_config.__func__ is type(run).encode_config  # the patch is undone


def test_footprint_with_bounded_support(exports: dict[str, Path]) -> None:
    """Footprint on an export. DeepCAVE fills an all-categorical space with up to 4,000 border and
    random configurations (12 minutes; see benchmarks/bench_deepcave.py), so the test caps those
    generators at 40 each, as `nashpo deepcave` does at 250: the run's own configurations all appear."""
    import deepcave.evaluators.footprint as fp

    original = fp.sample_random_config
    run = load_export(exports["smac_hb"])
    with bounded_footprint(40):
        result = run_plugin("footprint", run)
    assert fp.sample_random_config is original
    n_top = len(run.get_configs(budget=200.0))
    assert len(result.outputs["config_points"][2]) == n_top
    assert len(result.outputs["border_points"][2]) == 40 and len(result.outputs["support_points"][2]) == 40
    incumbent = run.get_config_id(run.get_incumbent(objectives=run.get_objectives()[0], budget=200.0)[0])
    assert result.outputs["incumbent_points"][2] == [incumbent]
    assert len(result.components) == 2 and result.components[0].data


def test_plugin_list_is_the_dashboards() -> None:
    from deepcave.config import Config

    shown = {type(p).__name__ for plugins in Config().PLUGINS.values() for p in plugins} - {"ParetoFront"}  # single objective
    from nashpo.export.plugins import plugin_class

    assert {plugin_class(p).__name__ for p in PLUGINS} == shown


def test_dehb_native_folder_from_the_adapter(runs: dict[str, Path], tmp_path: Path) -> None:
    native = runs["dehb"] / "optimizer"
    history = pd.read_parquet(native / "history.parquet.gzip")
    run = load_export(dehb_to_deepcave(native, tmp_path / "dc"))
    trials = read_trials(runs["dehb"])
    # DEHB's history is in tell order = trial order; decoded configs must be the architectures evaluated
    assert len(history) == len(trials)
    costs = sorted(t.costs[0] for t in run.history)
    assert costs == pytest.approx(sorted(trials.drop_duplicates(["arch_code", "epochs"], keep="last")["objective"]))
    assert run.get_budgets(include_combined=False) == [12.0, 200.0]
    # DEHB's recorded costs are the simulated costs: its clock is the run's simulated clock
    assert max(t.end_time for t in run.history) == pytest.approx(trials["sim_time"].iloc[-1], abs=0.01)
    cot = run_plugin("cost_over_time", run)
    assert cot.outputs["costs_mean"][-1] == pytest.approx(unique_trials(runs["dehb"]).query("epochs == 200")["objective"].min())


def test_dehb_native_folder_from_dehb_itself(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real DEHB run driven directly (not through nashpo), then converted."""
    from dehb import DEHB

    from nashpo.benchmarks.nb201 import NB201Benchmark
    from nashpo.space import build_configspace

    monkeypatch.chdir(tmp_path)
    bench = NB201Benchmark("cifar10", data_dir)
    space = build_configspace(0)
    dehb = DEHB(
        cs=space,
        dimensions=6,
        min_fidelity=12,
        max_fidelity=200,
        eta=0.999 * 200 / 12,
        n_workers=1,
        seed=7,
        output_path=tmp_path / "dehb",
        log_level="ERROR",
    )
    seen = []
    for _ in range(30):
        job = dehb.ask()
        epochs = 12 if job["fidelity"] < 100 else 200
        res = bench.query(job["config"], epochs)
        dehb.tell(job, {"fitness": 100 - res["valid_acc"], "cost": res["cost"]})
        seen.append((config_to_code(job["config"]), round(job["fidelity"], 2), 100 - res["valid_acc"]))
    dehb.save()
    run = load_export(dehb_to_deepcave(tmp_path / "dehb", tmp_path / "dc"))
    got = {(config_to_code({e: run.get_config(t.config_id)[e] for e in EDGE_NAMES}), round(t.budget, 2)): t.costs[0] for t in run.history}
    assert got == pytest.approx({(code, fid): value for code, fid, value in seen}, rel=1e-12)  # CSV parsing: last ulp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dc", "dehb"]  # nothing else written
    assert run_plugin("overview", run).components


@pytest.mark.parametrize("optimizer", ["smac", "smac_hb"])
def test_smac_native_output_shows_per_trial_durations(runs: dict[str, Path], optimizer: str) -> None:
    """SMAC's own folder loads, but DeepCAVE's SMAC3v2 converter turns start/end into per-trial
    durations (not the cumulative clock); the trial-log export is the one with the clock."""
    folders = [p.parent for p in (runs[optimizer] / "optimizer").rglob("runhistory.json")]
    assert len(folders) == 1
    native = SMAC3v2Run.from_path(folders[0])
    trials = read_trials(runs[optimizer])
    assert len(native.history) == len(trials)
    assert np.allclose(sorted(t.costs[0] for t in native.history), sorted(trials["objective"]))
    assert max(t.end_time for t in native.history) < trials["sim_time"].iloc[-1] / 2


def test_refuses_non_empty_out_and_bad_source(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "dc"
    out.mkdir()
    (out / "x").write_text("keep")
    with pytest.raises(InputError) as err:
        trials_to_deepcave(runs["rs"], out)
    assert err.value.field == "out" and [p.name for p in out.iterdir()] == ["x"]
    with pytest.raises(InputError) as err:
        trials_to_deepcave(tmp_path, tmp_path / "other")
    assert err.value.field == "run" and not (tmp_path / "other").exists()
    with pytest.raises(InputError) as err:
        dehb_to_deepcave(runs["rs"], tmp_path / "other")
    assert err.value.field == "dehb"
    with pytest.raises(InputError) as err:
        load_export(runs["rs"])
    assert err.value.field == "deepcave"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dc"]


def test_cli(runs: dict[str, Path], tmp_path: Path, nashpo_env: dict[str, str]) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "nashpo", "to-deepcave", "--from", "trial-log", str(runs["re"]), "--out", "dc"],
        cwd=tmp_path,
        env=nashpo_env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in (tmp_path / "dc").iterdir()) == ["configspace.csv", "nashpo.json", "trials.csv"]
    assert json.loads((tmp_path / "dc" / "nashpo.json").read_text())["optimizer"] == "re"
    assert len(DataFrameRun.from_path(tmp_path / "dc").history) == len(unique_trials(runs["re"]))
    bad = subprocess.run(
        [sys.executable, "-m", "nashpo", "to-deepcave", "--from", "hyperopt", str(runs["re"]), "--out", "dc2"],
        cwd=tmp_path,
        env=nashpo_env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "nashpo: error: from='hyperopt': unknown; choose from trial-log, dehb"
    ]
    assert not (tmp_path / "dc2").exists()


def test_deepcave_check_cli(runs: dict[str, Path], exports: dict[str, Path], tmp_path: Path, nashpo_env: dict[str, str]) -> None:
    skip = ["--skip", "footprint", "symbolic_explanations", "importances_lpi", "partial_dependencies"]
    ok = subprocess.run(
        [sys.executable, "-m", "nashpo", "deepcave-check", str(exports["smac_hb"]), *skip], env=nashpo_env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    lines = {line.split()[0]: line for line in ok.stdout.splitlines() if line.startswith("  ") and line.split()[0] in PLUGINS}
    assert set(lines) == set(PLUGINS) - {"footprint", "symbolic_explanations", "importances_lpi", "partial_dependencies"}
    top = unique_trials(runs["smac_hb"]).query("epochs == 200")["objective"].min()
    assert f"best valid_error {top:.3f}" in lines["overview"]
    assert lines["cost_over_time"].split("cost ")[1].endswith(f"-> {top:.3f}")
    bad = subprocess.run(
        [sys.executable, "-m", "nashpo", "deepcave-check", str(tmp_path / "nope")], env=nashpo_env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        f"nashpo: error: deepcave='{tmp_path / 'nope'}': is not a DeepCAVE run folder (no trials.csv); export with `nashpo to-deepcave`"
    ]
