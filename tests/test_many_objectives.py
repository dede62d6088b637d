"""Objective sets of three or more: exact fronts against brute force, hypervolume against independent
computations, the objective-set checks and ``nashpo front`` for many objectives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nashpo.errors import InputError
from nashpo.objectives import MAX_OBJECTIVES, objective_matrix, parse_objectives
from nashpo.optimizers.mo_rs import MORandomSearch
from nashpo.pareto import REF, hypervolume, true_front

THREE = "valid_error,params,latency:pixel3"
FOUR = "valid_error,latency:pixel3,latency:titan_rtx_1,latency:raspi4"


class TwoObjectiveRandomSearch(MORandomSearch):
    """Test fixture: mo_rs declaring a two-objective limit."""

    name = "two_objective_rs"
    max_objectives = 2


def brute_force_nondominated(values: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Codes no other row dominates, by comparing every pair (O(n^2), no moocore); equal rows are kept."""
    keep = []
    for lo in range(0, len(values), chunk):
        block = values[lo : lo + chunk, None, :]  # (b, 1, m) against (1, n, m)
        weakly_better = (values[None, :, :] <= block).all(axis=2)
        strictly = (values[None, :, :] < block).any(axis=2)
        dominated = (weakly_better & strictly).any(axis=1)
        keep.extend(np.flatnonzero(~dominated) + lo)
    return np.array(keep)


@pytest.fixture(scope="module")
def cifar10(data_dir: Path):
    from nashpo.benchmarks.nb201 import NB201Benchmark

    return NB201Benchmark("cifar10", data_dir)


def test_three_objective_front_is_the_brute_force_front(cifar10) -> None:
    objs = parse_objectives("nb201", THREE)
    values = objective_matrix("nb201", cifar10, objs)
    assert values.shape == (15625, 3)
    front = true_front("nb201", cifar10, objs)
    want = brute_force_nondominated(values)
    assert sorted(front.codes.tolist()) == sorted(want.tolist())  # equal sets, ties included
    assert len(front.codes) == 55
    np.testing.assert_array_equal(front.ideal, values[want].min(axis=0))
    np.testing.assert_array_equal(front.nadir, values[want].max(axis=0))


def test_equal_points_on_a_many_objective_front_are_all_kept(cifar10) -> None:
    """The NB201 fronts above hold no two equal points; a copy of front rows (and of a dominated row)
    appended to the table must give both copies of each front row, as brute force does."""
    from nashpo.pareto import front_from_matrix

    objs = parse_objectives("nb201", THREE)
    values = objective_matrix("nb201", cifar10, objs)
    front = true_front("nb201", cifar10, objs)
    extra = [int(front.codes[0]), int(front.codes[7]), int(np.argmax(values[:, 0]))]
    tied = np.vstack([values, values[extra]])
    got = front_from_matrix(tied).codes.tolist()
    want = brute_force_nondominated(tied).tolist()
    assert sorted(got) == sorted(want)
    assert len(got) == 57 and {15625, 15626} <= set(got) and 15627 not in got


def test_three_objective_hypervolume_matches_pymoo_and_monte_carlo(cifar10) -> None:
    from pymoo.indicators.hv import HV

    objs = parse_objectives("nb201", THREE)
    front = true_front("nb201", cifar10, objs)
    z = front.normalise(front.points)
    pymoo_hv = float(HV(ref_point=np.full(3, REF))(z))
    assert front.hv == pytest.approx(pymoo_hv, rel=1e-12)
    assert front.hv == pytest.approx(1.2393510955, abs=1e-9)
    # Monte-Carlo: share of uniform points in [0, REF]^3 that the front dominates, 4 standard errors
    rng = np.random.default_rng(0)
    n = 400_000
    samples = rng.uniform(0.0, REF, size=(n, 3))
    covered = np.zeros(n, dtype=bool)
    for p in z:
        covered |= (samples >= p).all(axis=1)
    share = covered.mean()
    box = REF**3
    se = box * np.sqrt(share * (1 - share) / n)
    assert abs(box * share - front.hv) < 4 * se
    assert hypervolume(front.points, front) == pytest.approx(front.hv, rel=1e-12)


def test_four_objective_front_and_hypervolume(cifar10) -> None:
    from pymoo.indicators.hv import HV

    objs = parse_objectives("nb201", FOUR)
    values = objective_matrix("nb201", cifar10, objs)
    front = true_front("nb201", cifar10, objs)
    assert sorted(front.codes.tolist()) == sorted(brute_force_nondominated(values).tolist())
    z = front.normalise(front.points)
    assert front.hv == pytest.approx(float(HV(ref_point=np.full(4, REF))(z)), rel=1e-12)


