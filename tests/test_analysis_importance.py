"""DeepCAVE importances on hand-made runs where only one edge matters (a clearly labelled test fixture)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nashpo.analysis import importance as imp
from nashpo.errors import InputError
from nashpo.export.deepcave import trials_to_deepcave
from nashpo.space import EDGE_NAMES, OPS, arch_str, code_to_dict
from nashpo.triallog import OBJECTIVES, SCHEMA

IMPORTANT = "edge_0_3"


def synthetic_error(code: int) -> float:
    """Fixture objective: validation error depends on edge_0_3 only (not NB201 data)."""
    return 10.0 + 8.0 * OPS.index(code_to_dict(code)[IMPORTANT])


def write_run(folder: Path, optimizer: str, seed: int, codes: list[int], epochs: int) -> Path:
    folder.mkdir(parents=True)
    n = len(codes)
    err = [synthetic_error(c) for c in codes]
    cost = np.full(n, 100.0)
    trials = {
        "trial": np.arange(n),
        "optimizer": optimizer,
        "dataset": "cifar10",
        "seed": seed,
        "protocol": "proxy",
        **{e: [code_to_dict(c)[e] for c in codes] for e in EDGE_NAMES},
        "arch_str": [arch_str(c) for c in codes],
        "arch_code": codes,
        "nb201_index": None,
        "epochs": epochs,
        "bench_seed": -1,
        "objective": err,
        "valid_acc": [100 - e for e in err],
        "cost": cost,
        "sim_time": np.cumsum(cost),
        "start_time": np.cumsum(cost) - cost,
        "worker": 0,
        "opt_time": 0.0,
        "origin": "random",
        "status": "SUCCESS",
        "inc_trial": 0,
        "inc_arch_code": codes[0],
        "inc_epochs": epochs,
        "inc_valid_acc": 0.0,
        "inc_valid_acc_200": 0.0,
        "inc_test_acc_200": 0.0,
    }
    pd.DataFrame(trials)[SCHEMA.names].to_parquet(folder / "trials.parquet", index=False)
    record = {
        "optimizer": optimizer,
        "dataset": "cifar10",
        "seed": seed,
        "protocol": "proxy",
        "hyperparameters": {},
        "fidelities": [epochs],
        "objectives": OBJECTIVES,
        "benchmark": {"family": "nb201"},
    }
    (folder / "run.json").write_text(json.dumps(record))
    return folder


@pytest.fixture(scope="module")
def deepcave_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("dc")
    rng = np.random.default_rng(0)
    shared = [int(c) for c in rng.choice(15625, 40, replace=False)]
    specs = [
        ("rs", 0, shared, 12),
        ("re", 0, shared[:20] + [int(c) for c in rng.choice(15625, 20, replace=False)], 12),
        ("dehb", 0, shared[:4], 200),
    ]
    out = []
    for o, s, codes, epochs in specs:
        run = write_run(root / "runs" / o, o, s, codes, epochs)
        out.append(trials_to_deepcave(run, root / "dc" / o))
    return out


@pytest.fixture(scope="module")
def tables(deepcave_runs: list[Path]) -> dict[str, pd.DataFrame]:
    return imp.importance_tables(deepcave_runs, log=open("/dev/null", "w"))


def test_the_only_relevant_edge_dominates(tables: dict[str, pd.DataFrame]) -> None:
    pooled = tables["importance"]
    assert set(pooled["budget"]) == {12.0}  # 4 trials at 200 epochs < MIN_TRIALS: skipped
    for method in imp.METHODS:
        g = pooled[pooled["method"] == method].set_index("edge")
        assert set(g.index) == set(EDGE_NAMES)
        assert g.loc[IMPORTANT, "importance"] > 0.9, method
        assert g.drop(IMPORTANT)["importance"].max() < 0.05, method
        assert g.loc[IMPORTANT, "rank"] == 1
    row = pooled.iloc[0]
    assert row["n_trials"] == 80 and row["n_runs"] == 2 and row["optimizers"] == "re,rs"


def test_per_run_importance_at_each_runs_best_budget(tables: dict[str, pd.DataFrame]) -> None:
    per_run = tables["importance_per_run"]
    assert set(per_run["optimizer"]) == {"rs", "re"}  # dehb has too few trials at any budget
    fan = per_run[(per_run["method"] == "fanova") & (per_run["optimizer"] == "rs")].set_index("edge")
    assert fan["importance"].idxmax() == IMPORTANT and (fan["n_trials"] == 40).all()


def test_parallel_coordinates_data(tables: dict[str, pd.DataFrame]) -> None:
    pc = tables["parallel_coordinates"]
    assert list(pc.columns[:2]) == ["dataset", "budget"] and set(EDGE_NAMES) <= set(pc.columns)
    assert len(pc) == 60  # 40 shared + 20 new distinct architectures
    assert pc["n_evals"].value_counts().to_dict() == {1: 40, 2: 20}  # 20 architectures sampled by both runs
    expected = [10.0 + 8.0 * OPS.index(op) for op in pc[IMPORTANT]]
    np.testing.assert_allclose(pc["valid_error"], expected)
    assert (pc[f"rank_{IMPORTANT}"] == 1).all()


def test_deterministic(deepcave_runs: list[Path], tables: dict[str, pd.DataFrame]) -> None:
    again = imp.importance_tables(deepcave_runs, log=open("/dev/null", "w"))
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_bad_input(tmp_path: Path, deepcave_runs: list[Path]) -> None:
    with pytest.raises(InputError, match="not a DeepCAVE run folder"):
        imp.importance_tables([tmp_path])
    foreign = tmp_path / "foreign"
    shutil.copytree(deepcave_runs[0], foreign)
    meta = json.loads((foreign / "nashpo.json").read_text())
    del meta["dataset"]
    (foreign / "nashpo.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"run meta lacks \['dataset'\]"):
        imp.importance_tables([foreign])
    with pytest.raises(InputError, match="no DeepCAVE run folders"):
        imp.importance_tables([])
