"""Aggregation on small hand-made trial logs whose right answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nashpo.analysis import aggregate as agg
from nashpo.analysis import curves as cv
from nashpo.analysis.io import expand_runs
from nashpo.analysis.runs import load_runs
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.errors import InputError

# Hand-made runs on cifar10: per trial (finish time, regret of the incumbent below the oracle, in pp).
# The incumbent accuracies are written as oracle - regret, so the right regrets are known exactly.
RUNS = {
    ("rs", 0): [(100.0, 10.0), (250.0, 4.0), (400.0, 4.0), (900.0, 1.0)],
    ("rs", 1): [(150.0, 8.0), (300.0, 2.0), (500.0, 2.0), (800.0, 2.0)],
    ("rs", 2): [(120.0, 6.0), (240.0, 6.0), (360.0, 0.0), (1000.0, 0.0)],
    ("re", 0): [(110.0, 5.0), (220.0, 5.0), (330.0, 5.0), (950.0, 5.0)],
    ("re", 1): [(110.0, 5.0), (220.0, 5.0), (330.0, 5.0), (950.0, 5.0)],
    ("re", 2): [(110.0, 5.0), (220.0, 5.0), (330.0, 5.0), (950.0, 5.0)],
}
VALID_OFFSET = 0.5  # validation regret = test regret + 0.5 in these logs


def oracle_block(oracle: pd.Series) -> dict[str, object]:
    """The run record's NB201 oracle block (``NB201View.oracle``) from the benchmark's 200-epoch oracle."""
    keys = ("best_valid_acc", "best_valid_arch", "best_test_acc", "test_acc_of_best_valid")
    return {"epochs": 200} | {k: oracle[k] if k == "best_valid_arch" else float(oracle[k]) for k in keys}


def write_run(folder: Path, optimizer: str, seed: int, steps: list[tuple[float, float]], oracle: pd.Series, **record: object) -> Path:
    folder.mkdir(parents=True)
    n = len(steps)
    regret = np.array([r for _, r in steps])
    trials = pd.DataFrame(
        {
            "trial": np.arange(n, dtype=np.int32),
            "sim_time": [t for t, _ in steps],
            "inc_trial": np.arange(n, dtype=np.int32),
            "inc_arch_code": np.arange(n, dtype=np.int32) + 100 * seed,
            "inc_valid_acc_200": oracle["best_valid_acc"] - (regret + VALID_OFFSET),
            "inc_test_acc_200": oracle["best_test_acc"] - regret,
        }
    )
    trials.to_parquet(folder / "trials.parquet", index=False)
    rec = {
        "optimizer": optimizer,
        "dataset": "cifar10",
        "seed": seed,
        "protocol": "proxy",
        "hyperparameters": {},
        "noise": "mean",
        "budget": {"max_evals": n, "max_sim_seconds": None},
        "fidelities": [12],
        "oracle": oracle_block(oracle),
    } | record
    (folder / "run.json").write_text(json.dumps(rec))
    return folder


@pytest.fixture(scope="module")
def oracle(data_dir: Path) -> pd.Series:
    return NB201Benchmark("cifar10", data_dir).oracle().set_index("epochs").loc[200]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, oracle: pd.Series) -> list[Path]:
    root = tmp_path_factory.mktemp("handmade")
    return [write_run(root / f"{o}-{s}", o, s, steps, oracle) for (o, s), steps in RUNS.items()]


@pytest.fixture(scope="module")
def tables(runs: list[Path], data_dir: Path) -> dict[str, pd.DataFrame]:
    return agg.aggregate_tables(runs, data_dir, log=open("/dev/null", "w"))


def test_step_function_semantics() -> None:
    x, y = np.array([10.0, 20.0, 40.0]), np.array([5.0, 3.0, 1.0])
    got = cv.step_values(x, y, np.array([5.0, 10.0, 15.0, 20.0, 39.9, 40.0, 100.0]))
    np.testing.assert_array_equal(got, [np.nan, 5.0, 5.0, 3.0, 3.0, 1.0, 1.0])
    # two trials finishing at the same time: the later one counts
    np.testing.assert_array_equal(cv.step_values(np.array([1.0, 1.0]), np.array([7.0, 6.0]), np.array([1.0])), [6.0])


def test_grids_are_log_spaced_and_span_all_runs() -> None:
    grid = cv.time_grid(np.array([10.0, 12.0]), np.array([100.0, 80.0]), n=5)
    np.testing.assert_allclose(grid, [10.0, 10 * 10**0.25, 10 * 10**0.5, 10 * 10**0.75, 100.0])
    np.testing.assert_array_equal(cv.evals_grid(np.array([5, 7]), n=100), [1, 2, 3, 4, 5, 6, 7])
    big = cv.evals_grid(np.array([10_000, 20]), n=100)
    assert big[0] == 1 and big[-1] == 10_000 and len(big) <= 100 and np.all(np.diff(big) > 0)


def test_final_regret_against_the_benchmark_oracle(tables: dict[str, pd.DataFrame], oracle: pd.Series) -> None:
    finals = tables["per_run_final"].set_index(["optimizer", "seed"])
    for (o, s), steps in RUNS.items():
        assert finals.loc[(o, s), "test_regret"] == pytest.approx(steps[-1][1], abs=1e-6)
        assert finals.loc[(o, s), "valid_regret"] == pytest.approx(steps[-1][1] + VALID_OFFSET, abs=1e-6)
        assert finals.loc[(o, s), "n_trials"] == len(steps)
    orc = tables["oracle"].set_index("dataset").loc["cifar10"]
    assert orc["oracle_test_acc"] == oracle["best_test_acc"] and orc["oracle_valid_acc"] == oracle["best_valid_acc"]


def test_time_grid_values_follow_the_steps_and_stop_at_the_run_end(tables: dict[str, pd.DataFrame]) -> None:
    traj = tables["per_run_trajectories"]
    t = traj[traj["axis"] == "sim_time"]
    grid = np.sort(t["x"].unique())
    # shared grid: from the earliest first trial (100 s) to the latest end (1000 s)
    assert grid[0] == pytest.approx(100.0) and grid[-1] == 1000.0 and len(grid) == cv.N_GRID
    rs0 = t[(t["optimizer"] == "rs") & (t["seed"] == 0)].set_index("x")
    rs1 = t[(t["optimizer"] == "rs") & (t["seed"] == 1)].set_index("x")["test_regret"]
    for x in grid:
        if x > 900:  # rs seed 0 ended at 900 s
            assert np.isnan(rs0.loc[x, "test_regret"]) and rs0.loc[x, "ended"]
        else:
            assert rs0.loc[x, "test_regret"] == (10.0 if x < 250 else 4.0 if x < 900 else 1.0) and not rs0.loc[x, "ended"]
        if x < 150 or x > 800:
            assert np.isnan(rs1[x])
        else:
            assert rs1[x] == (8.0 if x < 300 else 2.0)


def test_curves_mean_median_and_bands(tables: dict[str, pd.DataFrame]) -> None:
    c = tables["curves_evals"]
    rs = c[(c["optimizer"] == "rs") & (c["metric"] == "test_regret")].set_index("evals")
    assert list(rs.index) == [1, 2, 3, 4]
    assert rs.loc[1, "mean"] == pytest.approx(8.0) and rs.loc[1, "median"] == pytest.approx(8.0)
    assert rs.loc[3, "mean"] == pytest.approx(2.0) and rs.loc[3, "median"] == pytest.approx(2.0)
    assert rs.loc[4, "mean"] == pytest.approx(1.0) and rs.loc[4, "median"] == pytest.approx(1.0)
    assert (rs["mean_lo"] <= rs["mean"] + 1e-12).all() and (rs["mean"] <= rs["mean_hi"] + 1e-12).all()
    assert (rs["median_lo"] <= rs["median"] + 1e-12).all() and (rs["median"] <= rs["median_hi"] + 1e-12).all()
    assert (rs["mean_hi"] - rs["mean_lo"] > 0).all()  # the seeds differ at every evaluation count
    # bands cannot leave the range of the seeds' values
    assert rs.loc[1, "mean_lo"] >= 6.0 and rs.loc[1, "mean_hi"] <= 10.0
    # identical seeds: zero-width bands
    re_ = c[(c["optimizer"] == "re") & (c["metric"] == "valid_regret")]
    assert (re_["mean"] == 5.5).all() and (re_["mean_lo"] == re_["mean_hi"]).all() and (re_["median_lo"] == 5.5).all()
    assert (c["n_runs"] == 3).all()


def test_time_curves_run_while_every_seed_has_a_value(tables: dict[str, pd.DataFrame]) -> None:
    c = tables["curves_time"]
    rs = c[(c["optimizer"] == "rs") & (c["metric"] == "test_regret")].sort_values("sim_time")
    outside = rs[(rs["sim_time"] < 150.0) | (rs["sim_time"] > 800.0)]  # a seed has no trial yet / has ended
    assert len(outside) > 0 and outside["mean"].isna().all() and (outside["n_seeds"] < 3).all()
    inside = rs[(rs["sim_time"] >= 150.0) & (rs["sim_time"] <= 800.0)]
    assert len(inside) > 0 and inside["mean"].notna().all() and (inside["n_seeds"] == 3).all()
    at = inside.iloc[0]  # just after 150 s: seeds at 10, 8, 6
    assert at["mean"] == pytest.approx(8.0)


def test_bootstrap_is_exact_resampling_and_scales() -> None:
    values = np.array([[1.0, 4.0], [2.0, 4.0], [6.0, 4.0], [7.0, 4.0]])
    idx = cv.resample_indices(4, np.random.default_rng(1), n_boot=500)
    bands = cv.bootstrap_bands(values, idx)
    means = values[idx, 0].mean(axis=1)
    assert bands["mean_lo"][0] == pytest.approx(np.percentile(means, 2.5))
    assert bands["mean_hi"][0] == pytest.approx(np.percentile(means, 97.5))
    assert bands["mean_lo"][1] == bands["mean_hi"][1] == 4.0  # constant column: zero width
    doubled = cv.bootstrap_bands(values * 2, idx)  # same resamples: band scales with the data
    assert doubled["mean_hi"][0] - doubled["mean_lo"][0] == pytest.approx(2 * (bands["mean_hi"][0] - bands["mean_lo"][0]))
    assert bands["median"][0] == 4.0 and bands["n_seeds"].tolist() == [4, 4]
    with_nan = cv.bootstrap_bands(np.array([[1.0], [np.nan]]), cv.resample_indices(2, np.random.default_rng(0)))
    assert np.isnan(with_nan["mean"][0]) and with_nan["n_seeds"][0] == 1


def test_bands_are_deterministic_and_independent_of_other_groups(runs: list[Path], data_dir: Path, tables: dict[str, pd.DataFrame]) -> None:
    rs_only = agg.aggregate_tables([r for r in runs if r.name.startswith("rs")], data_dir, log=open("/dev/null", "w"))
    a = tables["curves_evals"][tables["curves_evals"]["optimizer"] == "rs"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, rs_only["curves_evals"].reset_index(drop=True))
    again = agg.aggregate_tables(runs, data_dir, log=open("/dev/null", "w"))
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_summary_levels(tables: dict[str, pd.DataFrame]) -> None:
    s = tables["summary"].set_index("optimizer")
    assert s.loc["rs", "test_regret_mean"] == pytest.approx(1.0)
    assert s.loc["rs", "test_regret_median"] == pytest.approx(0.0 + 1.0)  # final regrets 1, 2, 0
    assert s.loc["rs", "test_regret_std"] == pytest.approx(1.0)
    assert s.loc["re", "test_regret_mean_lo"] == s.loc["re", "test_regret_mean_hi"] == pytest.approx(5.0)
    assert s.loc["rs", "n_seeds"] == 3
    o = tables["summary_overall"].set_index("optimizer")
    assert o.loc["rs", "test_regret_rank_mean"] == 1.0 and o.loc["re", "test_regret_rank_mean"] == 2.0


def test_outputs_written_atomically(runs: list[Path], data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "agg"
    listing = tmp_path / "runs.txt"
    listing.write_text("# hand-made\n" + "\n".join(map(str, runs)) + "\n\n")
    written = agg.aggregate(expand_runs([f"@{listing}"]), out, data_dir, log=open("/dev/null", "w"))
    names = {p.name for p in out.iterdir()}
    contract = {f"{s}.{e}" for s in ("per_run_final", "curves_time", "curves_evals", "summary") for e in ("parquet", "csv")}
    assert contract | {"per_run_trajectories.parquet", "oracle.csv"} <= names
    assert names == {p.name for p in written}  # no temp files left
    assert pd.read_csv(out / "per_run_final.csv").shape[0] == len(RUNS)


def test_bad_input(runs: list[Path], data_dir: Path, tmp_path: Path, oracle: pd.Series) -> None:
    old = write_run(tmp_path / "old", "rs", 5, RUNS[("rs", 0)], oracle)
    record = json.loads((old / "run.json").read_text())
    del record["oracle"]
    (old / "run.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="no NB201 oracle block"):
        agg.load_nb201([old])
    with pytest.raises(InputError, match="no run.json"):
        expand_runs([str(tmp_path)])
    with pytest.raises(InputError, match="run list file does not exist"):
        expand_runs([f"@{tmp_path / 'missing.txt'}"])
    with pytest.raises(InputError, match="given twice"):
        agg.load_nb201([runs[0], runs[0]])
    odd = write_run(tmp_path / "odd", "rs", 7, RUNS[("rs", 0)], oracle, hyperparameters={"batch": 2})
    with pytest.raises(InputError, match="mix different hyperparameters"):
        agg.load_nb201([runs[0], odd])


def test_time_limited_runs_hold_their_incumbent_until_the_budget(tmp_path: Path, oracle: pd.Series, data_dir: Path) -> None:
    """A run stopped by max_sim_seconds ends at the budget (the crossing trial was never run), not at its last trial."""
    budget = {"max_sim_seconds": 1200.0, "max_evals": None}
    runs = [write_run(tmp_path / f"{o}{s}", o, s, steps, oracle, budget=budget) for (o, s), steps in RUNS.items()]
    loaded = load_runs(runs)
    grid = cv.task_grids(loaded.finals, loaded.trajectories, "sim_time")[("nb201", "cifar10", "objective")]
    assert grid.max() == 1200.0
    _, per_run, _ = agg.load_nb201(runs)
    at_end = per_run[(per_run["axis"] == "sim_time") & (per_run["x"] == 1200.0)]
    assert not at_end["ended"].any()
    rs0 = at_end[(at_end["optimizer"] == "rs") & (at_end["seed"] == 0)]
    assert rs0["test_regret"].iloc[0] == pytest.approx(1.0)  # the last incumbent (finished at 900 s) holds until 1200 s
    # a max_evals budget still ends at the last trial
    evals = [write_run(tmp_path / f"e{o}{s}", o, s, steps, oracle) for (o, s), steps in RUNS.items()]
    loaded = load_runs(evals)
    assert cv.task_grids(loaded.finals, loaded.trajectories, "sim_time")[("nb201", "cifar10", "objective")].max() == 1000.0
