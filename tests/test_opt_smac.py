"""SMAC adapters: search quality, Hyperband rungs on data fidelities, SMAC's own folder loaded by
DeepCAVE, determinism across processes, quiet logging, bad hyperparameters."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deepcave.runs.converters.smac3v2 import SMAC3v2Run
from smac import HyperparameterOptimizationFacade, Scenario

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.errors import InputError
from nashpo.optimizers.base import TrialValue
from nashpo.optimizers.smac_bo import SMACBO, leaf_cap
from nashpo.optimizers.smac_hb import SMACHyperband, fidelity_at_or_above, smac_rungs
from nashpo.runner import Budget, run_search
from nashpo.space import EDGE_NAMES, N_ARCHS, build_configspace, config_to_code
from nashpo.triallog import TIMING_COLUMNS, read_trials

SEED = 4
EVALS = {"smac": 80, "smac_hb": 80}


@pytest.fixture(scope="module")
def runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("smac_runs")
    cwd = tmp_path_factory.mktemp("smac_cwd")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        for name, evals in EVALS.items():
            run_search(name, "cifar10", SEED, Budget(max_evals=evals), root / name, data_dir=data_dir, progress=None)
    assert list(cwd.iterdir()) == []  # SMAC wrote nothing to the current directory
    return {name: root / name for name in EVALS}


def smac_folder(run: Path, name: str) -> Path:
    folders = [p.parent for p in (run / "optimizer").rglob("runhistory.json")]
    assert folders == [run / "optimizer" / f"{name}_seed{SEED}" / str(SEED)]
    return folders[0]


def test_smac_finds_good_architectures(runs: dict[str, Path], data_dir: Path) -> None:
    trials = read_trials(runs["smac"])
    assert len(trials) == EVALS["smac"] and set(trials["epochs"]) == {12}
    assert not trials["arch_code"].duplicated().any()  # deterministic SMAC evaluates each configuration once
    assert (trials["origin"].iloc[:10] == "Initial Design: Sobol").all()  # n_initial_designs = 10
    assert (trials["origin"] == "Acquisition Function Maximizer: Local Search").sum() >= 10
    all_valid = NB201Benchmark("cifar10", data_dir).query_many(np.arange(N_ARCHS), 12)["valid_acc"]
    best = trials["valid_acc"].max()
    assert trials["inc_valid_acc"].iloc[-1] == best
    assert best > np.median(all_valid)
    assert (all_valid < best).mean() > 0.95  # 80 random draws miss the top 5% with probability 1.7%


def test_smac_hb_rungs_are_data_fidelities(runs: dict[str, Path], data_dir: Path) -> None:
    trials = read_trials(runs["smac_hb"])
    assert len(trials) == EVALS["smac_hb"]
    assert set(trials["epochs"]) == {12, 200} == set(NB201Benchmark("cifar10", data_dir).fidelities)
    assert not trials.duplicated(["arch_code", "epochs"]).any()
    # eta = 200/12: the first bracket runs its configurations at 12 epochs, then promotes the best one to 200
    first_200 = int(np.argmax(trials["epochs"].to_numpy() == 200))
    low = trials.iloc[:first_200]
    assert len(low) >= 10 and (low["epochs"] == 12).all()
    promoted = trials.iloc[first_200]["arch_code"]
    assert low.loc[low["arch_code"] == promoted, "objective"].item() == low["objective"].min()
    # every 200-epoch trial after that is either a promotion or a new configuration of the 200-only bracket
    assert (trials["epochs"] == 200).sum() >= 4


@pytest.mark.parametrize("name", list(EVALS))
def test_smac_folder_loads_with_deepcave(runs: dict[str, Path], name: str) -> None:
    folder = smac_folder(runs[name], name)
    native = SMAC3v2Run.from_path(folder)
    trials = read_trials(runs[name])
    assert len(native.history) == len(trials)
    multi = name == "smac_hb"
    by_key = {(r.arch_code, r.epochs if multi else 0.0): r for r in trials.itertuples()}
    for trial in native.history:
        config = native.get_config(trial.config_id)
        row = by_key[(config_to_code({e: config[e] for e in EDGE_NAMES}), trial.budget)]
        assert trial.costs[0] == pytest.approx(row.objective)
        assert trial.costs[1] == pytest.approx(row.cost)  # DeepCAVE's time = simulated training seconds
    if multi:
        assert sorted(b for b in native.get_budgets() if b != -1) == [12.0, 200.0]  # -1: DeepCAVE's "combined"
    data = json.loads((folder / "runhistory.json").read_text())["data"]
    np.testing.assert_allclose([d["endtime"] for d in data], trials["sim_time"])  # SMAC is told the simulated clock
    np.testing.assert_allclose([d["cost"] for d in data], trials["objective"])
    scenario = json.loads((folder / "scenario.json").read_text())
    assert scenario["seed"] == SEED and scenario["deterministic"] is True


def test_many_fidelities_map_rungs_up(tmp_path: Path) -> None:
    """Every epoch 1..200 (NASLib curves): eta = 3 rungs 2.47, 7.4, 22.2, 66.7, 200 -> 3, 8, 23, 67, 200.

    Driven directly with a synthetic objective (no benchmark data needed)."""
    epochs = list(range(1, 201))
    opt = SMACHyperband(build_configspace(0), 0, epochs, tmp_path)
    assert opt.eta == 3.0 and opt.rungs == [3, 8, 23, 67, 200]
    asked = []
    for _ in range(130):  # SMAC's first bracket: 81, 27, 9, 3 and 1 configurations at the five rungs
        info = opt.ask()
        asked.append(info.epochs)
        code = config_to_code(info.config)
        opt.tell(info, TrialValue(cost=float(code % 101) + 100.0 / info.epochs, time=float(info.epochs)))
    opt.close()
    runs = [(epochs, len(list(group))) for epochs, group in itertools.groupby(asked)]
    assert [e for e, _ in runs[:6]] == [3, 8, 23, 67, 200, 8]  # bracket 0 climbs every rung, bracket 1 starts at 8
    assert runs[0][1] >= 70 and [n for _, n in runs[1:5]] == [27, 9, 3, 1]  # successive halving with eta = 3
    runhistory = json.loads(next(tmp_path.rglob("runhistory.json")).read_text())
    assert [d["budget"] for d in runhistory["data"]] == [float(e) for e in asked]  # SMAC recorded the epochs run


def test_rung_helpers() -> None:
    assert smac_rungs(200 / 12, 12.0, 200.0) == pytest.approx([12.0, 200.0])
    assert fidelity_at_or_above(200 * (200 / 12) ** -1.0, [12, 200]) == 12
    assert fidelity_at_or_above(12.000000000000002, [12, 200]) == 12
    assert fidelity_at_or_above(12.5, [12, 200]) == 200
    assert fidelity_at_or_above(66.67, list(range(1, 201))) == 67
    assert fidelity_at_or_above(0.5, [1, 2]) == 1
    assert fidelity_at_or_above(250.0, [12, 200]) == 200


def test_random_forest_predicts_like_smac_default(tmp_path: Path) -> None:
    """n_jobs=1 and the space-size leaf cap give exactly the facade's random forest predictions."""
    space = build_configspace(0)
    assert leaf_cap(space) == N_ARCHS
    opt = SMACBO(space, 0, [12], tmp_path)
    scenario = Scenario(build_configspace(0), name="reference", output_directory=tmp_path / "ref", deterministic=True, seed=0)
    reference = HyperparameterOptimizationFacade.get_model(scenario)
    ours = opt.random_forest(scenario)
    rng = np.random.default_rng(1)
    configs = build_configspace(2).sample_configuration(300)
    X = np.array([c.get_array() for c in configs])
    y = rng.random((300, 1)) * 50 + 5
    reference.train(X[:200], y[:200])
    ours.train(X[:200], y[:200])
    for a, b in zip(reference.predict(X[200:]), ours.predict(X[200:]), strict=True):
        np.testing.assert_array_equal(a, b)
    assert {k: v for k, v in ours.meta.items() if k not in ("n_jobs", "max_leaf_nodes")} == {
        k: v for k, v in reference.meta.items() if k not in ("n_jobs", "max_leaf_nodes")
    }
    opt.close()


