"""Significance tests on final test regret (scipy, statsmodels, scikit-posthocs).

A task is a protocol x dataset pair by default; every test takes the columns naming a task (``task``),
so the families and the multi-objective analysis call the same functions.

- Per task: pairwise two-sided Wilcoxon signed-rank tests (``scipy.stats.wilcoxon``, zero differences
  dropped, exact p-values for up to 50 pairs without ties) on the final test regret, runs paired by
  seed. When two optimizers have different seeds, only the common seeds are tested and the row says so.
  p-values are Holm-corrected within the task (``statsmodels.stats.multitest.multipletests``); pairs
  that cannot be tested (no common seed, all differences zero) get no p-value and are left out of the
  correction. Effect size: matched-pairs rank-biserial correlation r = (R+ - R-) / (R+ + R-) of the
  differences d = regret_b - regret_a (zeros dropped); r > 0 means optimizer_a has the lower regret,
  r = 1 means it is lower on every seed.
- Across tasks: Friedman test (``scipy.stats.friedmanchisquare``) on the mean final test regret per task,
  Nemenyi post-hoc (``scikit_posthocs.posthoc_nemenyi_friedman``), and the critical difference
  CD = q_alpha * sqrt(k (k + 1) / (6 N)) with q_alpha the studentized range quantile / sqrt(2)
  (Demšar 2006), alpha 0.05. Ranks: 1 = lowest regret, ties share the average rank. With fewer than
  3 optimizers or 2 tasks the tables are written with a note and no test.
- Rank over time: on the aggregate's time grid, up to the first end of a run of the task, optimizers
  are ranked per task, seed and time point (an optimizer without any trial yet ranks last), and the
  ranks are averaged over the seeds common to all optimizers of the task.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats
from statsmodels.stats.multitest import multipletests

from nashpo.analysis.io import MISSING_RUNS, missing_note, read_missing_runs, read_table, write_tables
from nashpo.analysis.runs import NB201_DATASETS as DATASETS

TASK = ["protocol", "dataset"]
ALPHA = 0.05
METRIC = "test_regret"
WILCOXON = "Wilcoxon signed-rank, two-sided"
EFFECT = "matched-pairs rank-biserial"
CORRECTION = "Holm"


def rank_biserial(a: np.ndarray, b: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation of d = b - a, zeros dropped (positive: a lower)."""
    d = np.asarray(b, float) - np.asarray(a, float)
    d = d[d != 0]
    if len(d) == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def seeds_note(a: str, b: str, seeds_a: set, seeds_b: set) -> str:
    if seeds_a == seeds_b:
        return ""
    common = seeds_a & seeds_b
    only_a, only_b = sorted(seeds_a - seeds_b), sorted(seeds_b - seeds_a)
    return f"seeds differ (only {a}: {only_a}; only {b}: {only_b}); tested the {len(common)} common seeds"


def wilcoxon_pair(task: tuple, g: pd.DataFrame, a: str, b: str, metric: str, task_columns: list[str] = TASK) -> dict:
    va = g[g["optimizer"] == a].set_index("seed")[metric].dropna()
    vb = g[g["optimizer"] == b].set_index("seed")[metric].dropna()
    common = sorted(set(va.index) & set(vb.index))
    x, y = va.loc[common].to_numpy(float), vb.loc[common].to_numpy(float)
    notes = [seeds_note(a, b, set(va.index), set(vb.index))]
    row = dict(zip(task_columns, task, strict=True)) | {
        "optimizer_a": a,
        "optimizer_b": b,
        "n_pairs": len(common),
        "n_nonzero": int(np.count_nonzero(x - y)),
        "median_a": float(np.median(x)) if len(x) else np.nan,
        "median_b": float(np.median(y)) if len(y) else np.nan,
        "test": WILCOXON,
        "statistic": np.nan,
        "p_value": np.nan,
    }
    if va.empty or vb.empty:
        notes.append(f"no {metric} values (no test accuracy in the data?): not tested")
    elif len(common) == 0:
        notes.append("no common seeds: not tested")
    elif row["n_nonzero"] == 0:
        notes.append("all paired differences are zero: not tested")
    else:
        res = stats.wilcoxon(x, y, zero_method="wilcox", alternative="two-sided", method="auto")
        row |= {"statistic": float(res.statistic), "p_value": float(res.pvalue)}
    r = rank_biserial(x, y)
    row |= {
        "effect_size": r,
        "effect_measure": EFFECT,
        "lower_regret": a if r > 0 else b if r < 0 else "tie",
        "note": "; ".join(n for n in notes if n),
    }
    return row


