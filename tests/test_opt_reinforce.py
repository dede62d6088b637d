"""REINFORCE (reinforce) and the AutoDL variants of regularized evolution (re tournament/mutation, re_autodl)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.errors import InputError
from nashpo.optimizers import get_optimizer_class
from nashpo.optimizers.base import TrialValue
from nashpo.optimizers.re import AutoDLRegularizedEvolution, RegularizedEvolution, mutate
from nashpo.optimizers.reinforce import Reinforce, softmax
from nashpo.runner import Budget, run_search
from nashpo.space import N_ARCHS, N_EDGES, build_configspace, code_to_ops, config_to_code, ops_to_code
from nashpo.triallog import read_trials


def _reinforce(tmp_path: Path, seed: int = 0, **hp) -> Reinforce:
    return Reinforce(build_configspace(seed), seed, [12], tmp_path, **hp)


def test_reinforce_defaults_are_autodl_settings() -> None:
    assert Reinforce.defaults == {"learning_rate": 0.001, "ema_momentum": 0.9}


def test_reinforce_baseline_is_the_bias_corrected_ema(tmp_path: Path) -> None:
    opt = _reinforce(tmp_path)
    rewards = [70.0, 80.0, 75.0, 90.0]
    for r in rewards:
        opt.tell(opt.ask(), TrialValue(cost=100.0 - r, time=1.0))
    w = np.array([0.1 * 0.9 ** (len(rewards) - 1 - i) for i in range(len(rewards))])
    assert opt.baseline == pytest.approx(float(w @ rewards / w.sum()))


def test_reinforce_first_step_has_no_advantage_then_follows_the_sign(tmp_path: Path) -> None:
    """The EMA is updated before the advantage (as AutoDL does): the first reward is its own baseline."""
    opt = _reinforce(tmp_path, learning_rate=0.01)
    start = opt.logits.copy()
    opt.tell(opt.ask(), TrialValue(cost=30.0, time=1.0))
    np.testing.assert_array_equal(opt.logits, start)
    info = opt.ask()
    ops = info.token[0]
    before = softmax(opt.logits)
    opt.tell(info, TrialValue(cost=10.0, time=1.0))  # reward 90 > baseline: sampled ops become likelier
    after = softmax(opt.logits)
    for e, op in enumerate(ops):
        assert after[e, op] > before[e, op]
    info = opt.ask()
    before = softmax(opt.logits)
    opt.tell(info, TrialValue(cost=90.0, time=1.0))  # reward 10 < baseline: less likely
    after = softmax(opt.logits)
    for e, op in enumerate(info.token[0]):
        assert after[e, op] < before[e, op]


def test_reinforce_learns_a_synthetic_reward(tmp_path: Path) -> None:
    """Reward = number of edges with op 3 (nor_conv_3x3): the policy concentrates on op 3."""
    opt = _reinforce(tmp_path, seed=1, learning_rate=0.05)
    for _ in range(400):
        info = opt.ask()
        hits = sum(op == 3 for op in code_to_ops(config_to_code(info.config)))
        opt.tell(info, TrialValue(cost=100.0 - 10.0 * hits, time=1.0))
    assert (softmax(opt.logits)[:, 3] > 0.8).all()
    opt.close()
    state = json.loads((tmp_path / "policy.json").read_text())
    assert state["steps"] == 400 and state["policy"]["edge_0_1"]["nor_conv_3x3"] > 0.8


def test_reinforce_samples_follow_the_policy(tmp_path: Path) -> None:
    opt = _reinforce(tmp_path, seed=2)
    opt.logits = np.log(np.tile([0.1, 0.2, 0.3, 0.25, 0.15], (N_EDGES, 1)))
    counts = Counter()
    for _ in range(4000):
        for op in code_to_ops(config_to_code(opt.ask().config)):
            counts[op] += 1
    freq = np.array([counts[i] for i in range(5)]) / (4000 * N_EDGES)
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.25, 0.15], atol=0.01)


def test_reinforce_search_on_the_tables(data_dir: Path, tmp_path: Path) -> None:
    rec = run_search("reinforce", "cifar10", 0, Budget(max_sim_seconds=12000.0), tmp_path / "run", data_dir=data_dir, progress=None)
    trials = read_trials(tmp_path / "run")
    assert set(trials["origin"]) == {"policy"} and set(trials["epochs"]) == {12}
    bench = NB201Benchmark("cifar10", data_dir)
    everything = bench.query_many(np.arange(N_ARCHS), 12)["valid_acc"]
    assert (everything < rec["incumbent"]["valid_acc"]).mean() > 0.95
    assert (tmp_path / "run" / "optimizer" / "policy.json").is_file()
    again = run_search("reinforce", "cifar10", 0, Budget(max_sim_seconds=12000.0), tmp_path / "b", data_dir=data_dir, progress=None)
    assert again["incumbent"] == rec["incumbent"] and again["n_trials"] == rec["n_trials"]


@pytest.mark.parametrize(
    ("name", "hp", "field"),
    [
        ("reinforce", {"learning_rate": 0}, "reinforce.learning_rate"),
        ("reinforce", {"ema_momentum": 1.0}, "reinforce.ema_momentum"),
        ("reinforce", {"baseline": 0.5}, "reinforce.baseline"),
        ("re", {"tournament": "roulette"}, "re.tournament"),
        ("re", {"mutation": "path"}, "re.mutation"),
        ("re_autodl", {"sample_size": 20}, "re_autodl.sample_size"),
    ],
)
def test_bad_hyperparameters(data_dir: Path, tmp_path: Path, name: str, hp: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        run_search(name, "cifar10", 0, Budget(max_evals=5), tmp_path / "out", hyperparameters=hp, data_dir=data_dir, progress=None)
    assert err.value.field == field
    assert list(tmp_path.iterdir()) == []


def test_node_mutation_picks_a_node_first() -> None:
    """AutoDL's mutation: node 1 (one edge) gets 1/3 of the mutations, each edge into node 3 gets 1/9."""
    rng = np.random.default_rng(3)
    parent = ops_to_code([3, 1, 0, 2, 4, 3])
    edges = Counter()
    n = 18000
    for _ in range(n):
        child = code_to_ops(mutate(parent, rng, "node"))
        (edge,) = [i for i in range(N_EDGES) if child[i] != code_to_ops(parent)[i]]
        edges[edge] += 1
    expected = np.array([1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9])
    np.testing.assert_allclose(np.array([edges[i] for i in range(N_EDGES)]) / n, expected, atol=0.015)


