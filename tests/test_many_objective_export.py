"""DeepCAVE exports of 3- and 4-objective runs: every objective exported (names, bounds, direction),
loaded by nashpo's converter and by DeepCAVE's own DataFrame loader, and DeepCAVE's Pareto Front
plugin on every pair of a 3-objective run against an independent dominance check."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nashpo.export.chunk import export_chunk
from nashpo.export.deepcave import load_export, load_nashpo_run, metric_column
from nashpo.export.plugins import run_plugin, summary
from nashpo.runner import Budget, run_search
from nashpo.runner.chunk import run_chunk
from nashpo.triallog import read_trials

THREE = ["valid_error", "params", "latency:pixel3"]
FOUR = ["valid_error", "latency:pixel3", "latency:titan_rtx_1", "latency:raspi4"]
THREE_COLUMNS = ["valid_error", "params", "latency_pixel3"]
FOUR_COLUMNS = ["valid_error", "latency_pixel3", "latency_titan_rtx_1", "latency_raspi4"]


@pytest.fixture(scope="module")
def exports(data_dir: Path, tmp_path_factory: pytest.TempPathFactory, nashpo_module_env: dict[str, str]) -> dict[str, tuple[Path, Path]]:
    """name -> (run folder, DeepCAVE export): a 3-objective mo_rs run exported by ``nashpo
    to-deepcave``, a 4-objective nsga2 run exported by the workflow's chunk export."""
    root = tmp_path_factory.mktemp("many")
    three = root / "runs" / "mo_rs"
    run_search("mo_rs", "cifar10", 0, Budget(max_sim_seconds=12000), three, data_dir=data_dir, progress=None, objectives=",".join(THREE))
    cli = subprocess.run(
        [sys.executable, "-m", "nashpo", "to-deepcave", "--from", "trial-log", str(three), "--out", str(root / "dc" / "mo_rs" / "0")],
        env=nashpo_module_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    manifest = root / "runs" / "nsga2" / "seeds_1-1.json"
    run_chunk(
        "nsga2",
        "cifar10",
        [1],
        Budget(max_sim_seconds=12000),
        root / "runs" / "nsga2",
        manifest,
        data_dir=data_dir,
        progress=None,
        objectives=FOUR,
    )
    chunk = export_chunk(manifest, root / "dc" / "nsga2", root / "dc" / "nsga2" / "seeds_1-1.json")
    assert [r["seed"] for r in chunk["runs"]] == [1]
    return {
        "three": (three, root / "dc" / "mo_rs" / "0"),
        "four": (root / "runs" / "nsga2" / "1", Path(chunk["runs"][0]["run"])),
    }


@pytest.fixture(scope="module")
def nashpo_module_env(data_dir: Path) -> dict[str, str]:
    return dict(os.environ, NASHPO_DATA_DIR=str(data_dir), PYTHONHASHSEED="0")


def unique_trials(run_dir: Path) -> pd.DataFrame:
    """DeepCAVE keeps one trial per (config, budget, seed): the last one."""
    return read_trials(run_dir).drop_duplicates(["arch_code", "epochs"], keep="last").set_index("trial")


@pytest.mark.parametrize(("name", "columns"), [("three", THREE_COLUMNS), ("four", FOUR_COLUMNS)])
def test_every_objective_is_exported_and_loaded(exports: dict[str, tuple[Path, Path]], name: str, columns: list[str]) -> None:
    run_dir, export = exports[name]
    record = json.loads((run_dir / "run.json").read_text())
    objectives = record["objectives"]
    assert [o["column"] for o in objectives] == columns and len(objectives) == len(columns)
    # trials.csv: one metric column per objective, in the run's order, with its bounds and direction
    header = pd.read_csv(export / "trials.csv", nrows=0).columns
    assert [c for c in header if c.startswith("metric:")] == [
        metric_column(o["column"], o["lower"], o["upper"], "minimize") for o in objectives
    ]
    assert json.loads((export / "nashpo.json").read_text())["objectives"] == [o["name"] for o in objectives]
    trials = unique_trials(run_dir)
    nashpo_run, deepcave_run = load_nashpo_run(export), load_export(export)
    assert nashpo_run.get_objective_names() == columns  # nashpo's converter: the run's objectives only
    assert deepcave_run.get_objective_names() == [*columns, "Time"]  # DeepCAVE's own loader adds the trial's duration
    for run in (nashpo_run, deepcave_run):
        for objective, spec in zip(run.get_objectives()[: len(columns)], objectives, strict=True):
            assert (objective.lower, objective.upper, objective.optimize) == (spec["lower"], spec["upper"], "lower")
        assert len(run.history) == len(trials)
        for trial in run.history:
            row = trials.loc[int(trial.additional["trial"])]
            assert trial.costs[: len(columns)] == pytest.approx([row[c] for c in columns], rel=1e-12)
            assert trial.budget == row["epochs"] and int(trial.additional["arch_code"]) == row["arch_code"]
    # DeepCAVE's Time: the trial's simulated cost (its start and end times are rounded to 0.01 s)
    durations = [t.costs[-1] for t in deepcave_run.history]
    assert durations == pytest.approx([trials.loc[int(t.additional["trial"]), "cost"] for t in deepcave_run.history], rel=1e-9)


def nondominated_points(points: np.ndarray) -> set[tuple[float, float]]:
    """Distinct points no other point weakly dominates (minimisation), by pairwise comparison."""
    better_or_equal = (points[None, :, :] <= points[:, None, :]).all(axis=2)
    strictly_better = (points[None, :, :] < points[:, None, :]).any(axis=2)
    dominated = (better_or_equal & strictly_better).any(axis=1)  # row i: some point j dominates it
    return {tuple(p) for p in points[~dominated].tolist()}


@pytest.mark.parametrize("pair", list(itertools.combinations(range(3), 2)))
@pytest.mark.parametrize("loader", [load_nashpo_run, load_export])
def test_pareto_front_plugin_on_every_pair(exports: dict[str, tuple[Path, Path]], pair: tuple[int, int], loader) -> None:
    """DeepCAVE's Pareto Front on objectives ``pair`` of a 3-objective run marks one configuration per
    distinct non-dominated point of the run's trials projected on that pair, and draws them."""
    run_dir, export = exports["three"]
    run = loader(export)
    first, second = pair
    names = [THREE_COLUMNS[first], THREE_COLUMNS[second]]
    trials = unique_trials(run_dir)
    top = trials[trials["epochs"] == trials["epochs"].max()]
    expected = nondominated_points(top[names].to_numpy(dtype=float))
    assert len(expected) >= 2

    result = run_plugin("pareto_front", run, objective_id_1=first, objective_id_2=second)
    out = result.outputs
    assert len(out["points_avg"]) == len(top)  # every configuration at the top budget
    kept = [(c, tuple(p)) for c, p, keep in zip(out["config_ids"], out["points_avg"], out["pareto_points"], strict=True) if keep]
    shown = [p for _, p in kept]
    assert len(shown) == len(set(shown)) == len(expected)  # ties in the projection: one configuration each
    np.testing.assert_allclose(sorted(shown), sorted(expected), rtol=1e-12)
    code_of = {t.config_id: int(t.additional["arch_code"]) for t in run.history}
    by_code = top.set_index("arch_code")
    for config_id, point in kept:  # each marked configuration is a trial with these values
        assert point == pytest.approx(tuple(by_code.loc[code_of[config_id], names]), rel=1e-12)
    figure = result.components
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == tuple(names)
    front_trace = figure.data[-1]
    np.testing.assert_allclose(sorted(zip(front_trace.x, front_trace.y, strict=True)), sorted(expected), rtol=1e-12)
    line = summary(result, run)
    assert line.startswith(f"{len(expected)} of {len(top)} configurations on the front; {names[0]} ") and f", {names[1]} " in line


def test_deepcave_check_prints_the_pareto_front_of_every_pair(
    exports: dict[str, tuple[Path, Path]], nashpo_module_env: dict[str, str]
) -> None:
    from nashpo.export.plugins import PLUGINS

    run_dir, export = exports["three"]
    res = subprocess.run(
        [sys.executable, "-m", "nashpo", "deepcave-check", str(export), "--skip", *PLUGINS],
        env=nashpo_module_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line.split(" s  ", 1)[1] for line in res.stdout.splitlines() if line.split()[:1] == ["pareto_front"]]
    trials = unique_trials(run_dir)
    assert len(lines) == 3
    for line, (first, second) in zip(lines, itertools.combinations(THREE_COLUMNS, 2), strict=True):
        front = nondominated_points(trials[[first, second]].to_numpy(dtype=float))
        assert line.startswith(f"{len(front)} of {len(trials)} configurations on the front; {first} ") and f", {second} " in line
