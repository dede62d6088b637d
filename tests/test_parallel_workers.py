"""K simulated workers on one clock: the event order, the budget rule, cancelled trials, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from nashpo.errors import InputError
from nashpo.optimizers import REGISTRY
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.runner import Budget, run_search
from nashpo.runner.workers import MAX_WORKERS
from nashpo.triallog import one_worker_clock, read_record, read_trials

BUDGET = 12000.0


def _rs(data_dir: Path, out: Path, workers: int, budget: Budget | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    rec = run_search("rs", "cifar10", 0, budget or Budget(BUDGET), out, data_dir=data_dir, progress=None, workers=workers)
    return rec, read_trials(out)


def simulate(costs: list[float], k: int, budget: float) -> tuple[list[tuple[int, int, float, float]], list[int]]:
    """Independent reference: K workers by scanning, no heap. Trial i (ask order) goes to the free
    worker with the lowest id at the earliest time a worker is free; returns (ask index, worker, start,
    end) of the counted trials in the order they end, and the ask indices of the cancelled ones."""
    free_at = [0.0] * k
    busy_forever = [False] * k
    done, cancelled = [], []
    for i, cost in enumerate(costs):
        open_workers = [w for w in range(k) if not busy_forever[w]]
        if not open_workers:
            break
        t = min(free_at[w] for w in open_workers)
        if t >= budget:
            break
        w = min(w for w in open_workers if free_at[w] == t)
        if t + cost <= budget:
            done.append((i, w, t, t + cost))
            free_at[w] = t + cost
        else:
            cancelled.append(i)
            busy_forever[w] = True
    done.sort(key=lambda d: (d[3], d[0]))
    return done, cancelled


def test_one_worker_is_the_sequential_search(data_dir: Path, tmp_path: Path) -> None:
    rec, trials = _rs(data_dir, tmp_path / "k1", 1)
    assert rec["workers"] == 1 and rec["n_trials"] == 106 == len(trials)
    assert one_worker_clock(trials)
    assert np.allclose(trials["sim_time"], np.cumsum(trials["cost"]))
    # the one cancelled trial is the stop: the next trial would cross the budget
    assert len(rec["cancelled"]) == 1 and rec["stop"]["reason"] == "next trial would cross max_sim_seconds"
    assert rec["cancelled"][0]["arch_code"] == rec["stop"]["arch_code"] and rec["cancelled"][0]["start_time"] == rec["sim_time"]


def test_four_workers_follow_the_reference_simulation(data_dir: Path, tmp_path: Path) -> None:
    """rs proposes the same sequence whatever K: its costs in ask order, replayed by the scan above,
    give the same trials, workers, starts and ends, and the same cancelled trials."""
    _, long = _rs(data_dir, tmp_path / "seq", 1, Budget(max_evals=600))
    rec, trials = _rs(data_dir, tmp_path / "k4", 4)
    done, cancelled = simulate(long["cost"].tolist(), 4, BUDGET)
    assert rec["n_trials"] == len(trials) == len(done) == 424
    assert trials["arch_code"].tolist() == [long["arch_code"].iloc[i] for i, *_ in done]
    assert trials["worker"].tolist() == [w for _, w, _, _ in done]
    assert trials["start_time"].tolist() == pytest.approx([s for *_, s, _ in done], rel=0, abs=1e-9)
    assert trials["sim_time"].tolist() == pytest.approx([e for *_, e in done], rel=0, abs=1e-9)
    assert [c["arch_code"] for c in rec["cancelled"]] == [long["arch_code"].iloc[i] for i in cancelled]
    assert 1 <= len(rec["cancelled"]) <= 4
    assert rec["sim_time"] == trials["sim_time"].max() <= BUDGET
    assert all(c["would_end_at"] > BUDGET for c in rec["cancelled"])
    # about K times the trials of one worker, and every worker busy
    assert sorted(trials["worker"].unique()) == [0, 1, 2, 3]
    assert trials["sim_time"].is_monotonic_increasing
    assert trials["trial"].tolist() == list(range(424))


def test_a_worker_runs_one_trial_at_a_time(data_dir: Path, tmp_path: Path) -> None:
    _, trials = _rs(data_dir, tmp_path / "k16", 16)
    for _, own in trials.groupby("worker"):
        own = own.sort_values("start_time")
        assert (own["start_time"].to_numpy()[1:] == own["sim_time"].to_numpy()[:-1]).all()
        assert own["start_time"].iloc[0] == 0.0
    assert np.allclose(trials["sim_time"] - trials["start_time"], trials["cost"])
    # the incumbent is the best trial ended so far, in the order trials ended
    best = (100 - trials["valid_acc"]).cummin()
    assert np.allclose(100 - trials["inc_valid_acc"], best)


def test_same_seed_and_workers_give_the_same_log(data_dir: Path, tmp_path: Path) -> None:
    _, a = _rs(data_dir, tmp_path / "a", 4)
    _, b = _rs(data_dir, tmp_path / "b", 4)
    pd.testing.assert_frame_equal(a.drop(columns="opt_time"), b.drop(columns="opt_time"))


class Batched(Optimizer):
    """Test fixture: a random search that declares it can only take batches."""

    name = "batched_rs"
    parallel: ClassVar[str] = "batch"

    def setup(self) -> None:
        self.space.seed(self.seed)
        self.pending = 0

    def ask(self) -> TrialInfo:
        self.pending += 1
        assert self.pending <= self.workers
        return TrialInfo(self.space.sample_configuration(), self.max_fidelity, origin="random")

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.pending -= 1


class Sequential(Batched):
    name = "sequential_rs"
    parallel: ClassVar[str] = "none"


@pytest.fixture()
def fixtures_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in (Batched, Sequential):
        monkeypatch.setitem(REGISTRY, cls.name, (cls.__module__, cls.__name__))


def test_batch_optimizers_wait_for_the_whole_batch(data_dir: Path, tmp_path: Path, fixtures_registered: None) -> None:
    rec = run_search("batched_rs", "cifar10", 0, Budget(BUDGET), tmp_path / "b", data_dir=data_dir, progress=None, workers=4)
    trials = read_trials(tmp_path / "b")
    starts = trials.groupby("start_time")["worker"].agg(sorted)
    assert all(workers == [0, 1, 2, 3] for workers in starts.iloc[:-1])  # every batch but maybe the cut last one
    # each batch starts when the slowest trial of the one before ended
    ends = trials.groupby("start_time")["sim_time"].max()
    assert (ends.index[1:] == ends.to_numpy()[:-1]).all()
    # reference: batches of the free workers from the one-worker sequence of the same sampler
    seq = run_search("batched_rs", "cifar10", 0, Budget(max_evals=800), tmp_path / "seq", data_dir=data_dir, progress=None)
    costs = read_trials(tmp_path / "seq")["cost"].tolist()
    t, free, i, counted = 0.0, 4, 0, 0
    while free and t < BUDGET:
        batch = costs[i : i + free]
        i += free
        fits = [c for c in batch if t + c <= BUDGET]
        counted, free = counted + len(fits), len(fits)
        t = t + max(fits, default=0.0)
    assert seq["n_trials"] == 800 > i
    assert rec["n_trials"] == len(trials) == counted == 345


def test_an_optimizer_without_parallel_support_is_refused(data_dir: Path, tmp_path: Path, fixtures_registered: None) -> None:
    with pytest.raises(InputError, match="workers=4: .* sequential_rs declares parallel = 'none'"):
        run_search("sequential_rs", "cifar10", 0, Budget(BUDGET), tmp_path / "s", data_dir=data_dir, progress=None, workers=4)
    assert not (tmp_path / "s").exists()
    rec = run_search("sequential_rs", "cifar10", 0, Budget(max_evals=5), tmp_path / "s1", data_dir=data_dir, progress=None)
    assert rec["n_trials"] == 5


@pytest.mark.parametrize("value", ["0", "-3", "1.5", "four", str(MAX_WORKERS + 1)])
def test_bad_workers_are_one_line_and_write_nothing(value: str, nashpo_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "nashpo", "run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "0"]
    res = subprocess.run([*argv, "--max-evals", "5", "--workers", value, "--out", str(out)], capture_output=True, text=True, env=nashpo_env)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "workers" in lines[0] and value in lines[0], res.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [0, True, 2.0, MAX_WORKERS + 1])
def test_bad_workers_in_the_api(value: object, data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=f"workers={value!r}: "):
        run_search("rs", "cifar10", 0, Budget(max_evals=5), tmp_path / "r", data_dir=data_dir, progress=None, workers=value)  # type: ignore[arg-type]
    assert not (tmp_path / "r").exists()


def test_the_record_lists_workers_and_cancelled_trials(data_dir: Path, tmp_path: Path) -> None:
    _rs(data_dir, tmp_path / "k4", 4)
    rec = read_record(tmp_path / "k4")
    assert rec["workers"] == 4
    assert {"worker", "start_time", "arch_code", "cost", "would_end_at"} <= set(rec["cancelled"][0])
    assert sorted(c["worker"] for c in rec["cancelled"]) == sorted({c["worker"] for c in rec["cancelled"]})
