"""Across benchmark families: final regret per run, a summary table with a column per task, and
Friedman/Nemenyi average ranks over every task (NB201 and the families without fidelities).

Per task, an optimizer's score is its mean final regret over seeds: NB201 the incumbent's
200-epoch **test** regret (pp, as in ``analysis aggregate``), FCNet and MLP the **validation**
regret (they have no test split). Ranks are taken within each task, so the scales never mix; the
scale-free ``quantile`` (share of the task's configurations better than the incumbent) is reported
beside the regret for the families. A run that ended before its first trial (a single trial
longer than the whole budget) scores the task's worst configuration (regret = worst - best,
quantile 1). Only optimizers run on every task are ranked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nashpo.analysis.curves import N_GRID, anytime_curves
from nashpo.analysis.io import write_tables
from nashpo.analysis.runs import FAMILY_TITLES, GRID, load_runs
from nashpo.analysis.runs import SCORE as RUN_SCORE
from nashpo.analysis.stats import CORRECTION, EFFECT, friedman_nemenyi, pairwise_wilcoxon
from nashpo.errors import InputError
from nashpo.triallog import write_parquet_atomic

SCORE = "test_regret"  # the column friedman_nemenyi ranks on (validation regret for FCNet/MLP)


def grid_finals(run_dirs: list[Path]) -> pd.DataFrame:
    """Final validation regret of FCNet/MLP runs (in the given order), as the cross-task summary's rows."""
    finals = load_runs(run_dirs, sort=False).finals
    out = pd.DataFrame(
        {
            "protocol": finals["family"],
            "dataset": finals["family"] + "/" + finals["task"],
            "optimizer": finals["optimizer"],
            "seed": finals["seed"],
            "n_trials": finals["n_trials"],
            "regret_kind": "validation",
            SCORE: finals[RUN_SCORE],
            "quantile": finals["quantile"],
        }
    )
    return out


def nb201_rows(df: pd.DataFrame) -> pd.DataFrame:
    """NB201's per-run finals (``analysis aggregate``) as the cross-task summary's rows (test regret)."""
    out = df[["optimizer", "seed", "n_trials", SCORE]].copy()
    out.insert(0, "dataset", "nb201/" + df["dataset"].astype(str))
    out.insert(0, "protocol", "nb201")
    out["regret_kind"] = "test"
    out["quantile"] = np.nan
    return out


def summary_finals(grid: pd.DataFrame | None, nb201: pd.DataFrame | None) -> pd.DataFrame:
    """The cross-task summary's rows: NB201's per-run finals (``analysis aggregate``) first, then the
    FCNet/MLP runs (``grid_finals``), each in the given order (the table's task columns follow it)."""
    parts = ([nb201_rows(nb201)] if nb201 is not None and len(nb201) else []) + ([grid] if grid is not None and len(grid) else [])
    if not parts:
        raise InputError("runs", [], "no single-objective runs for the cross-task summary")
    return pd.concat(parts, ignore_index=True)


