"""Every built-in optimizer on K = 4 simulated workers: it proposes while results are pending, in the
way its library does (docs/parallel.md, "Optimizers with parallel workers"), and the same seed gives
the same trial log in-process and across processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nashpo.optimizers import REGISTRY, get_optimizer_class
from nashpo.optimizers.base import TrialValue
from nashpo.runner import Budget, run_search
from nashpo.space import build_configspace
from nashpo.triallog import log_digest, read_record, read_trials

K = 4
BUDGET = 3000.0  # simulated seconds: about 25 trials with one worker, 100 with four (12-epoch proxy)
MO = "valid_error,latency:pixel3"
MULTI_OBJECTIVE = ("mo_rs", "nsga2", "nsga3", "motpe", "parego", "linas", "mo_smac_mf")
# the SMAC-based adapters refit their forest often; smaller budgets (and ParEGO's SMAC default
# retrain_after 8) keep this file fast without changing what is tested
CHEAPER: dict[str, tuple[float, dict[str, Any]]] = {
    "smac": (1000.0, {}),
    "smac_hb": (2400.0, {}),
    "parego": (1000.0, {"retrain_after": 8}),
    "mo_smac_mf": (2400.0, {"retrain_after": 8}),
    "linas": (2000.0, {}),
}
MODES = dict.fromkeys(REGISTRY, "async")


def search(name: str, data_dir: Path, out: Path, workers: int = K) -> tuple[dict[str, Any], pd.DataFrame]:
    budget, hp = CHEAPER.get(name, (BUDGET, {}))
    rec = run_search(
        name,
        "cifar10",
        0,
        Budget(budget),
        out,
        hyperparameters=hp,
        data_dir=data_dir,
        progress=None,
        objectives=MO if name in MULTI_OBJECTIVE else None,
        workers=workers,
    )
    return rec, read_trials(out)


@pytest.fixture(scope="module")
def runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Every optimizer twice at K = 4, same seed: (first run folder, second run folder)."""
    root = tmp_path_factory.mktemp("parallel_optimizers")
    out = {}
    for name in REGISTRY:
        if name not in MODES:  # a plug-in registered by another test module
            continue
        a, b = root / f"{name}_a", root / f"{name}_b"
        search(name, data_dir, a)
        search(name, data_dir, b)
        out[name] = (a, b)
    return out


