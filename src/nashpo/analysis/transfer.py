"""Transfer: each search's final incumbent evaluated on every NB201 dataset, and how well the datasets
agree on the ranking of all 15,625 architectures.

- ``transfer``: one row per run x evaluation dataset: the incumbent's 200-epoch test accuracy there
  (seed mean, a table lookup) and its test regret against that dataset's oracle (best 200-epoch test
  accuracy of all architectures), in percentage points. The diagonal (evaluated where searched) equals
  the aggregate's final test regret.
- ``transfer_matrix``: the heatmap data, per protocol x optimizer x search dataset x evaluation dataset:
  mean, median, std and count of that regret over seeds.
- ``rank_correlation``: Spearman's rho and Kendall's tau-b (``scipy.stats``) between two datasets over all
  architectures, on test_acc@200 and valid_acc@200 (seed means).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from scipy import stats

from nashpo.analysis.io import read_table, write_tables
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.sources import DATASETS
from nashpo.data.tables import FULL_EPOCHS
from nashpo.space import N_ARCHS, arch_str

RUN_KEY = ["protocol", "optimizer", "seed"]
CORRELATED = ("test_acc", "valid_acc")


def benchmarks(datasets: tuple[str, ...] = DATASETS, data_dir: Path | None = None) -> dict[str, NB201Benchmark]:
    return {d: NB201Benchmark(d, data_dir) for d in datasets}


def transfer_table(finals: pd.DataFrame, benches: dict[str, NB201Benchmark]) -> pd.DataFrame:
    """Every run's final incumbent looked up on every evaluation dataset."""
    codes = finals["inc_arch_code"].to_numpy(np.int64)
    parts = []
    for ev, bench in benches.items():
        values = bench.query_many(codes, FULL_EPOCHS)
        test = values.get("test_acc", np.full(len(codes), np.nan))
        oracle = float(bench.oracle().set_index("epochs").loc[FULL_EPOCHS, "best_test_acc"])
        parts.append(
            pd.DataFrame(
                {
                    **{k: finals[k].to_numpy() for k in RUN_KEY},
                    "search_dataset": finals["dataset"].to_numpy(),
                    "eval_dataset": ev,
                    "inc_arch_code": codes,
                    "inc_arch_str": [arch_str(int(c)) for c in codes],
                    "test_acc_200": np.asarray(test, float),
                    "oracle_test_acc": oracle,
                    "test_regret": np.round(oracle - np.asarray(test, float), 6),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["same_dataset"] = out["search_dataset"] == out["eval_dataset"]
    return out.sort_values([*RUN_KEY[:2], "search_dataset", "seed", "eval_dataset"], ignore_index=True)


def transfer_matrix(transfer: pd.DataFrame) -> pd.DataFrame:
    """Heatmap data: test regret over seeds per protocol x optimizer x search x evaluation dataset."""
    return (
        transfer.groupby(["protocol", "optimizer", "search_dataset", "eval_dataset"], sort=True)["test_regret"]
        .agg(n_seeds="count", mean="mean", median="median", std="std")
        .reset_index()
    )


def rank_correlation(benches: dict[str, NB201Benchmark]) -> pd.DataFrame:
    """Spearman and Kendall correlation of all architectures between each pair of datasets."""
    codes = np.arange(N_ARCHS)
    values = {d: b.query_many(codes, FULL_EPOCHS) for d, b in benches.items()}
    rows = []
    for a, b in itertools.combinations(benches, 2):
        for metric in CORRELATED:
            if metric not in values[a] or metric not in values[b]:
                continue
            x, y = np.asarray(values[a][metric], float), np.asarray(values[b][metric], float)
            ok = np.isfinite(x) & np.isfinite(y)
            rho = stats.spearmanr(x[ok], y[ok])
            tau = stats.kendalltau(x[ok], y[ok])
            rows.append(
                {
                    "dataset_a": a,
                    "dataset_b": b,
                    "metric": f"{metric}@{FULL_EPOCHS}",
                    "n_archs": int(ok.sum()),
                    "spearman_rho": float(rho.statistic),
                    "spearman_p": float(rho.pvalue),
                    "kendall_tau_b": float(tau.statistic),
                    "kendall_p": float(tau.pvalue),
                }
            )
    return pd.DataFrame(rows)


def transfer_tables(aggregate_dir: Path, data_dir: Path | None = None, log: TextIO = sys.stderr) -> dict[str, pd.DataFrame]:
    finals = read_table(aggregate_dir, "per_run_final", "aggregate")
    benches = benchmarks(DATASETS, data_dir)
    print(f"transfer: {len(finals)} incumbents x {len(benches)} datasets; rank correlation of {N_ARCHS} architectures", file=log)
    table = transfer_table(finals, benches)
    return {"transfer": table, "transfer_matrix": transfer_matrix(table), "rank_correlation": rank_correlation(benches)}


def transfer(aggregate_dir: Path, out_dir: Path, data_dir: Path | None = None, log: TextIO = sys.stderr) -> list[Path]:
    written = write_tables(Path(out_dir), transfer_tables(Path(aggregate_dir), data_dir, log))
    print(f"transfer: wrote {len(written)} files to {out_dir}", file=log)
    return written
