"""Parallel workers (``parallel/`` of each stage): what K simulated workers buy each optimizer.

Active when some run of the study has K > 1 workers (``run.json`` ``workers``; a record without it has
one). For every task (family, task, objective set, protocol) with a run at K > 1, every run of the
task at every K enters; the other groups see the K = 1 runs only, so their tables are the ones of a
one-worker study.

- Regret: the task's own score (``runs.SCORES``): NB201 the incumbent's 200-epoch test regret (pp, as
  the NB201 figures), the families their validation regret (the trial log's ``inc_regret``), several
  objectives ``hv_regret_final``. The time axis is the simulated wall clock: a trial's ``sim_time`` is
  the clock when it ended, K trials running at once.
- Anytime curves per task x optimizer x K (``curves.anytime_curves``, one time grid per task for every
  K; a run stopped by an evaluation budget keeps its final incumbent).
- Target (per task, ``targets``): the regret that K = 1 random search reaches at its budget, the upper
  median over seeds of the final regret of ``rs`` at the task's smallest K (without ``rs``: of every
  optimizer at the smallest K). The upper median is a value some seed attains, and more than half the
  reference seeds reach it, so the reference's median time to target is finite.
- Time to target (per run): the simulated time of the first trial after which the incumbent's regret is
  at or below the target. A run that never reaches it is censored at its end (its budget): it counts
  as its end time, which is a lower bound of its time to target.
- Speed-up (``speedup``, per task x optimizer x K): the median time to target over seeds with a 95%
  percentile-bootstrap interval (``N_BOOT`` resamples of the seeds, ``curves.group_rng``), and the
  ratio median(T at the optimizer's smallest K) / median(T at K) with its interval (the two seed sets
  resampled independently). A median or bound that falls on a censored run is flagged
  (``median_censored``, ``lo_censored``, ``hi_censored``): the true value is at least the one shown.
- Tests per K: pairwise Wilcoxon/Holm per task and K on the final regret (``stats.pairwise_wilcoxon``),
  Friedman (+ Nemenyi) per task and K with seeds as blocks and, with two or more tasks, per K with
  tasks as blocks (``stats.friedman_nemenyi``); average ranks per K; Kendall's tau between the
  optimizers' average ranks at the task's smallest K and at every other K (``scipy.stats.kendalltau``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
from scipy import stats as sps

from nashpo.analysis.curves import CI_LEVEL, N_BOOT, anytime_curves, group_rng, resample_indices
from nashpo.analysis.io import write_tables
from nashpo.analysis.runs import SCORE, SCORES, TASK_KEY, load_run, workers_of
from nashpo.analysis.stats import ALPHA, friedman_nemenyi, pairwise_wilcoxon
from nashpo.atomic import write_text_atomic
from nashpo.errors import InputError

PARALLEL = "parallel"
CURVE = [*TASK_KEY, "optimizer", "workers"]
KEY = [*CURVE, "seed"]
METRIC = "regret"
REFERENCE_OPTIMIZER = "rs"
SETTINGS = ("hyperparameters", "noise", "budget", "fidelities")
AGGREGATE_TABLES = ("per_run_final", "curves_time", "targets")
STATS_TABLES = ("speedup", "wilcoxon", "friedman", "ranks", "rank_correlation")
FIGURES = ("anytime_time", "speedup")
FORMATS = {name: ("parquet", "csv") for name in (*AGGREGATE_TABLES, *STATS_TABLES)}
ALL_TASKS = "(all tasks)"


def task_label(row: Any) -> str:
    """``nb201/cifar10 (proxy)``, ``hpolib/naval_propulsion``; the objective set when it is not the error alone."""
    objectives = "" if "+" not in str(row["objectives"]) else f" [{row['objectives']}]"
    protocol = f" ({row['protocol']})" if row["protocol"] else ""
    return f"{row['family']}/{row['task']}{protocol}{objectives}"


# ------------------------------------------------------------------ aggregate


def load_parallel(run_dirs: Sequence[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per run: KEY, kind, metric, n_trials, n_cancelled, end_time, time_limited, regret, settings,
    run_dir; one row per trial: KEY, trial, evals, sim_time, regret), refusing the same run twice and
    seeds of one task x optimizer x K that differ in a setting."""
    finals, trajectories = [], []
    for run in map(Path, run_dirs):
        final, trajectory, record = load_run(run)
        workers = workers_of(record)
        metric = SCORES[final["kind"]][0]
        finals.append(
            {k: final[k] for k in TASK_KEY}
            | {"optimizer": final["optimizer"], "workers": workers, "seed": final["seed"], "kind": final["kind"], "metric": metric}
            | {k: final[k] for k in ("n_trials", "end_time", "time_limited")}
            | {"n_cancelled": len(record.get("cancelled") or []), METRIC: float(final[SCORE])}
            | {s: final[s] for s in SETTINGS}
            | {"run_dir": str(run)}
        )
        trajectories.append(
            trajectory[[*TASK_KEY, "optimizer", "seed", "trial", "evals", "sim_time"]].assign(
                workers=workers, **{METRIC: trajectory[metric]}
            )
        )
    if not finals:
        raise InputError("runs", [], "no run folders given")
    frame = pd.DataFrame(finals)
    dup = frame[frame.duplicated(KEY, keep=False)]
    if not dup.empty:
        raise InputError("runs", sorted(dup["run_dir"]), f"are the same run ({', '.join(KEY)}) given twice")
    for name, g in frame.groupby(CURVE):
        for s in SETTINGS:
            if g[s].nunique() > 1:
                raise InputError("runs", sorted(g["run_dir"]), f"mix different {s} for {'/'.join(map(str, name))}: {sorted(g[s].unique())}")
    frame = frame.sort_values(KEY, ignore_index=True)
    traj = pd.concat(trajectories, ignore_index=True)[[*KEY, "trial", "evals", "sim_time", METRIC]]
    return frame, traj


