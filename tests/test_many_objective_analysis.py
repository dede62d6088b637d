"""Multi-objective analysis of tasks with three objectives beside a two-objective task: value columns per
objective, the 2-D attainment of the first pair, pairwise projections and parallel coordinates."""

from __future__ import annotations

import io
from pathlib import Path

import moocore
import numpy as np
import pandas as pd
import pytest

from nashpo.analysis import mo
from nashpo.objectives import objective_matrix, parse_objectives
from nashpo.pareto import true_front
from nashpo.runner import Budget, run_search

THREE = "valid_error,params,latency:pixel3"
PAIR = "valid_error,latency:pixel3"
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def study(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("many_objective_runs")
    runs = []
    for optimizer, objectives in (("mo_rs", THREE), ("nsga2", THREE), ("mo_rs", PAIR)):
        for seed in SEEDS:
            out = root / f"{optimizer}_{objectives.count(',') + 1}_{seed}"
            run_search(optimizer, "cifar10", seed, Budget(3000), out, data_dir=data_dir, progress=None, objectives=objectives)
            runs.append(out)
    return runs, root


@pytest.fixture(scope="module")
def tables(study: tuple[list[Path], Path], data_dir: Path) -> dict[str, pd.DataFrame]:
    runs, _ = study
    return mo.mo_tables(runs, tables=mo.BenchmarkTables(data_dir), log=io.StringIO())


def test_front_points_carry_every_objective(tables: dict[str, pd.DataFrame], data_dir: Path) -> None:
    points = tables["front_points"]
    assert list(points.columns) == [*mo.RUN_KEY, "code", "f0", "f1", "f2"]
    three = points[points["objectives"] == "valid_error+params+latency_pixel3"]
    pair = points[points["objectives"] == "valid_error+latency_pixel3"]
    assert len(three) and len(pair) and three["f2"].notna().all() and pair["f2"].isna().all()
    want = objective_matrix("nb201", "cifar10", parse_objectives("nb201", THREE), 200, data_dir)[three["code"].to_numpy()]
    np.testing.assert_array_equal(three[["f0", "f1", "f2"]].to_numpy(), want)
    fronts = tables["true_fronts"]
    true = fronts[fronts["objectives"] == "valid_error+params+latency_pixel3"][["f0", "f1", "f2"]].to_numpy()
    np.testing.assert_array_equal(true, true_front("nb201", "cifar10", parse_objectives("nb201", THREE), 200, data_dir).points)


def test_attainment_of_a_three_objective_task_is_that_of_its_first_pair(tables: dict[str, pd.DataFrame]) -> None:
    points, eaf = tables["front_points"], tables["eaf"]
    key = ("nb201", "cifar10", "valid_error+params+latency_pixel3")
    for optimizer in ("mo_rs", "nsga2"):
        mine = points[(points["objectives"] == key[2]) & (points["optimizer"] == optimizer)]
        _, sets = np.unique(mine["seed"].to_numpy(), return_inverse=True)
        want = np.asarray(moocore.eaf(mine[["f0", "f1"]].to_numpy(float), sets + 1, percentiles=[50]), float)[:, :-1]
        want = want[np.lexsort(want.T[::-1])]
        got = eaf[(eaf["objectives"] == key[2]) & (eaf["optimizer"] == optimizer)][["f0", "f1"]].to_numpy()
        np.testing.assert_array_equal(got, want)


def test_a_three_objective_task_has_no_single_device(tables: dict[str, pd.DataFrame]) -> None:
    finals = tables["finals"]
    three = finals[finals["objectives"] == "valid_error+params+latency_pixel3"]
    pair = finals[finals["objectives"] == "valid_error+latency_pixel3"]
    assert three["device"].isna().all() and (pair["device"] == "pixel3").all()
    assert set(tables["device_classes"]["optimizer"]) == {"mo_rs"}
    # the tests and ranks cover every task, as for two objectives
    summary = tables["summary_table"]
    assert {"nb201/cifar10/valid_error+params+latency_pixel3", "nb201/cifar10/valid_error+latency_pixel3"} <= set(summary.columns)
    wilcoxon = tables["wilcoxon"]
    assert len(wilcoxon[wilcoxon["objectives"] == "valid_error+params+latency_pixel3"]) == 1


def test_figures_of_many_objectives(study: tuple[list[Path], Path], data_dir: Path, tmp_path: Path) -> None:
    runs, _ = study
    written = mo.analyse_mo(runs, tmp_path / "mo", tables=mo.BenchmarkTables(data_dir), log=io.StringIO())
    pngs = sorted(p.stem for p in written if p.suffix == ".png")
    assert pngs == sorted(mo.figure_stems(["nb201"], ["nb201"]))
    assert {"front_pairs_nb201", "parallel_coordinates_nb201"} <= set(pngs)
    caption = (tmp_path / "mo" / "front_pairs_nb201.rst").read_text()
    assert "one panel per pair of objectives" in caption and "3 seeds" in caption


CHOSEN = {"nb201/cifar10/valid_error+params+latency_pixel3": ("params", "latency:pixel3")}


@pytest.fixture(scope="module")
def chosen_tables(study: tuple[list[Path], Path], data_dir: Path) -> dict[str, pd.DataFrame]:
    runs, _ = study
    return mo.mo_aggregate_tables(runs, tables=mo.BenchmarkTables(data_dir), log=io.StringIO(), pairs=CHOSEN)


def test_attainment_on_the_pair_chosen(chosen_tables: dict[str, pd.DataFrame]) -> None:
    """`attainment_pair` (config) -> the surface of that pair's projection, in its own value columns;
    a task without a choice keeps its first two."""
    pairs = chosen_tables["eaf_pairs"].set_index("objectives")
    assert pairs.loc["valid_error+params+latency_pixel3", mo.PAIR_COLUMNS].tolist() == [1, 2, "params", "latency_pixel3"]
    assert pairs.loc["valid_error+latency_pixel3", mo.PAIR_COLUMNS].tolist() == [0, 1, "valid_error", "latency_pixel3"]
    points, eaf = chosen_tables["front_points"], chosen_tables["eaf"]
    key = "valid_error+params+latency_pixel3"
    for optimizer in ("mo_rs", "nsga2"):
        mine = points[(points["objectives"] == key) & (points["optimizer"] == optimizer)]
        _, sets = np.unique(mine["seed"].to_numpy(), return_inverse=True)
        want = np.asarray(moocore.eaf(mine[["f1", "f2"]].to_numpy(float), sets + 1, percentiles=[50]), float)[:, :-1]
        want = want[np.lexsort(want.T[::-1])]
        got = eaf[(eaf["objectives"] == key) & (eaf["optimizer"] == optimizer)]
        assert len(got) == len(want) >= 1 and got["f0"].isna().all()
        np.testing.assert_array_equal(got[["f1", "f2"]].to_numpy(), want)
    two = eaf[eaf["objectives"] == "valid_error+latency_pixel3"]
    assert two[["f0", "f1"]].notna().all().all() and two["f2"].isna().all()


def test_pareto_panel_shows_the_chosen_pair(study: tuple[list[Path], Path], data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    runs, _ = study
    data = mo.mo_tables(runs, tables=mo.BenchmarkTables(data_dir), log=io.StringIO(), pairs=CHOSEN)
    drawn = {}

    def keep(fig, out, stem, caption):
        drawn[stem] = ({ax.get_title(): (ax.get_ylabel(), ax.get_xlabel()) for ax in fig.axes if ax.get_title()}, caption)

    monkeypatch.setattr(mo.mo_figures.fg, "save", keep)
    mo.mo_figures.pareto(data, tmp_path, "nb201")
    labels, caption = drawn["pareto_nb201"]
    assert sorted(labels.values()) == [
        ("parameters (MB)", "latency on pixel3 (ms)"),  # the 3-objective task: params against the phone's latency
        ("validation error (%)", "latency on pixel3 (ms)"),  # the pair task: its own two
    ]
    assert "attainment pair (attainment_pair in the config" in " ".join(caption.split())


@pytest.mark.parametrize(
    ("pairs", "line"),
    [
        (
            {"nb201/cifar10/nope": ("valid_error", "params")},
            "attainment_pair='nb201/cifar10/nope': is not a multi-objective task of these runs",
        ),
        (
            {"nb201/cifar10/valid_error+params+latency_pixel3": ("valid_error", "latency:raspi4")},
            "attainment_pair.nb201/cifar10/valid_error+params+latency_pixel3='latency:raspi4': is not an objective of the task",
        ),
        (
            {"nb201/cifar10/valid_error+params+latency_pixel3": ("params", "params")},
            "attainment_pair.nb201/cifar10/valid_error+params+latency_pixel3='params,params': names one objective twice",
        ),
    ],
    ids=["unknown_task", "not_an_objective", "twice"],
)
def test_a_bad_attainment_pair_is_one_line(tables: dict[str, pd.DataFrame], pairs, line: str) -> None:
    with pytest.raises(mo.InputError) as err:
        mo.attainment_pairs(tables["finals"], pairs)
    assert str(err.value).startswith(line), str(err.value)


def test_attainment_pair_argument(tmp_path: Path) -> None:
    assert mo.parse_pairs(["nb201/cifar10/valid_error+params+latency_pixel3=valid_error, latency:pixel3"]) == {
        "nb201/cifar10/valid_error+params+latency_pixel3": ("valid_error", "latency:pixel3")
    }
    import subprocess
    import sys

    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "nashpo",
            "analysis",
            "mo",
            "--runs",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
            "--attainment-pair",
            "valid_error",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and res.stderr.strip().splitlines() == [
        "nashpo: error: attainment_pair='valid_error': must be TASK=A,B (benchmark/task/objectives, then two of its objectives)"
    ]
    assert not (tmp_path / "out").exists()
