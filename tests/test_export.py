"""DeepCAVE export: every optimizer's trial log, DEHB's native folder, SMAC's native folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deepcave.runs.converters.deepcave import DeepCAVERun
from deepcave.runs.converters.smac3v2 import SMAC3v2Run

from nashpo.errors import InputError
from nashpo.export.deepcave import trials_to_deepcave
from nashpo.export.dehb_native import dehb_to_deepcave
from nashpo.runner import Budget, run_search
from nashpo.space import EDGE_NAMES, config_to_code
from nashpo.triallog import read_trials

EVALS = {"rs": 60, "re": 60, "tpe": 40, "smac": 25, "smac_hb": 40, "dehb": 60}


@pytest.fixture(scope="module")
def runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name, evals in EVALS.items():
        out[name] = root / name
        run_search(name, "cifar10", 1, Budget(max_evals=evals), out[name], data_dir=data_dir, progress=None)
    return out


@pytest.mark.parametrize("optimizer", list(EVALS))
def test_trial_log_export_loads_with_deepcave(runs: dict[str, Path], tmp_path: Path, optimizer: str) -> None:
    dc = trials_to_deepcave(runs[optimizer], tmp_path / "dc")
    run = DeepCAVERun.from_path(dc)
    trials = read_trials(runs[optimizer])
    unique = trials.drop_duplicates(["arch_code", "epochs"], keep="last")  # DeepCAVE keeps one per (config, budget, seed)
    assert len(run.history) == len(unique)
    assert [o.name for o in run.get_objectives()] == ["valid_error"]
    assert sorted(b for b in run.get_budgets() if b != -1) == sorted(float(e) for e in trials["epochs"].unique())
    for trial in run.history:
        config = run.get_config(trial.config_id)
        code = config_to_code({e: config[e] for e in EDGE_NAMES})
        row = unique[(unique.arch_code == code) & (unique.epochs == trial.budget)].iloc[0]
        assert trial.costs[0] == pytest.approx(row.objective)
        assert trial.seed == 1 and trial.additional["arch_code"] == code
        assert trial.additional["sim_end_time"] == pytest.approx(row.sim_time)


def test_dehb_native_folder_from_the_adapter(runs: dict[str, Path], tmp_path: Path) -> None:
    native = runs["dehb"] / "optimizer"
    history = pd.read_parquet(native / "history.parquet.gzip")
    run = DeepCAVERun.from_path(dehb_to_deepcave(native, tmp_path / "dc"))
    trials = read_trials(runs["dehb"])
    # DEHB's history is in tell order = trial order; decoded configs must be the architectures evaluated
    assert len(history) == len(trials)
    costs = sorted(t.costs[0] for t in run.history)
    assert costs == pytest.approx(sorted(trials.drop_duplicates(["arch_code", "epochs"], keep="last")["objective"]))
    assert {round(b) for b in run.get_budgets() if b != -1} == {12, 200}


def test_dehb_native_folder_from_dehb_itself(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real DEHB run driven directly (not through nashpo), then converted."""
    from dehb import DEHB

    from nashpo.benchmark import NB201Benchmark
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
    run = DeepCAVERun.from_path(dehb_to_deepcave(tmp_path / "dehb", tmp_path / "dc"))
    got = {(config_to_code({e: run.get_config(t.config_id)[e] for e in EDGE_NAMES}), round(t.budget, 2), t.costs[0]) for t in run.history}
    assert got == set(seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dc", "dehb"]  # nothing else written


@pytest.mark.parametrize("optimizer", ["smac", "smac_hb"])
def test_smac_native_output_loads_with_deepcave(runs: dict[str, Path], optimizer: str) -> None:
    folders = [p.parent for p in (runs[optimizer] / "optimizer").rglob("runhistory.json")]
    assert len(folders) == 1
    native = SMAC3v2Run.from_path(folders[0])
    trials = read_trials(runs[optimizer])
    assert len(native.history) == len(trials)
    assert np.allclose(sorted(t.costs[0] for t in native.history), sorted(trials["objective"]))


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


def test_cli(runs: dict[str, Path], tmp_path: Path, nashpo_env: dict[str, str]) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "nashpo", "to-deepcave", "--from", "trial-log", str(runs["re"]), "--out", "dc"],
        cwd=tmp_path,
        env=nashpo_env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert len(DeepCAVERun.from_path(tmp_path / "dc").history) > 0
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