def targets(finals: pd.DataFrame) -> pd.DataFrame:
    """Per task the regret target: the upper median of the reference runs' final regret (module docstring)."""
    rows = []
    for key, g in finals.groupby(TASK_KEY, sort=True):
        k_min = int(g["workers"].min())
        base = g[g["workers"] == k_min]
        ref = base[base["optimizer"] == REFERENCE_OPTIMIZER]
        reference = REFERENCE_OPTIMIZER if len(ref) else "every optimizer"
        ref = ref if len(ref) else base
        values = ref[METRIC].to_numpy(float)
        values = values[np.isfinite(values)]
        target = float(np.quantile(values, 0.5, method="higher")) if len(values) else np.nan
        rows.append(
            dict(zip(TASK_KEY, key, strict=True))
            | {
                "metric": g["metric"].iloc[0],
                "target": target,
                "reference_optimizer": reference,
                "reference_workers": k_min,
                "n_reference_runs": len(values),
                "workers": ",".join(str(k) for k in sorted(g["workers"].unique())),
                "rule": f"upper median over seeds of the final {g['metric'].iloc[0]} of {reference} at K={k_min}",
            }
        )
    return pd.DataFrame(rows)


def time_to_target(finals: pd.DataFrame, traj: pd.DataFrame, target: pd.DataFrame) -> pd.DataFrame:
    """``finals`` with target, reached (bool), first_hit (simulated s, NaN when never) and time_to_target
    (the first hit, or the run's end for a run that never reaches the target: censored)."""
    goal = finals.merge(target[[*TASK_KEY, "target"]], on=TASK_KEY, how="left")["target"].to_numpy(float)
    by_run = dict(iter(traj.groupby(KEY, sort=False)))
    hits = []
    for r, t in zip(finals[KEY].itertuples(index=False), goal, strict=True):
        run = by_run.get(tuple(r))
        if run is None or not np.isfinite(t):
            hits.append(np.nan)
            continue
        run = run.sort_values("evals", kind="stable")
        below = run[METRIC].to_numpy(float) <= t
        hits.append(float(run["sim_time"].to_numpy(float)[below.argmax()]) if below.any() else np.nan)
    out = finals.copy()
    out["target"] = goal
    out["first_hit"] = hits
    out["reached"] = np.isfinite(out["first_hit"])
    out["time_to_target"] = out["first_hit"].where(out["reached"], out["end_time"])
    return out