def pairwise_wilcoxon(finals: pd.DataFrame, metric: str = METRIC, alpha: float = ALPHA, task: list[str] = TASK) -> pd.DataFrame:
    """All optimizer pairs per task (the ``task`` columns, in sorted order), Holm-corrected within the task."""
    rows = []
    for key, g in finals.groupby(task, sort=True):
        pairs = itertools.combinations(sorted(g["optimizer"].unique()), 2)
        task_rows = [wilcoxon_pair(key, g, a, b, metric, task) for a, b in pairs]
        tested = [r for r in task_rows if np.isfinite(r["p_value"])]
        if tested:
            reject, p_adj, _, _ = multipletests([r["p_value"] for r in tested], alpha=alpha, method="holm")
            for r, p, rej in zip(tested, p_adj, reject, strict=True):
                r |= {"p_adjusted": float(p), "significant": bool(rej)}
        for r in task_rows:
            r.setdefault("p_adjusted", np.nan)
            r.setdefault("significant", False)
            r |= {"correction": f"{CORRECTION} ({len(tested)} tests in the task)", "alpha": alpha}
        rows += task_rows
    columns = [
        *task,
        "optimizer_a",
        "optimizer_b",
        "n_pairs",
        "n_nonzero",
        "median_a",
        "median_b",
        "test",
        "statistic",
        "p_value",
        "correction",
        "p_adjusted",
        "alpha",
        "significant",
        "effect_measure",
        "effect_size",
        "lower_regret",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns)