def test_quiet_and_leaves_other_loggers_alone(data_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger("smac").level)
    for name in EVALS:
        run_search(name, "cifar10", 0, Budget(max_evals=25), tmp_path / name, data_dir=data_dir, progress=None)
    assert (root.level, list(root.handlers), logging.getLogger("smac").level) == before
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize(
    ("name", "hp", "field"),
    [
        ("smac", {"n_initial_designs": 2.5}, "smac.n_initial_designs"),
        ("smac", {"random_design_probability": "high"}, "smac.random_design_probability"),
        ("smac", {"random_design_probability": 1.5}, "smac.random_design_probability"),
        ("smac", {"retrain_after": 0}, "smac.retrain_after"),
        ("smac", {"max_config_calls": 3}, "smac.max_config_calls"),
        ("smac_hb", {"eta": "3"}, "smac_hb.eta"),
        ("smac_hb", {"eta": 1}, "smac_hb.eta"),
        ("smac_hb", {"eta": 3}, "smac_hb.eta"),  # 22.2, 66.7, 200 all map to 200 with fidelities 12 and 200
        ("smac_hb", {"n_trees": True}, "smac_hb.n_trees"),
    ],
)
def test_bad_hyperparameters(data_dir: Path, tmp_path: Path, name: str, hp: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        run_search(name, "cifar10", 0, Budget(max_evals=5), tmp_path / "out", hyperparameters=hp, data_dir=data_dir, progress=None)
    assert err.value.field == field
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "evals"), [("smac", 40), ("smac_hb", 40)])
def test_identical_runs_in_two_processes(nashpo_env: dict[str, str], tmp_path: Path, name: str, evals: int) -> None:
    """Same seed, two interpreters with different hash seeds (the CLI re-executes with PYTHONHASHSEED=0)."""
    logs, runhistories = [], []
    for out, hash_seed in (("a", "0"), ("b", "12345")):
        cmd = [sys.executable, "-m", "nashpo", "run", "--optimizer", name, "--dataset", "cifar10", "--seed", "7", "--max-evals", str(evals)]
        env = dict(nashpo_env, PYTHONHASHSEED=hash_seed)
        env.pop("NASHPO_NO_REEXEC", None)
        res = subprocess.run([*cmd, "--out", out], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        trials = read_trials(tmp_path / out)
        assert len(trials) == evals and trials["opt_time"].gt(0).all()
        logs.append(trials.drop(columns=list(TIMING_COLUMNS)))
        runhistories.append((tmp_path / out / "optimizer" / f"{name}_seed7" / "7" / "runhistory.json").read_bytes())
    pd.testing.assert_frame_equal(logs[0], logs[1])
    assert runhistories[0] == runhistories[1]  # SMAC's own record too (its times are simulated seconds)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # nothing outside --out
