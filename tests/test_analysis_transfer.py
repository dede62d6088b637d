"""Transfer lookups and rank correlations against direct benchmark queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from nashpo.analysis import transfer as tr
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.sources import DATASETS
from nashpo.errors import DataError
from nashpo.space import N_ARCHS, parse_arch_str

RESNET_LIKE = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"


@pytest.fixture(scope="module")
def benches(data_dir: Path) -> dict[str, NB201Benchmark]:
    return tr.benchmarks(DATASETS, data_dir)


def test_transfer_of_known_arch_codes_equals_the_lookup(benches: dict[str, NB201Benchmark]) -> None:
    best10 = int(np.nanargmax(benches["cifar10"].query_many(np.arange(N_ARCHS), 200)["valid_acc"]))
    codes = [best10, parse_arch_str(RESNET_LIKE), 0]
    finals = pd.DataFrame(
        {
            "protocol": "proxy",
            "optimizer": ["rs", "re", "rs"],
            "seed": [0, 0, 1],
            "dataset": ["cifar10", "cifar100", "cifar10"],
            "inc_arch_code": codes,
        }
    )
    table = tr.transfer_table(finals, benches)
    assert len(table) == len(finals) * len(DATASETS)
    for r in table.itertuples():
        bench = benches[r.eval_dataset]
        acc = bench.final_test_acc(r.inc_arch_code)
        oracle = bench.oracle().set_index("epochs").loc[200, "best_test_acc"]
        assert r.test_acc_200 == acc and r.oracle_test_acc == oracle
        assert r.test_regret == pytest.approx(oracle - acc, abs=1e-6)
        assert r.same_dataset == (r.search_dataset == r.eval_dataset)
    # arch code 0 (all edges 'none') has no path from input to output: chance-level accuracy
    zero = table[table["inc_arch_code"] == 0].set_index("eval_dataset")["test_acc_200"]
    assert zero["cifar10"] == pytest.approx(10.0, abs=0.5) and zero["cifar100"] == pytest.approx(1.0, abs=0.5)
    matrix = tr.transfer_matrix(table)
    cell = matrix[(matrix["optimizer"] == "rs") & (matrix["search_dataset"] == "cifar10") & (matrix["eval_dataset"] == "cifar100")].iloc[0]
    rs_c100 = table[(table["optimizer"] == "rs") & (table["eval_dataset"] == "cifar100")]["test_regret"]
    assert cell["n_seeds"] == 2 and cell["mean"] == pytest.approx(rs_c100.mean())


def test_rank_correlation_of_all_architectures(benches: dict[str, NB201Benchmark]) -> None:
    table = tr.rank_correlation(benches)
    assert len(table) == 6 and (table["n_archs"] == N_ARCHS).all()
    row = table[(table["dataset_a"] == "cifar10") & (table["dataset_b"] == "cifar100") & (table["metric"] == "test_acc@200")].iloc[0]
    a = benches["cifar10"].query_many(np.arange(N_ARCHS), 200)["test_acc"]
    b = benches["cifar100"].query_many(np.arange(N_ARCHS), 200)["test_acc"]
    assert row["spearman_rho"] == pytest.approx(st.spearmanr(a, b).statistic)
    assert row["kendall_tau_b"] == pytest.approx(st.kendalltau(a, b).statistic)
    # NB201's datasets rank architectures very similarly, Kendall below Spearman
    assert (table["spearman_rho"] > 0.9).all() and (table["kendall_tau_b"] < table["spearman_rho"]).all()


def test_missing_aggregate(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(DataError, match="per_run_final.parquet"):
        tr.transfer(tmp_path, tmp_path / "out", data_dir)
