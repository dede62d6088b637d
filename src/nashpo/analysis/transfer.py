"""Transfer: the final incumbent of every search evaluated on every dataset, and the rank
correlation of all 15,625 architectures between datasets (context)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nashpo.analysis.io import write_table
from nashpo.benchmark import NB201Benchmark
from nashpo.data.sources import DATASETS
from nashpo.space import N_ARCHS


def transfer_table(finals: pd.DataFrame, data_dir: Path | None = None) -> pd.DataFrame:
    rows = []
    for ev in DATASETS:
        bench = NB201Benchmark(ev, data_dir)
        oracle = bench.oracle().set_index("epochs").loc[200, "best_test_acc"]
        for r in finals.itertuples():
            acc = bench.final_test_acc(int(r.inc_arch_code))
            rows.append(
                {
                    "protocol": r.protocol,
                    "optimizer": r.optimizer,
                    "seed": r.seed,
                    "search_dataset": r.dataset,
                    "eval_dataset": ev,
                    "inc_arch_code": int(r.inc_arch_code),
                    "test_acc_200": acc,
                    "test_regret": oracle - acc,
                }
            )
    return pd.DataFrame(rows)


def rank_correlation(data_dir: Path | None = None) -> pd.DataFrame:
    allc = np.arange(N_ARCHS)
    values = {d: NB201Benchmark(d, data_dir).query_many(allc, 200) for d in DATASETS}
    rows = []
    for a, b in itertools.combinations(DATASETS, 2):
        for metric in ("test_acc", "valid_acc"):
            if metric not in values[a] or metric not in values[b]:
                continue
            x, y = values[a][metric], values[b][metric]
            rows.append(
                {
                    "dataset_a": a,
                    "dataset_b": b,
                    "metric": f"{metric}@200",
                    "spearman": float(stats.spearmanr(x, y).statistic),
                    "kendall": float(stats.kendalltau(x, y).statistic),
                    "n_archs": N_ARCHS,
                }
            )
    return pd.DataFrame(rows)


def transfer(aggregate_dir: Path, out_dir: Path, data_dir: Path | None = None, log=sys.stderr) -> None:
    finals = pd.read_parquet(aggregate_dir / "per_run_final.parquet")
    print(f"transfer: {len(finals)} incumbents x {len(DATASETS)} datasets", file=log)
    write_table(transfer_table(finals, data_dir), out_dir, "transfer")
    write_table(rank_correlation(data_dir), out_dir, "rank_correlation")