def test_objective_sets_up_to_six() -> None:
    six = "valid_error,params,latency,latency:pixel3,latency:raspi4,latency:titan_rtx_1"
    assert len(parse_objectives("nb201", six)) == MAX_OBJECTIVES == 6
    with pytest.raises(InputError, match="^objectives='valid_error,params,latency,.*': names 7 objectives; at most 6 are supported$"):
        parse_objectives("nb201", six + ",latency:gold_6226")
    with pytest.raises(InputError, match="names params twice"):
        parse_objectives("nb201", "valid_error,params,latency:pixel3,params")
    with pytest.raises(InputError, match="the first objective must be the error objective valid_error"):
        parse_objectives("nb201", "params,valid_error,latency:pixel3")


def test_front_command_prints_many_objectives(nashpo_env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "nashpo", "front", "--dataset", "cifar10", "--objectives", THREE]
    text = subprocess.run(argv, capture_output=True, text=True, env=nashpo_env, check=True).stdout
    assert "valid_error+params+latency_pixel3: 55 configurations on the true front, HV 1.23935" in text
    assert text.count("=") >= 6  # ideal and nadir name all three objectives
    out = json.loads(subprocess.run([*argv, "--json"], capture_output=True, text=True, env=nashpo_env, check=True).stdout)
    assert out["size"] == len(out["points"]) == 55
    assert set(out["points"][0]) == {"code", "valid_error", "params", "latency_pixel3"}


def test_a_three_objective_search_tracks_its_hv_regret(data_dir: Path, tmp_path: Path) -> None:
    """mo_rs on three objectives: the log holds each objective, and its last hv_regret is the true
    front's HV minus pymoo's HV of the observed non-dominated set (normalised as the front)."""
    from pymoo.indicators.hv import HV

    from nashpo.pareto import nondominated
    from nashpo.runner import Budget, run_search
    from nashpo.triallog import read_trials

    rec = run_search("mo_rs", "cifar10", 0, Budget(6000), tmp_path / "run", data_dir=data_dir, progress=None, objectives=THREE)
    trials = read_trials(tmp_path / "run")
    assert [o["name"] for o in rec["objectives"]] == ["valid_error", "params", "latency:pixel3"]
    points = trials[["valid_error", "params", "latency_pixel3"]].to_numpy()
    front = true_front("nb201", "cifar10", parse_objectives("nb201", THREE), data_dir=data_dir)
    z = front.normalise(points[nondominated(points)])
    want = front.hv - float(HV(ref_point=np.full(3, REF))(z))
    assert trials["hv_regret"].iloc[-1] == pytest.approx(want, rel=1e-12)
    assert trials["hv_regret"].is_monotonic_decreasing
    assert rec["n_trials"] == len(trials) == 52


def test_an_optimizer_limited_to_two_objectives_refuses_three(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nashpo.optimizers import REGISTRY
    from nashpo.runner import Budget, run_search

    monkeypatch.setitem(REGISTRY, "two_objective_rs", (__name__, "TwoObjectiveRandomSearch"))
    with pytest.raises(InputError, match="^objectives=3: two_objective_rs supports at most 2 objectives$"):
        run_search("two_objective_rs", "cifar10", 0, Budget(600), tmp_path / "r", data_dir=data_dir, progress=None, objectives=THREE)
    assert not (tmp_path / "r").exists()
    rec = run_search(
        "two_objective_rs", "cifar10", 0, Budget(600), tmp_path / "r2", data_dir=data_dir, progress=None, objectives="valid_error,params"
    )
    assert rec["n_trials"] > 0


def test_nsga3_niches_around_das_dennis_directions(data_dir: Path, tmp_path: Path) -> None:
    """Three objectives, pop_size 20: p = 5 gives C(7, 5) = 21 directions, so 21 per generation."""
    import json

    from nashpo.optimizers.nsga3 import simplex_partitions
    from nashpo.runner import Budget, run_search
    from nashpo.triallog import read_trials

    assert [simplex_partitions(m, 20) for m in range(2, 7)] == [19, 5, 3, 2, 2]
    rec = run_search("nsga3", "cifar10", 0, Budget(12000), tmp_path / "run", data_dir=data_dir, progress=None, objectives=THREE)
    trials = read_trials(tmp_path / "run")
    assert (trials["origin"].iloc[:21] == "random").all() and (trials["origin"].iloc[21:] == "offspring").all()
    assert trials["arch_code"].is_unique  # no configuration evaluated twice
    generations = json.loads((tmp_path / "run" / "optimizer" / "nsga3_generations.json").read_text())["generations"]
    assert len(generations) == rec["n_trials"] // 21 and all(len(g["codes"]) == 21 for g in generations)
    twin = run_search("nsga3", "cifar10", 0, Budget(12000), tmp_path / "twin", data_dir=data_dir, progress=None, objectives=THREE)
    assert twin["n_trials"] == rec["n_trials"] and read_trials(tmp_path / "twin")["arch_code"].tolist() == trials["arch_code"].tolist()
    with pytest.raises(InputError, match="^nsga3.n_partitions='four': must be a whole number"):
        run_search(
            "nsga3",
            "cifar10",
            0,
            Budget(600),
            tmp_path / "bad",
            data_dir=data_dir,
            progress=None,
            objectives=THREE,
            hyperparameters={"n_partitions": "four"},
        )
    assert not (tmp_path / "bad").exists()