def summary_tables(finals: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Mean final regret per optimizer and task (a column per task), Friedman/Nemenyi over every task."""
    tasks = list(dict.fromkeys(finals["dataset"]))
    table = finals.groupby(["optimizer", "dataset"])[SCORE].mean().unstack("dataset").reindex(columns=tasks)
    friedman, nemenyi = friedman_nemenyi(finals, SCORE)
    ranked = friedman.set_index("optimizer")["avg_rank"]
    table["avg_rank"] = ranked.reindex(table.index)
    table = table.sort_values("avg_rank").reset_index()
    return {"summary_table": table, "friedman": friedman, "nemenyi": nemenyi}


def write_summary_stats(finals: pd.DataFrame, out: Path) -> dict[str, pd.DataFrame]:
    """``summary_tables`` as parquet, ``summary_table.csv`` and its report caption ``summary_table.rst``."""
    tables = summary_tables(finals)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        write_parquet_atomic(pa_table(frame), out / f"{name}.parquet")
    tmp = out / ".summary_table.csv.tmp"
    tables["summary_table"].to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(out / "summary_table.csv")
    tmp = out / ".summary_table.rst.tmp"
    tmp.write_text(summary_caption(tables["summary_table"], finals))
    tmp.replace(out / "summary_table.rst")
    return tables


def summarise(run_dirs: list[Path], out: Path, nb201: Path | None = None) -> dict[str, pd.DataFrame]:
    """The whole cross-task summary into one folder (``analysis families``)."""
    finals = summary_finals(grid_finals(run_dirs), pd.read_parquet(nb201) if nb201 is not None else None)
    out.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(pa_table(finals), out / "finals.parquet")
    tables = write_summary_stats(finals, out)
    cd_figure(tables["friedman"], tables["nemenyi"], out)
    return {"finals": finals, **tables}


def pa_table(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def cd_figure(friedman: pd.DataFrame, nemenyi: pd.DataFrame, out: Path) -> None:
    """The study's critical-difference diagram (``figures.cd_diagram``), captioned for mixed regrets."""
    from nashpo.analysis.figures import cd_diagram

    cd_diagram(friedman, nemenyi, out)
    caption = out / "cd_diagram.rst"
    text = caption.read_text()
    for old, new in (
        ("mean final 200-epoch test regret", "mean final regret (NB201: 200-epoch test regret; FCNet and MLP: validation regret)"),
        ("tasks (dataset x protocol)", "tasks of every family"),
    ):
        text = text.replace(old, new)
    caption.write_text(text)


def summary_caption(table: pd.DataFrame, finals: pd.DataFrame) -> str:
    """Caption of ``summary_table.csv`` (the Snakemake report shows it beside the table)."""
    seeds = finals.groupby(["dataset", "optimizer"])["seed"].nunique()
    lo, hi = int(seeds.min()), int(seeds.max())
    n_seeds = f"{lo}" if lo == hi else f"{lo} to {hi}"
    n_tasks = len([c for c in table.columns if c not in ("optimizer", "avg_rank")])
    return (
        f"Mean final regret per optimizer (rows) and task (columns, {n_tasks} tasks; {n_seeds} seeds per cell). "
        "NB201 columns (nb201/<dataset>): the incumbent's 200-epoch test regret in percentage points. "
        "HPOLib FCNet (hpolib/<task>, validation MSE) and HPOBench MLP (hpobench/<task>, validation error "
        "1 - val_acc) hold final values only and have no test split: their columns are validation regret in "
        "the objective's unit, against the task's best configuration. avg_rank: average rank over every task "
        "(1 = best; ranks within each task, so the scales never mix), empty for optimizers not run on every "
        "task (the multi-fidelity ones run on NB201 only).\n"
    )


# ------------------------------------------------------------------ per family: anytime curves, Wilcoxon

FAMILY_KEY = ["family", "task", "optimizer", "seed"]
FAMILY_GROUP = ["family", "task", "optimizer"]
FAMILY_LOAD_KEY = ["family", "task", "optimizer", "seed"]
FINAL_VALUES_NOTE = (
    "These families hold final values only (no learning curves, no fidelities) and have no test split: "
    "every regret here is validation regret, the incumbent's seed-mean objective minus the best seed-mean "
    "objective of the task's table."
)


def load_family_runs(run_dirs: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per run, every trial's incumbent regret) of FCNet/MLP runs (``runs.load_runs``)."""
    refusal = "is not a run of a family without fidelities (hpolib, hpobench); NB201 runs go to `analysis aggregate`"
    runs = load_runs(run_dirs, FAMILY_LOAD_KEY, ("budget",), kinds=[GRID], refusal=refusal)
    return runs.finals, runs.trajectories


def family_table(finals: pd.DataFrame) -> pd.DataFrame:
    """The ``per_run_final`` table of ``analysis family``."""
    cols = [*FAMILY_KEY, "n_trials", "end_time", "time_limited", "objective", "unit", "valid_regret", "quantile", "budget", "run_dir"]
    return finals.sort_values(FAMILY_KEY, ignore_index=True)[cols]


def regret_curves(finals: pd.DataFrame, traj: pd.DataFrame, n_grid: int | None = None) -> pd.DataFrame:
    """Validation regret over simulated time per family x task x optimizer: mean and median over seeds
    with 95% percentile-bootstrap bands, on a log grid shared by every run of the task
    (``curves.anytime_curves``). Past its end a run stopped by its time budget has no value (never
    extended beyond its budget); a run stopped by its evaluation budget (MLP's ``max_evals``) keeps its
    final incumbent: its search is over and that is what it returns. (With an evaluation budget and
    heavy-tailed training times, the seeds end at very different times, so cutting at the shortest seed's
    end, as for NB201, would leave hardly any curve.)
    """
    _, bands = anytime_curves(finals, traj, FAMILY_GROUP, ["valid_regret"], "sim_time", hold_final=True, n_grid=n_grid or N_GRID)
    return bands.drop(columns="metric")


def family_wilcoxon(finals: pd.DataFrame) -> pd.DataFrame:
    """Pairwise Wilcoxon signed-rank on the final validation regret per task, Holm within the task
    (``stats.pairwise_wilcoxon``, runs paired by seed)."""
    return pairwise_wilcoxon(finals, metric="valid_regret", task=["family", "task"])


def wilcoxon_counts(wilcoxon: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer pair over the family's tasks: tasks tested, tasks where Holm's test separates
    the pair, and on how many of those each optimizer has the lower regret."""
    rows = []
    for (a, b), g in wilcoxon.groupby(["optimizer_a", "optimizer_b"], sort=True):
        sig = g[g["significant"]]
        rows.append(
            {
                "optimizer_a": a,
                "optimizer_b": b,
                "n_tasks": len(g),
                "n_tested": int(g["p_value"].notna().sum()),
                "n_significant": len(sig),
                "a_lower": int((sig["lower_regret"] == a).sum()),
                "b_lower": int((sig["lower_regret"] == b).sum()),
                "significant_tasks": ", ".join(sig["task"]),
            }
        )
    return pd.DataFrame(
        rows, columns=["optimizer_a", "optimizer_b", "n_tasks", "n_tested", "n_significant", "a_lower", "b_lower", "significant_tasks"]
    )


def anytime_figure(curves: pd.DataFrame, finals: pd.DataFrame, family: str, out_dir: Path) -> None:
    """One figure per family, a panel per task: mean validation regret over simulated time with its
    95% bootstrap band (style, colours and caption conventions of ``analysis.figures``)."""
    from nashpo.analysis.figures import (
        PANEL_H,
        PANEL_W,
        STYLE,
        anytime_panels,
        colours,
        legend_below,
        optimizer_order,
        panel_grid,
        plt,
        save,
        seeds_phrase,
    )

    title = FAMILY_TITLES.get(family, family)
    tasks = sorted(curves["task"].unique())
    order = optimizer_order(curves["optimizer"].unique())
    pal = colours(order)
    objective = finals.groupby("task")["objective"].first()
    with plt.rc_context(STYLE):
        fig, panels = panel_grid({(t,): t for t in tasks}, PANEL_W * 0.8, PANEL_H)
        anytime_panels(panels, curves, ["task"], "sim_time", order, pal, lambda key: f"validation regret ({objective[key[0]]})")
        legend_below(fig, order, pal)
        seeds = finals.groupby(["task", "optimizer"])["seed"].nunique()
        save(
            fig,
            out_dir,
            "anytime_time",
            f"""{title}: anytime validation regret of the incumbent against simulated seconds (the table's training
            time of every evaluated configuration), log-log, one panel per task. Lines: mean over {seeds_phrase(seeds)}
            per optimizer; bands: 95% percentile-bootstrap confidence interval of the mean (1000 resamples of whole
            seeds, fixed seed). A curve starts once every seed has evaluated one configuration; it ends at the time
            budget, or, under an evaluation budget, at the last seed's end (a seed that has used its evaluations
            keeps its final incumbent). Regret 0 (the
            task's best configuration) is drawn at the bottom of its panel. {FINAL_VALUES_NOTE}""",
        )


def wilcoxon_caption(family: str, wilcoxon: pd.DataFrame) -> str:
    n_sig = int(wilcoxon["significant"].sum())
    return (
        f"{FAMILY_TITLES.get(family, family)}: pairwise two-sided Wilcoxon signed-rank tests on the final validation regret per task, "
        f"runs paired by seed; p-values {CORRECTION}-corrected within each task (p_adjusted, alpha 0.05); effect size: {EFFECT} "
        f"correlation (positive: optimizer_a has the lower regret). {n_sig} of {len(wilcoxon)} pairs are significant. "
        f"{FINAL_VALUES_NOTE}\n"
    )


FAMILY_FORMATS = {
    "per_run_final": ("parquet", "csv"),
    "curves_time": ("parquet", "csv"),
    "wilcoxon": ("parquet", "csv", "tex"),
    "wilcoxon_counts": ("parquet", "csv"),
}
FAMILY_LATEX_COLUMNS = {
    "wilcoxon": ["task", "optimizer_a", "optimizer_b", "n_pairs", "statistic", "p_value", "p_adjusted", "effect_size", "note"],
}


def family_aggregate_tables(run_dirs: list[Path], log=None) -> dict[str, pd.DataFrame]:
    """One family's per-run finals and anytime regret curves (refuses runs of several families)."""
    finals, traj = load_family_runs(run_dirs)
    families = sorted(finals["family"].unique())
    if len(families) != 1:
        raise InputError("runs", families, "mix several families; analyse one family at a time")
    if log is not None:
        print(f"families: {families[0]}: {len(finals)} runs over {finals['task'].nunique()} tasks", file=log)
    return {"per_run_final": family_table(finals), "curves_time": regret_curves(finals, traj)}


def family_stats_tables(per_run_final: pd.DataFrame) -> dict[str, pd.DataFrame]:
    wilcoxon = family_wilcoxon(per_run_final)
    return {"wilcoxon": wilcoxon, "wilcoxon_counts": wilcoxon_counts(wilcoxon)}


def write_family_stats(family: str, tables: dict[str, pd.DataFrame], out: Path, log=None) -> None:
    """The Wilcoxon tables (parquet, csv, tex) and the report caption ``wilcoxon.rst``."""
    wilcoxon = tables["wilcoxon"]
    caption = wilcoxon_caption(family, wilcoxon)
    write_tables(
        out,
        {k: tables[k] for k in ("wilcoxon", "wilcoxon_counts")},
        FAMILY_FORMATS,
        FAMILY_LATEX_COLUMNS,
        {"wilcoxon": caption.strip().replace("_", r"\_")},
    )
    tmp = out / ".wilcoxon.rst.tmp"
    tmp.write_text(caption)
    tmp.replace(out / "wilcoxon.rst")
    if log is not None:
        print(f"families: {family}: {int(wilcoxon['significant'].sum())} of {len(wilcoxon)} Wilcoxon pairs significant (Holm)", file=log)


def analyse_family(run_dirs: list[Path], out: Path, log=None) -> dict[str, pd.DataFrame]:
    """Tables, the anytime figure and captions of one family's runs into ``out`` (``analysis family``;
    the study's rules run the same three parts as its aggregate, stats and figures stages)."""
    import sys

    log = log or sys.stderr
    tables = family_aggregate_tables(run_dirs, log)
    family = str(tables["per_run_final"]["family"].iloc[0])
    tables |= family_stats_tables(tables["per_run_final"])
    out = Path(out)
    write_tables(out, {k: tables[k] for k in ("per_run_final", "curves_time")}, FAMILY_FORMATS)
    write_family_stats(family, tables, out, log)
    anytime_figure(tables["curves_time"], tables["per_run_final"], family, out)
    return tables
