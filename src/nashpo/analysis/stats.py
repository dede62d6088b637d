"""Significance tests on final test regret, with scipy, statsmodels and scikit-posthocs.

- Per task (protocol x dataset): pairwise Wilcoxon signed-rank tests over seeds (runs paired by
  seed; only common seeds are used and the table says how many), Holm-corrected p-values, and
  the matched-pairs rank-biserial correlation as effect size (positive: the first optimizer has
  the lower regret).
- Across tasks: Friedman test on mean final regret per task, Nemenyi post-hoc, critical difference
  (Demšar 2006, alpha 0.05) for the CD diagram; average rank over time on the time grid.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats
from statsmodels.stats.multitest import multipletests

from nashpo.analysis.io import write_table

TASK = ["protocol", "dataset"]
ALPHA = 0.05


def rank_biserial(x: np.ndarray, y: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation of d = y - x (positive: x has lower regret)."""
    d = y - x
    d = d[d != 0]
    if len(d) == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def pairwise_wilcoxon(finals: pd.DataFrame, metric: str = "test_regret") -> pd.DataFrame:
    rows = []
    for task, g in finals.groupby(TASK, sort=True):
        wide = g.pivot_table(index="seed", columns="optimizer", values=metric)
        task_rows = []
        for a, b in itertools.combinations(sorted(wide.columns), 2):
            pair = wide[[a, b]].dropna()
            n_a, n_b = int(wide[a].notna().sum()), int(wide[b].notna().sum())
            row = dict(zip(TASK, task, strict=True)) | {
                "optimizer_a": a,
                "optimizer_b": b,
                "n_pairs": len(pair),
                "paired_note": "" if len(pair) == n_a == n_b else f"only {len(pair)} common seeds ({n_a} vs {n_b} runs)",
            }
            x, y = pair[a].to_numpy(), pair[b].to_numpy()
            if len(pair) < 2 or np.all(x == y):
                row |= {"statistic": np.nan, "p_value": 1.0}
            else:
                res = stats.wilcoxon(x, y, zero_method="wilcox")
                row |= {"statistic": float(res.statistic), "p_value": float(res.pvalue)}
            row |= {
                "effect_rank_biserial": rank_biserial(x, y),
                "median_a": float(np.median(x)) if len(x) else np.nan,
                "median_b": float(np.median(y)) if len(y) else np.nan,
            }
            task_rows.append(row)
        if task_rows:
            p = [r["p_value"] for r in task_rows]
            reject, p_holm, _, _ = multipletests(p, alpha=ALPHA, method="holm")
            for r, ph, rej in zip(task_rows, p_holm, reject, strict=True):
                r |= {"p_holm": float(ph), "significant": bool(rej), "test": "Wilcoxon signed-rank (two-sided)", "correction": "Holm"}
            rows += task_rows
    return pd.DataFrame(rows)


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n)))


def friedman_nemenyi(finals: pd.DataFrame, metric: str = "test_regret") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Friedman summary with average ranks and CD, Nemenyi p-value matrix in long form)."""
    table = finals.groupby([*TASK, "optimizer"])[metric].mean().unstack("optimizer").dropna(axis=1)
    k, n = table.shape[1], table.shape[0]
    ranks = table.rank(axis=1, method="average").mean()
    base = {"test": "Friedman", "post_hoc": "Nemenyi", "n_tasks": n, "n_optimizers": k, "alpha": ALPHA}
    if k < 3 or n < 2:
        summary = pd.DataFrame(
            [
                base
                | {
                    "statistic": np.nan,
                    "p_value": np.nan,
                    "critical_difference": np.nan,
                    "note": f"needs >= 3 optimizers and >= 2 tasks (have {k} and {n})",
                }
            ]
        )
        nemenyi = pd.DataFrame(columns=["optimizer_a", "optimizer_b", "p_value"])
    else:
        res = stats.friedmanchisquare(*[table[c].to_numpy() for c in table.columns])
        summary = pd.DataFrame(
            [
                base
                | {
                    "statistic": float(res.statistic),
                    "p_value": float(res.pvalue),
                    "critical_difference": critical_difference(k, n),
                    "note": "",
                }
            ]
        )
        mat = sp.posthoc_nemenyi_friedman(table.to_numpy())
        mat.index = mat.columns = table.columns
        nemenyi = mat.stack().rename("p_value").rename_axis(["optimizer_a", "optimizer_b"]).reset_index()
    for opt, r in ranks.items():
        summary[f"avg_rank_{opt}"] = float(r)
    return summary, nemenyi


def ranks_over_time(curves_runs: pd.DataFrame) -> pd.DataFrame:
    """Average rank (1 = lowest mean test regret) of each optimizer per task and time point."""
    test = curves_runs[curves_runs["metric"] == "test_regret"]
    mean = test.groupby([*TASK, "sim_time", "optimizer"])["regret"].mean().reset_index()
    mean["rank"] = mean.groupby([*TASK, "sim_time"])["regret"].rank(method="average")
    return mean


def run_stats(aggregate_dir: Path, out_dir: Path, log=sys.stderr) -> None:
    finals = pd.read_parquet(aggregate_dir / "per_run_final.parquet")
    print(f"stats: {finals['optimizer'].nunique()} optimizers over {finals.groupby(TASK).ngroups} tasks", file=log)
    write_table(pairwise_wilcoxon(finals), out_dir, "wilcoxon", latex=True)
    friedman, nemenyi = friedman_nemenyi(finals)
    write_table(friedman, out_dir, "friedman", latex=True)
    write_table(nemenyi, out_dir, "nemenyi")
    write_table(ranks_over_time(pd.read_parquet(aggregate_dir / "per_run_trajectories.parquet")), out_dir, "ranks_over_time")
    summary = pd.read_parquet(aggregate_dir / "summary.parquet")
    summary["test_regret"] = summary.apply(lambda r: f"{r.test_regret_mean:.2f} ± {r.test_regret_std:.2f}", axis=1)
    table = summary.pivot_table(index="optimizer", columns=["protocol", "dataset"], values="test_regret", aggfunc="first")
    table.columns = [f"{p}/{d}" for p, d in table.columns]
    write_table(table.reset_index(), out_dir, "summary_table", latex=True)