def _children_of_best(cls: type, tmp_path: Path, **hp) -> float:
    """Share of tournaments (population 4, sample 4) whose child is a neighbour of the best member."""
    opt = cls(build_configspace(0), 0, [12], tmp_path, population_size=4, sample_size=4, **hp)
    members = []
    for cost in (10.0, 20.0, 30.0, 40.0):
        info = opt.ask()
        members.append(config_to_code(info.config))
        opt.tell(info, TrialValue(cost=cost, time=1.0))
    best = code_to_ops(members[0])
    near = [sum(a != b for a, b in zip(best, code_to_ops(config_to_code(opt.ask().config)), strict=True)) == 1 for _ in range(400)]
    return float(np.mean(near))


def test_tournament_with_and_without_replacement(tmp_path: Path) -> None:
    # Without replacement a full-size tournament always picks the best member; with replacement the
    # best is missed with probability (3/4)^4 = 0.32.
    assert _children_of_best(RegularizedEvolution, tmp_path) == 1.0
    share = _children_of_best(RegularizedEvolution, tmp_path, tournament="with_replacement")
    assert 0.6 < share < 0.78


def test_re_autodl_is_re_with_autodl_defaults(data_dir: Path, tmp_path: Path) -> None:
    assert get_optimizer_class("re_autodl") is AutoDLRegularizedEvolution
    assert AutoDLRegularizedEvolution.defaults == {**RegularizedEvolution.defaults, "tournament": "with_replacement", "mutation": "node"}
    budget = Budget(max_evals=120)
    a = run_search("re_autodl", "cifar10", 5, budget, tmp_path / "a", data_dir=data_dir, progress=None)
    b = run_search(
        "re",
        "cifar10",
        5,
        budget,
        tmp_path / "b",
        hyperparameters={"tournament": "with_replacement", "mutation": "node"},
        data_dir=data_dir,
        progress=None,
    )
    cols = ["arch_code", "origin", "valid_acc"]
    assert read_trials(tmp_path / "a")[cols].equals(read_trials(tmp_path / "b")[cols])
    assert a["hyperparameters"] == b["hyperparameters"]
    default = read_trials(run_search("re", "cifar10", 5, budget, tmp_path / "c", data_dir=data_dir, progress=None)["out"])
    assert not default["arch_code"].equals(read_trials(tmp_path / "a")["arch_code"])