def q_alpha(k: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical value: studentized range quantile (k groups, infinite df) / sqrt(2)."""
    return float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    return q_alpha(k, alpha) * float(np.sqrt(k * (k + 1) / (6.0 * n)))


def task_matrix(finals: pd.DataFrame, metric: str = METRIC, task: list[str] = TASK) -> tuple[pd.DataFrame, str]:
    """Tasks x optimizers mean final regret; optimizers missing on a task are dropped (returned note)."""
    mat = finals.groupby([*task, "optimizer"])[metric].mean().unstack("optimizer").dropna(axis=0, how="all")
    missing = [o for o in mat.columns if mat[o].isna().any()]
    note = f"dropped (missing on some task): {', '.join(missing)}" if missing else ""
    return mat.drop(columns=missing), note


def friedman_nemenyi(
    finals: pd.DataFrame, metric: str = METRIC, alpha: float = ALPHA, task: list[str] = TASK
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Friedman table: one row per optimizer with its average rank; Nemenyi pairs in long form)."""
    mat, drop_note = task_matrix(finals, metric, task)
    n, k = mat.shape
    avg_rank = mat.rank(axis=1, method="average").mean() if n else pd.Series(dtype=float)
    base = {
        "test": "Friedman",
        "post_hoc": "Nemenyi",
        "n_tasks": n,
        "n_optimizers": k,
        "alpha": alpha,
        "statistic": np.nan,
        "p_value": np.nan,
        "q_alpha": np.nan,
        "critical_difference": np.nan,
    }
    notes = [drop_note]
    nemenyi_cols = ["optimizer_a", "optimizer_b", "avg_rank_a", "avg_rank_b", "rank_diff", "critical_difference", "p_value", "significant"]
    pairs: list[dict] = []
    if k < 3 or n < 2:
        notes.append(f"not tested: Friedman/Nemenyi need >= 3 optimizers and >= 2 tasks (have {k} and {n})")
    else:
        res = stats.friedmanchisquare(*[mat[c].to_numpy(float) for c in mat.columns])
        cd = critical_difference(k, n, alpha)
        base |= {"statistic": float(res.statistic), "p_value": float(res.pvalue), "q_alpha": q_alpha(k, alpha), "critical_difference": cd}
        pmat = sp.posthoc_nemenyi_friedman(mat.to_numpy(float))
        pmat.index = pmat.columns = mat.columns
        for a, b in itertools.combinations(sorted(mat.columns), 2):
            p = float(pmat.loc[a, b])
            ra, rb = float(avg_rank[a]), float(avg_rank[b])
            pairs.append(dict(zip(nemenyi_cols, [a, b, ra, rb, abs(ra - rb), cd, p, p < alpha], strict=True)))
    note = "; ".join(x for x in notes if x)
    rows = [{"optimizer": o, "avg_rank": float(r)} | base | {"note": note} for o, r in avg_rank.sort_values().items()]
    friedman = pd.DataFrame(rows or [{"optimizer": None, "avg_rank": np.nan} | base | {"note": note}])
    nemenyi = pd.DataFrame(pairs, columns=nemenyi_cols)
    nemenyi["test"] = "Nemenyi (Friedman post-hoc)"
    nemenyi["note"] = "" if pairs else note
    if nemenyi.empty:
        nemenyi = pd.DataFrame([{c: np.nan for c in nemenyi_cols} | {"test": "Nemenyi (Friedman post-hoc)", "note": note}])
    return friedman, nemenyi


def ranks_over_time(per_run: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """Average rank (over the seeds common to all optimizers) per task and time-grid point."""
    sub = per_run[per_run["axis"] == "sim_time"]
    parts = []
    for task, g in sub.groupby(TASK, sort=True):
        seeds = set.intersection(*(set(s) for s in g.groupby("optimizer")["seed"].unique()))
        g = g[g["seed"].isin(seeds)]
        g = g[~g["x"].isin(g.loc[g["ended"], "x"])]  # only while every run is still going
        wide = g.pivot_table(index=["seed", "x"], columns="optimizer", values=metric, dropna=False)
        ranks = wide.fillna(np.inf).rank(axis=1, method="average")  # no trial yet: worst
        mean = ranks.groupby(level="x").mean()
        long = mean.stack().rename("avg_rank").reset_index().rename(columns={"x": "sim_time"})
        parts.append(long.assign(**dict(zip(TASK, task, strict=True)), n_seeds=len(seeds)))
    cols = [*TASK, "sim_time", "optimizer", "avg_rank", "n_seeds"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def summary_table(summary: pd.DataFrame, friedman: pd.DataFrame) -> pd.DataFrame:
    """Optimizers x tasks: final test regret 'mean ± sd (n)' in pp, plus the Friedman average rank."""
    s = summary.copy()
    one_protocol = s["protocol"].nunique() == 1
    s["task"] = s["dataset"] if one_protocol else s["dataset"] + " (" + s["protocol"] + ")"
    s["cell"] = [f"{m:.2f} ± {sd:.2f} ({n})" for m, sd, n in zip(s["test_regret_mean"], s["test_regret_std"], s["n_seeds"], strict=True)]
    # columns: protocols (proxy first), then datasets in NB201 order
    s["p_order"] = s["protocol"].map({"proxy": 0, "full": 1}).fillna(2)
    s["d_order"] = s["dataset"].map({d: i for i, d in enumerate(DATASETS)}).fillna(len(DATASETS))
    tasks = s.sort_values(["p_order", "protocol", "d_order", "dataset"])["task"].drop_duplicates().tolist()
    table = s.pivot(index="optimizer", columns="task", values="cell").reindex(columns=tasks).fillna("--")
    table.columns.name = None
    ranks = friedman.set_index("optimizer")["avg_rank"] if friedman["optimizer"].notna().any() else pd.Series(dtype=float)
    table["avg. rank"] = [f"{ranks[o]:.2f}" if o in ranks.index and np.isfinite(ranks[o]) else "--" for o in table.index]
    return table.reset_index()


def stats_tables(aggregate_dir: Path, log: TextIO = sys.stderr) -> dict[str, pd.DataFrame]:
    finals = read_table(aggregate_dir, "per_run_final", "aggregate")
    per_run = read_table(aggregate_dir, "per_run_trajectories", "aggregate")
    summary = read_table(aggregate_dir, "summary", "aggregate")
    print(f"stats: {finals['optimizer'].nunique()} optimizers over {finals.groupby(TASK).ngroups} tasks", file=log)
    wilcoxon = pairwise_wilcoxon(finals)
    friedman, nemenyi = friedman_nemenyi(finals)
    print(f"stats: {len(wilcoxon)} Wilcoxon pairs; Friedman p = {friedman['p_value'].iloc[0]:.3g}", file=log)
    return {
        "wilcoxon": wilcoxon,
        "friedman": friedman,
        "nemenyi": nemenyi,
        "ranks_over_time": ranks_over_time(per_run),
        "summary_table": summary_table(summary, friedman),
        MISSING_RUNS: read_missing_runs(aggregate_dir),
    }


FORMATS = {
    "wilcoxon": ("parquet", "csv", "tex"),
    "friedman": ("parquet", "csv", "tex"),
    "nemenyi": ("parquet", "csv", "tex"),
    "ranks_over_time": ("parquet", "csv"),
    "summary_table": ("parquet", "csv", "tex"),
    MISSING_RUNS: ("parquet", "csv"),
}


LATEX_COLUMNS = {
    "wilcoxon": [
        *TASK,
        "optimizer_a",
        "optimizer_b",
        "n_pairs",
        "test",
        "statistic",
        "p_value",
        "correction",
        "p_adjusted",
        "effect_size",
        "note",
    ],
    "friedman": ["optimizer", "avg_rank", "test", "n_tasks", "statistic", "p_value", "critical_difference", "note"],
    "nemenyi": ["optimizer_a", "optimizer_b", "rank_diff", "critical_difference", "p_value", "significant"],
}


LATEX_CAPTIONS = {
    "wilcoxon": (
        f"Pairwise two-sided Wilcoxon signed-rank tests on the final test regret, runs paired by seed; p-values {CORRECTION}-corrected "
        f"within each task (p\\_adjusted); effect size: {EFFECT} correlation (positive: optimizer\\_a has the lower regret)."
    ),
    "friedman": "Friedman test on the mean final test regret per task (blocks: tasks); average ranks (1 = best) and the "
    "Nemenyi critical difference at alpha 0.05.",
    "nemenyi": "Nemenyi post-hoc test after the Friedman test: pairs whose average ranks differ by more than the critical difference.",
    "summary_table": "Final test regret (percentage points): mean ± standard deviation (number of seeds) per task; "
    "average rank from the Friedman test.",
}


def run_stats(aggregate_dir: Path, out_dir: Path, log: TextIO = sys.stderr) -> list[Path]:
    tables = stats_tables(Path(aggregate_dir), log)
    note = missing_note(tables[MISSING_RUNS])
    captions = {k: f"{v} {note}" if note else v for k, v in LATEX_CAPTIONS.items()}
    if note:
        print(f"stats: {note}", file=log)
    written = write_tables(Path(out_dir), tables, FORMATS, LATEX_COLUMNS, captions)
    print(f"stats: wrote {len(written)} files to {out_dir}", file=log)
    return written