def ask_order(trials: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order they were asked: by start, then worker (free workers are filled in worker order)."""
    return trials.sort_values(["start_time", "worker"], kind="stable").reset_index(drop=True)


def told_before_ask(trials: pd.DataFrame) -> np.ndarray:
    """Per row: how many results were told before it was asked (those ending at or before its start)."""
    ends = np.sort(trials["sim_time"].to_numpy())
    return np.searchsorted(ends, trials["start_time"].to_numpy(), side="right")


def running_at_start(trials: pd.DataFrame, record: dict[str, Any]) -> np.ndarray:
    """Per row: how many other trials (logged or cancelled) were running when it was asked."""
    spans = [(s, e) for s, e in zip(trials["start_time"], trials["sim_time"], strict=True)]
    spans += [(c["start_time"], c["would_end_at"]) for c in record["cancelled"]]
    starts = np.array([s for s, _ in spans])
    ends = np.array([e for _, e in spans])
    return np.array([int(((starts <= s) & (s < ends)).sum()) - 1 for s in trials["start_time"]])


def test_every_built_in_optimizer_declares_its_parallel_mode() -> None:
    assert {name: get_optimizer_class(name).parallel for name in MODES} == MODES


@pytest.mark.parametrize("name", list(MODES))
def test_four_workers_busy_pending_trials_and_deterministic(name: str, runs: dict[str, tuple[Path, Path]]) -> None:
    a, b = runs[name]
    rec, trials = read_record(a), read_trials(a)
    assert rec["workers"] == K and rec["n_trials"] == len(trials) >= 30
    assert sorted(trials["worker"].unique()) == list(range(K))
    # asked while three other trials were running: at every ask after the first results, not only at the start
    later = trials["start_time"] > 0
    assert later.sum() >= 20
    assert (running_at_start(trials, rec)[later] == K - 1).all()
    assert (trials["sim_time"] - trials["start_time"]).to_numpy() == pytest.approx(trials["cost"].to_numpy())
    # the same seed and K: the same log in every column but the wall-clock opt_time
    again = read_trials(b)
    pd.testing.assert_frame_equal(trials.drop(columns="opt_time"), again.drop(columns="opt_time"))
    assert read_record(b)["cancelled"] == rec["cancelled"]


@pytest.mark.parametrize("name", ["re", "re_autodl"])
def test_re_is_random_until_the_population_is_in_then_mutates(name: str, runs: dict[str, tuple[Path, Path]]) -> None:
    """Asynchronous regularized evolution: a free worker proposes at random while fewer than
    population_size results are in, afterwards a mutation of a tournament winner."""
    trials = ask_order(read_trials(runs[name][0]))
    told = told_before_ask(trials)
    population = get_optimizer_class(name).defaults["population_size"]
    assert (trials["origin"] == np.where(told < population, "random", "mutation")).all()
    assert (trials["origin"] == "random").sum() > population  # workers kept busy while the population filled


def test_tpe_constant_liar_only_with_several_workers(data_dir: Path, runs: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    from nashpo.optimizers.tpe import OptunaTPE

    for workers, liar in ((1, False), (K, True)):
        opt = OptunaTPE(build_configspace(0), 0, [12], tmp_path, workers=workers)
        assert opt.study.sampler._constant_liar is liar
    # Optuna samples at random while fewer than n_startup_trials trials are complete
    for name in ("tpe", "motpe"):
        trials = ask_order(read_trials(runs[name][0]))
        startup = get_optimizer_class(name).defaults["n_startup_trials"]
        assert (trials["origin"] == np.where(told_before_ask(trials) < startup, "random", name)).all()
        assert (trials["origin"] == "random").sum() > startup


def test_motpe_constant_liar_with_several_workers(tmp_path: Path) -> None:
    from nashpo.optimizers.motpe import MOTPE

    opt = MOTPE(build_configspace(0), 0, [12], tmp_path, workers=K, objectives=("valid_error", "latency_pixel3"))
    assert opt.study.sampler._constant_liar is True


@pytest.mark.parametrize("name", ["smac", "smac_hb", "parego", "mo_smac_mf"])
def test_smac_runhistory_has_the_simulated_clock(name: str, runs: dict[str, tuple[Path, Path]]) -> None:
    """SMAC is told each trial's start and end on the parallel simulated clock (DeepCAVE reads them)."""
    (history,) = (runs[name][0] / "optimizer").glob("*/*/runhistory.json")
    data = json.loads(history.read_text())["data"]
    trials = read_trials(runs[name][0])
    told = sorted((round(d["starttime"], 6), round(d["endtime"], 6)) for d in data if d["status"] == 1)
    logged = sorted((round(s, 6), round(e, 6)) for s, e in zip(trials["start_time"], trials["sim_time"], strict=True))
    assert told == logged
    assert sum(d["starttime"] == 0.0 for d in data) >= K  # four trials started at once


@pytest.mark.parametrize("name", ["smac_hb", "mo_smac_mf"])
def test_smac_hyperband_never_waits_for_a_rung(name: str, runs: dict[str, tuple[Path, Path]]) -> None:
    """SMAC's successive halving: the higher rung's first trial is asked while low-rung trials still run."""
    trials = ask_order(read_trials(runs[name][0]))
    high = trials[trials["epochs"] == trials["epochs"].max()]
    assert len(high)
    first_high = high["start_time"].iloc[0]
    low = trials[trials["epochs"] < trials["epochs"].max()]
    assert ((low["start_time"] < first_high) & (low["sim_time"] > first_high)).any()


def test_dehb_asks_before_the_previous_rung_is_in(tmp_path: Path) -> None:
    """DEHB's asynchronous ask: with results pending it hands out jobs from a new bracket."""
    from nashpo.optimizers.dehb import DEHBOptimizer

    opt = DEHBOptimizer(build_configspace(0), 0, [12, 200], tmp_path, workers=K)
    asked = [opt.ask() for _ in range(40)]  # no result told
    brackets = [info.token["bracket_id"] for info in asked]
    assert len(set(brackets)) > 1 and brackets == sorted(brackets)
    assert {info.epochs for info in asked} <= {12, 200}
    # results told in reverse order are taken
    for info in reversed(asked):
        opt.tell(info, _value(10.0, 100.0))
    opt.close()


@pytest.mark.parametrize("name", ["bohb", "bohb_nb201"])
def test_bohb_starts_an_iteration_when_every_active_one_waits(name: str, tmp_path: Path) -> None:
    """hpbandster's Master.run: a new SuccessiveHalving iteration once the active ones wait for results."""
    opt = get_optimizer_class(name)(build_configspace(0), 0, [12, 200], tmp_path, workers=K)
    asked = [opt.ask()]
    first_stage = int(opt.iterations[0].num_configs[0])
    asked += [opt.ask() for _ in range(first_stage)]  # no result told
    assert len(opt.iterations) == 2
    assert [info.token.id[0] for info in asked] == [0] * first_stage + [1]
    for info in reversed(asked):
        opt.tell(info, _value(10.0, 100.0))
    opt.close()


def test_reinforce_updates_its_policy_as_results_return(runs: dict[str, tuple[Path, Path]]) -> None:
    policy = json.loads((runs["reinforce"][0] / "optimizer" / "policy.json").read_text())
    assert policy["steps"] == read_record(runs["reinforce"][0])["n_trials"]


def test_nsga2_fills_a_generations_end_with_extra_offspring(runs: dict[str, tuple[Path, Path]]) -> None:
    """The first pop_size trials are the random initial population; workers free before it is all in
    get extra random configurations; everything asked after it is in is an offspring."""
    trials = ask_order(read_trials(runs["nsga2"][0]))
    pop = get_optimizer_class("nsga2").defaults["pop_size"]
    assert (trials["origin"].iloc[:pop] == "random").all()
    initial_in = trials["sim_time"].iloc[:pop].max()
    extra = trials.iloc[pop:]
    assert ((extra["origin"] == "random") == (extra["start_time"] < initial_in)).all()
    assert (extra["origin"] == "random").sum() >= 1 and (extra["origin"] == "offspring").sum() >= 50
    generations = json.loads((runs["nsga2"][0] / "optimizer" / "nsga2_generations.json").read_text())["generations"]
    assert len(generations) >= 3 and all(len(g["codes"]) >= pop for g in generations)
    assert len(set(trials["arch_code"])) == len(trials)  # no configuration evaluated twice


def test_linas_first_fit_waits_for_n_initial_results(runs: dict[str, tuple[Path, Path]]) -> None:
    trials = ask_order(read_trials(runs["linas"][0]))
    n_initial = get_optimizer_class("linas").defaults["n_initial"]
    assert (trials["origin"] == np.where(told_before_ask(trials) < n_initial, "random", "predicted_front")).all()
    summary = json.loads((runs["linas"][0] / "optimizer" / "linas_predictor.json").read_text())
    assert summary["iterations"][0]["n_train"] == n_initial
    assert len(set(trials["arch_code"])) == len(trials)


@pytest.mark.parametrize("name", ["smac", "dehb", "tpe", "re"])
def test_same_log_across_processes(name: str, nashpo_env: dict[str, str], runs: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    """Fresh processes (PYTHONHASHSEED=0) give the same trials.parquet digest, and the in-process one
    where this process hashes strings as they do (SMAC's proposals depend on Python's string hashing)."""
    budget, hp = CHEAPER.get(name, (BUDGET, {}))
    digests = []
    for i in range(2):
        out = tmp_path / f"p{i}"
        cmd = [sys.executable, "-m", "nashpo", "run", "--optimizer", name, "--dataset", "cifar10", "--seed", "0"]
        cmd += ["--max-sim-seconds", str(budget), "--workers", str(K), "--out", str(out)]
        if hp:
            cmd += ["--hp", json.dumps(hp)]
        subprocess.run(cmd, env=nashpo_env, check=True, capture_output=True)
        digests.append(log_digest(read_trials(out), skip=("opt_time",)))
    assert digests[0] == digests[1]
    if not name.startswith("smac") or not sys.flags.hash_randomization:
        assert digests[0] == log_digest(read_trials(runs[name][0]), skip=("opt_time",))


def _value(cost: float, time: float) -> TrialValue:
    return TrialValue(cost=cost, time=time)
