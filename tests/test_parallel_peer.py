"""K workers across processes, and the nashpo side of benchmarks/peer_syne_tune.py (its syne-tune side
too where `make peer-venv` built .venv-peer)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.space import EDGE_NAMES, OPS, code_to_dict
from nashpo.triallog import TIMING_COLUMNS, log_digest, read_record, read_trials

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"


def _peer_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peer_syne_tune", ROOT / "benchmarks" / "peer_syne_tune.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("workers", [4, 16])
def test_same_seed_and_k_same_log_in_fresh_processes(workers: int, nashpo_env: dict[str, str], tmp_path: Path) -> None:
    """Two fresh processes (different hash seeds) give the same trial log, every column but the
    wall-clock opt_time (worker, start and end included), and the same cancelled trials."""
    argv = [sys.executable, "-m", "nashpo", "run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "7"]
    argv += ["--max-sim-seconds", "12000", "--workers", str(workers)]
    digests, cancelled = [], []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run{hash_seed}"
        env = dict(nashpo_env, PYTHONHASHSEED=hash_seed)
        res = subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True, env=env)
        assert res.returncode == 0, res.stderr
        trials = read_trials(out)
        assert sorted(trials["worker"].unique()) == list(range(workers))
        digests.append(log_digest(trials, skip=TIMING_COLUMNS))
        cancelled.append(read_record(out)["cancelled"])
    assert digests[0] == digests[1]
    assert cancelled[0] == cancelled[1] and 1 <= len(cancelled[0]) <= workers


def test_peer_blackbox_is_the_proxy_table(data_dir: Path, tmp_path: Path) -> None:
    """The peer's blackbox: arch code i's edge ops, 12-epoch validation error and train time."""
    peer = _peer_script()
    bench = NB201Benchmark("cifar10", data_dir)
    best, mean_cost = peer.write_blackbox(bench, tmp_path / "bb.npz")
    data = np.load(tmp_path / "bb.npz")
    cols = bench.table.columns
    assert best == pytest.approx(100.0 - float(np.max(cols["valid_acc@12"])))
    assert mean_cost == pytest.approx(float(np.mean(cols["cost@12"])))
    assert list(data["edges"]) == list(EDGE_NAMES) and list(data["ops"]) == list(OPS)
    for code in (0, 1234, 15624):
        assert {e: OPS[i] for e, i in zip(EDGE_NAMES, data["op_index"][code], strict=True)} == code_to_dict(code)
        assert data["valid_error"][code] == 100.0 - cols["valid_acc@12"][code]
        assert data["cost"][code] == cols["cost@12"][code]


def test_peer_nashpo_side_and_its_replay_stream(data_dir: Path, tmp_path: Path) -> None:
    """nashpo's side of the comparison: the K = 4 search's trials are rs proposals of that seed, so the
    stream replayed to syne-tune is the one the exact clock saw."""
    peer = _peer_script()
    bench = NB201Benchmark("cifar10", data_dir)
    row = peer.nashpo_search("rs", 3, 4, 3000.0, bench, data_dir, tmp_path)
    assert row["workers"] == 4 and row["trials"] == len(row["codes"]) > 50
    stream = peer.rs_proposals(3, 2 * row["trials"], bench, data_dir, tmp_path)
    asked = stream[: row["trials"] + 4]
    assert set(row["codes"]) <= set(asked)
    # the comparison on its own rows: the clock-step loss is exact minus replayed trials, seed by seed
    fake = [dict(row, side="nashpo", seed=s, trials=100 + s, best_valid_error=9.0, wall=0.1, codes=stream[: 100 + s]) for s in range(3)]
    fake += [
        {"side": "syne-tune", "method": m, "seed": s, "workers": 4, "trials": 97 + s, "best_valid_error": 9.5, "wall": 2.0, "codes": {}}
        for s in range(3)
        for m in ("rs", "rs-replay")
    ]
    jobs = [{"seed": s, "method": "rs-replay", "replay": stream} for s in range(3)]
    args = argparse.Namespace(workers=4, budget=3000.0, sleep=5.0)
    cost = [float(c) for c in bench.table.columns["cost@12"]]
    report = peer.compare(fake, jobs, 8.0, cost, args)
    assert report["summary"]["clock_step_loss"]["per_seed"] == {0: 3, 1: 3, 2: 3}
    assert report["summary"]["rs/rs/K4"]["wall_ratio"] == pytest.approx(20.0)
    assert report["summary"]["rs/rs/K4"]["regret_nashpo"] == [1.0, 1.0, 1.0]


def test_stepped_clock_model() -> None:
    """The model of syne-tune's polling clock: one worker, trials of 10 s, polls every 5 s, 0.1 s of
    delays: each trial ends at poll + 10.1 and is seen 4.9 s later, so a trial starts every 15 s."""
    peer = _peer_script()
    assert peer.stepped_trials([10.0] * 100, 1, 100.0, 5.0) == 6  # ends 10.1, 25.1, ..., 85.1; 100.1 is late
    assert peer.stepped_trials([10.0] * 100, 1, 100.0, 5.0, delay=0.0) == 10  # on the grid: no loss
    assert peer.stepped_trials([10.0] * 100, 4, 100.0, 5.0) == 24


@pytest.mark.skipif(not PEER_PYTHON.exists(), reason="syne-tune's venv not built (make peer-venv)")
def test_peer_script_end_to_end(data_dir: Path, tmp_path: Path) -> None:
    """One seed, a short budget, both sides: the replayed syne-tune run evaluates nashpo's proposals and
    completes no more trials than the exact clock."""
    out = tmp_path / "peer.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "peer_syne_tune.py"), "--seeds", "1", "--budget", "1500"]
    cmd += ["--data-dir", str(data_dir), "--peer-python", str(PEER_PYTHON), "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    report = json.loads(out.read_text())
    loss = report["summary"]["clock_step_loss"]
    assert loss["replay_matches_proposals"] == 1
    assert 0 <= loss["per_seed"]["0"] <= 10
    assert "clock-step loss" in res.stdout