def parallel_aggregate_tables(run_dirs: Sequence[Path], log: TextIO = sys.stderr) -> dict[str, pd.DataFrame]:
    finals, traj = load_parallel(run_dirs)
    print(
        f"parallel: {len(finals)} runs over {finals.groupby(TASK_KEY).ngroups} tasks, workers {sorted(finals['workers'].unique())}",
        file=log,
    )
    _, curves = anytime_curves(finals, traj, CURVE, [METRIC], "sim_time", hold_final=True, run_key=KEY)
    target = targets(finals)
    per_run = time_to_target(finals, traj, target)
    return {"per_run_final": per_run, "curves_time": curves.drop(columns="metric"), "targets": target}


def write_parallel_aggregate(run_dirs: Sequence[Path], out: Path, log: TextIO = sys.stderr) -> None:
    write_tables(out, parallel_aggregate_tables(run_dirs, log), FORMATS)


# ------------------------------------------------------------------ stats


def censored_medians(times: np.ndarray, censored: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(median of each resample with censored runs at their end, whether that median is censored)."""
    t = times[idx]
    inf = np.where(censored, np.inf, times)[idx]
    return np.median(t, axis=1), np.isinf(np.median(inf, axis=1))


def interval(samples: np.ndarray, flagged: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float, bool, bool]:
    """Percentile interval of ``samples`` and whether each bound is censored (more resamples flagged
    than the tail beyond it)."""
    q = [50 * (1 - level), 50 * (1 + level)]
    lo, hi = np.percentile(samples, q)
    share = float(np.mean(flagged))
    return float(lo), float(hi), share > (1 + level) / 2, share > (1 - level) / 2


def speedup_table(per_run: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Per task x optimizer x K: median time to target with its bootstrap interval, and the speed-up
    over the optimizer's smallest K (module docstring)."""
    rows = []
    groups = {key: g.sort_values("seed") for key, g in per_run.groupby(CURVE, sort=True)}
    smallest_k = per_run.groupby([*TASK_KEY, "optimizer"])["workers"].min()
    for key, g in groups.items():
        times = g["time_to_target"].to_numpy(float)
        censored = ~g["reached"].to_numpy(bool)
        idx = resample_indices(len(g), group_rng(key), n_boot)
        boot, boot_cens = censored_medians(times, censored, idx)
        point, point_cens = censored_medians(times, censored, np.arange(len(g))[None, :])
        lo, hi, lo_cens, hi_cens = interval(boot, boot_cens)
        row = dict(zip(CURVE, key, strict=True)) | {
            "metric": g["metric"].iloc[0],
            "target": float(g["target"].iloc[0]),
            "n_seeds": len(g),
            "n_reached": int((~censored).sum()),
            "time_median": float(point[0]),
            "time_lo": lo,
            "time_hi": hi,
            "median_censored": bool(point_cens[0]),
            "lo_censored": lo_cens,
            "hi_censored": hi_cens,
            "budget_end": float(g["end_time"].max()),
            "final_regret_mean": float(g[METRIC].mean()),
        }
        k_ref = int(smallest_k[key[:-1]])
        ref = groups[(*key[:-1], k_ref)]
        ref_times, ref_cens = ref["time_to_target"].to_numpy(float), ~ref["reached"].to_numpy(bool)
        rng = group_rng(("speedup", *key))
        idx_ref, idx_k = resample_indices(len(ref), rng, n_boot), resample_indices(len(g), rng, n_boot)
        ref_boot, _ = censored_medians(ref_times, ref_cens, idx_ref)
        k_boot, _ = censored_medians(times, censored, idx_k)
        ref_point, ref_point_cens = censored_medians(ref_times, ref_cens, np.arange(len(ref))[None, :])
        ratio = ref_boot / np.maximum(k_boot, np.finfo(float).tiny)
        s_lo, s_hi = np.percentile(ratio, [50 * (1 - CI_LEVEL), 50 * (1 + CI_LEVEL)])
        notes = []
        if ref_point_cens[0]:
            notes.append(f"K={k_ref} median censored at the budget: the speed-up is a lower bound")
        if point_cens[0]:
            notes.append(f"K={key[-1]} median censored at the budget: the speed-up is an upper bound")
        row |= {
            "reference_workers": k_ref,
            "speedup": float(ref_point[0] / max(point[0], np.finfo(float).tiny)),
            "speedup_lo": float(s_lo),
            "speedup_hi": float(s_hi),
            "note": "; ".join(notes),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def per_k_tests(per_run: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(Wilcoxon/Holm per task and K, Friedman per task and K (blocks: seeds) and per K over tasks
    (blocks: tasks), average ranks per task and K)."""
    wilcoxon = pairwise_wilcoxon(per_run, metric=METRIC, task=[*TASK_KEY, "workers"])
    friedman_rows, ranks = [], []
    for key, g in per_run.groupby([*TASK_KEY, "workers"], sort=True):
        table, _ = friedman_nemenyi(g, METRIC, ALPHA, task=["seed"])
        scope = dict(zip([*TASK_KEY, "workers"], key, strict=True)) | {"blocks": "seeds"}
        friedman_rows.append(table.assign(**scope))
    tasks = per_run.groupby(TASK_KEY).ngroups
    if tasks >= 2:
        for k, g in per_run.groupby("workers", sort=True):
            table, _ = friedman_nemenyi(g, METRIC, ALPHA, task=TASK_KEY)
            friedman_rows.append(table.assign(family=ALL_TASKS, task="", objectives="", protocol="", workers=k, blocks="tasks"))
    friedman = pd.concat(friedman_rows, ignore_index=True)
    lead = [*TASK_KEY, "workers", "blocks"]
    friedman = friedman[lead + [c for c in friedman.columns if c not in lead]]
    ranks = friedman.dropna(subset=["optimizer"])[[*lead, "optimizer", "avg_rank", "n_tasks"]].rename(columns={"n_tasks": "n_blocks"})
    return wilcoxon, friedman, ranks.reset_index(drop=True)


def rank_correlation(ranks: pd.DataFrame) -> pd.DataFrame:
    """Per task (and over tasks): Kendall's tau between the average ranks at the smallest K and at each
    other K, over the optimizers ranked at both."""
    rows = []
    for key, g in ranks.groupby([*TASK_KEY, "blocks"], sort=True):
        ks = sorted(g["workers"].unique())
        base = g[g["workers"] == ks[0]].set_index("optimizer")["avg_rank"]
        for k in ks[1:]:
            other = g[g["workers"] == k].set_index("optimizer")["avg_rank"]
            common = sorted(set(base.index) & set(other.index))
            tau, p = (np.nan, np.nan)
            note = ""
            if len(common) >= 2:
                res = sps.kendalltau(base.loc[common].to_numpy(float), other.loc[common].to_numpy(float))
                tau, p = float(res.statistic), float(res.pvalue)
                if len(common) < 4:
                    note = f"{len(common)} optimizers: tau is coarse and cannot be significant"
            else:
                note = "fewer than 2 optimizers at both K: not tested"
            rows.append(
                dict(zip([*TASK_KEY, "blocks"], key, strict=True))
                | {
                    "workers_a": int(ks[0]),
                    "workers_b": int(k),
                    "n_optimizers": len(common),
                    "order_a": " < ".join(base.loc[common].sort_values(kind="stable").index),
                    "order_b": " < ".join(other.loc[common].sort_values(kind="stable").index),
                    "kendall_tau": tau,
                    "p_value": p,
                    "note": note,
                }
            )
    cols = [*TASK_KEY, "blocks", "workers_a", "workers_b", "n_optimizers", "order_a", "order_b", "kendall_tau", "p_value", "note"]
    return pd.DataFrame(rows, columns=cols)


def parallel_stats_tables(aggregate: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    per_run = aggregate["per_run_final"]
    wilcoxon, friedman, ranks = per_k_tests(per_run)
    return {
        "speedup": speedup_table(per_run),
        "wilcoxon": wilcoxon,
        "friedman": friedman,
        "ranks": ranks,
        "rank_correlation": rank_correlation(ranks),
    }


# ------------------------------------------------------------------ captions (the report shows them beside the tables)


def seeds_text(counts: pd.Series) -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return f"{lo} seeds" if lo == hi else f"{lo} to {hi} seeds"


def speedup_caption(speedup: pd.DataFrame) -> str:
    n_cens = int(speedup["median_censored"].sum())
    return (
        "Parallel workers: simulated wall-clock time (s) to reach each task's regret target, per optimizer and number "
        "of workers K, and the speed-up over the optimizer's smallest K (time_median at that K / time_median at K; 1 = no gain, "
        "K = linear). Target (targets.csv): the upper median over seeds of the final regret that random search (rs) reaches "
        "at the smallest K within its budget (NB201: 200-epoch test regret in pp; families: validation regret; several "
        "objectives: HV regret). Time to target: the end of the first trial after which the incumbent's regret is at or below "
        "the target. A run that never reaches it is censored at its end (the budget) and counts as that time, a lower bound; "
        f"n_reached says how many seeds reached it ({seeds_text(speedup['n_seeds'])} per row). time_lo/time_hi and "
        "speedup_lo/speedup_hi: 95% percentile-bootstrap intervals of the median over seeds (1000 resamples, fixed seed; "
        "the two K resampled independently for the ratio); median_censored / lo_censored / hi_censored: the value falls on "
        f"a censored run, so the true value is at least the one shown ({n_cens} of {len(speedup)} medians censored).\n"
    )


def wilcoxon_caption(wilcoxon: pd.DataFrame) -> str:
    n_sig = int(wilcoxon["significant"].sum())
    return (
        "Parallel workers: pairwise two-sided Wilcoxon signed-rank tests on the final regret per task and number of workers K, "
        "runs paired by seed, p-values Holm-corrected within each task and K (alpha 0.05); effect size: matched-pairs "
        f"rank-biserial correlation (positive: optimizer_a has the lower regret). {n_sig} of {len(wilcoxon)} pairs are "
        "significant.\n"
    )


def ranks_caption(correlation: pd.DataFrame) -> str:
    return (
        "Parallel workers: what K does to the optimizers' ranking. Per task, the optimizers' average rank of the final "
        "regret over seeds (1 = best; ranks.csv, blocks = seeds) at the smallest K (order_a) and at every other K "
        "(order_b), and Kendall's tau between the two rankings with its two-sided p-value (scipy.stats.kendalltau; "
        "tau = 1: the same order). Rows with blocks = tasks rank the optimizers' mean final regret over every task (the "
        "Friedman ranks over tasks, friedman.csv). With few optimizers tau takes few values and cannot be significant.\n"
    )


def write_parallel_stats(aggregate_dir: Path, out: Path, log: TextIO = sys.stderr) -> None:
    from nashpo.analysis.io import read_table

    aggregate = {name: read_table(aggregate_dir, name, "aggregate") for name in AGGREGATE_TABLES}
    tables = parallel_stats_tables(aggregate)
    write_tables(out, tables, FORMATS)
    for name, text in (
        ("speedup", speedup_caption(tables["speedup"])),
        ("wilcoxon", wilcoxon_caption(tables["wilcoxon"])),
        ("rank_correlation", ranks_caption(tables["rank_correlation"])),
    ):
        write_text_atomic(text, out / f"{name}.rst")
    print(
        f"parallel: speed-up of {len(tables['speedup'])} optimizer x K rows, {len(tables['rank_correlation'])} rank correlations", file=log
    )
