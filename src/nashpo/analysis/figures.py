"""Paper figures (matplotlib/seaborn, Agg): PNG + PDF, one caption (.rst) per figure."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

PAPER_FIGURES = ("anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance")
PALETTE = {"rs": "#7f7f7f", "re": "#2ca02c", "smac": "#1f77b4", "smac_hb": "#17becf", "dehb": "#d62728", "tpe": "#ff7f0e"}
FALLBACK = sns.color_palette("tab10")
COLUMN_WIDTH = 3.5  # inches per panel
plt.rcParams.update(
    {
        "font.size": 7,
        "axes.titlesize": 8,
        "axes.labelsize": 7,
        "legend.fontsize": 6.5,
        "xtick.labelsize": 6.5,
        "ytick.labelsize": 6.5,
        "figure.dpi": 100,
        "savefig.dpi": 220,
    }
)


def colour(opt: str, i: int = 0) -> tuple | str:
    return PALETTE.get(opt, FALLBACK[i % len(FALLBACK)])


def save(fig: plt.Figure, out_dir: Path, stem: str, caption: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        tmp = out_dir / f".{stem}.tmp{os.getpid()}.{ext}"
        fig.savefig(tmp, bbox_inches="tight")
        os.replace(tmp, out_dir / f"{stem}.{ext}")
    plt.close(fig)
    (out_dir / f"{stem}.rst").write_text(caption.strip() + "\n")


def _panels(tasks: list, height: float = 2.4) -> tuple[plt.Figure, np.ndarray]:
    fig, axes = plt.subplots(1, len(tasks), figsize=(COLUMN_WIDTH * len(tasks), height), squeeze=False)
    return fig, axes[0]


def anytime(curves: pd.DataFrame, axis: str, out_dir: Path, stem: str, xlabel: str) -> None:
    test = curves[curves["metric"] == "test_regret"]
    tasks = sorted(test.groupby(["protocol", "dataset"]).groups)
    fig, axes = _panels(tasks)
    for ax, (protocol, dataset) in zip(axes, tasks, strict=True):
        g = test[(test.protocol == protocol) & (test.dataset == dataset)]
        for i, (opt, o) in enumerate(sorted(g.groupby("optimizer"))):
            o = o.sort_values(axis)
            floor = 1e-2  # log axis: regret 0 (the optimum) is drawn at the floor
            ax.plot(o[axis], o["mean"].clip(lower=floor), label=opt, color=colour(opt, i), lw=1.2)
            ax.fill_between(o[axis], o["mean_lo"].clip(lower=floor), o["mean_hi"].clip(lower=floor), color=colour(opt, i), alpha=0.18, lw=0)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="test regret (pp)", title=f"{dataset} ({protocol})")
        ax.grid(True, which="major", lw=0.3, alpha=0.5)
    axes[0].legend(frameon=False, ncol=2)
    n = int(curves["n_seeds"].max())
    save(
        fig,
        out_dir,
        stem,
        f"Anytime 200-epoch test regret of the incumbent (percentage points below the best architecture in NB201) vs {xlabel}, log-log. Lines: mean over up to {n} seeds; bands: 95% percentile-bootstrap confidence interval of the mean (1000 resamples). Regret 0 is drawn at 0.01.",
    )


def final_regret(finals: pd.DataFrame, out_dir: Path) -> None:
    tasks = sorted(finals.groupby(["protocol", "dataset"]).groups)
    fig, axes = _panels(tasks)
    order = sorted(finals["optimizer"].unique())
    for ax, (protocol, dataset) in zip(axes, tasks, strict=True):
        g = finals[(finals.protocol == protocol) & (finals.dataset == dataset)]
        sns.boxplot(
            data=g,
            x="optimizer",
            y="test_regret",
            order=order,
            hue="optimizer",
            palette={o: colour(o, i) for i, o in enumerate(order)},
            ax=ax,
            fliersize=1.5,
            linewidth=0.7,
            legend=False,
        )
        sns.stripplot(data=g, x="optimizer", y="test_regret", order=order, color="k", size=1.5, ax=ax)
        ax.set(xlabel="", ylabel="final test regret (pp)", title=f"{dataset} ({protocol})")
        ax.tick_params(axis="x", rotation=30)
    save(
        fig,
        out_dir,
        "final_regret",
        f"Final 200-epoch test regret of the incumbent per optimizer (boxes: quartiles; dots: single seeds; {finals['seed'].nunique()} seeds per optimizer and dataset).",
    )


def rank_over_time(ranks: pd.DataFrame, out_dir: Path) -> None:
    tasks = sorted(ranks.groupby(["protocol", "dataset"]).groups)
    fig, axes = _panels(tasks)
    for ax, (protocol, dataset) in zip(axes, tasks, strict=True):
        g = ranks[(ranks.protocol == protocol) & (ranks.dataset == dataset)]
        for i, (opt, o) in enumerate(sorted(g.groupby("optimizer"))):
            ax.plot(o["sim_time"], o["rank"], label=opt, color=colour(opt, i), lw=1.2)
        ax.set(xscale="log", xlabel="simulated time (s)", ylabel="rank (1 = best)", title=f"{dataset} ({protocol})")
        ax.invert_yaxis()
    axes[0].legend(frameon=False, ncol=2)
    save(
        fig,
        out_dir,
        "rank_over_time",
        "Rank of each optimizer's mean test regret over seeds at each point of the simulated-time grid (1 = lowest regret; ties share the average rank).",
    )


def cd_diagram(friedman: pd.DataFrame, out_dir: Path) -> None:
    row = friedman.iloc[0]
    ranks = {c.removeprefix("avg_rank_"): float(row[c]) for c in friedman.columns if c.startswith("avg_rank_")}
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 1.2 + 0.12 * len(ranks)))
    items = sorted(ranks.items(), key=lambda kv: kv[1])
    k = len(items)
    ax.set_xlim(0.5, max(k, 2) + 0.5)
    ax.set_ylim(-len(items) - 1, 1.5)
    ax.axhline(0, color="k", lw=0.8)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.15], color="k", lw=0.8)
        ax.text(r, 0.3, str(r), ha="center", fontsize=6.5)
    for i, (opt, r) in enumerate(items):
        y = -(i + 1) * 0.8
        ax.plot([r, r], [0, y], color=colour(opt, i), lw=0.8)
        ax.text(r + 0.05, y, f"{opt} ({r:.2f})", va="center", fontsize=6.5, color=colour(opt, i))
    cd = row["critical_difference"]
    if np.isfinite(cd):
        ax.plot([1, 1 + cd], [1.0, 1.0], color="k", lw=1.5)
        ax.text(1 + cd / 2, 1.15, f"CD = {cd:.2f}", ha="center", fontsize=6.5)
    ax.axis("off")
    note = (
        f"Friedman chi2 = {row['statistic']:.2f}, p = {row['p_value']:.3g} over {int(row['n_tasks'])} tasks"
        if np.isfinite(row["statistic"])
        else str(row["note"])
    )
    save(
        fig,
        out_dir,
        "cd_diagram",
        f"Critical-difference diagram: average rank of each optimizer's mean final test regret across tasks (1 = best). {note}; Nemenyi post-hoc critical difference at alpha 0.05 (Demšar 2006).",
    )


def transfer_heatmap(transfer: pd.DataFrame, out_dir: Path) -> None:
    opts = sorted(transfer["optimizer"].unique())
    fig, axes = plt.subplots(1, len(opts), figsize=(1.9 * len(opts) + 0.5, 2.0), squeeze=False)
    mean = transfer.groupby(["optimizer", "search_dataset", "eval_dataset"])["test_regret"].mean().reset_index()
    vmax = float(mean["test_regret"].max())
    for ax, opt in zip(axes[0], opts, strict=True):
        mat = mean[mean.optimizer == opt].pivot(index="search_dataset", columns="eval_dataset", values="test_regret")
        sns.heatmap(mat, annot=True, fmt=".2f", cmap="viridis_r", vmin=0, vmax=vmax, cbar=False, ax=ax, annot_kws={"fontsize": 6})
        ax.set(title=opt, xlabel="evaluated on", ylabel="searched on" if opt == opts[0] else "")
        ax.tick_params(axis="x", rotation=30)
    save(
        fig,
        out_dir,
        "transfer_heatmap",
        "Transfer: mean 200-epoch test regret (pp) of each search's final incumbent, searched on the row dataset and evaluated on the column dataset, per optimizer.",
    )


def edge_importance(imp: pd.DataFrame, out_dir: Path) -> None:
    datasets = sorted(imp["dataset"].unique())
    fig, axes = _panels(datasets, height=2.0)
    for ax, d in zip(axes, datasets, strict=True):
        g = imp[imp.dataset == d]
        sns.barplot(data=g, x="edge", y="mean", hue="method", ax=ax, palette={"fanova": "#4c72b0", "lpi": "#dd8452"})
        ax.set(title=d, xlabel="", ylabel="importance")
        ax.tick_params(axis="x", rotation=30)
    n = int(imp["count"].max())
    save(
        fig,
        out_dir,
        "edge_importance",
        f"Importance of the six cell edges for validation error, from DeepCAVE's fANOVA and local parameter importance (LPI) on the exported runs at their highest budget, averaged over up to {n} runs per dataset.",
    )


def make_figures(
    aggregate: Path, stats: Path, transfer: Path, importance: Path, out_dir: Path, only: tuple[str, ...] = PAPER_FIGURES, log=sys.stderr
) -> None:
    jobs: dict[str, Callable[[], None]] = {
        "anytime_time": lambda: anytime(
            pd.read_parquet(aggregate / "curves_time.parquet"), "sim_time", out_dir, "anytime_time", "simulated time (s)"
        ),
        "anytime_evals": lambda: anytime(
            pd.read_parquet(aggregate / "curves_evals.parquet"), "evals", out_dir, "anytime_evals", "number of evaluations"
        ),
        "final_regret": lambda: final_regret(pd.read_parquet(aggregate / "per_run_final.parquet"), out_dir),
        "rank_over_time": lambda: rank_over_time(pd.read_parquet(stats / "ranks_over_time.parquet"), out_dir),
        "cd_diagram": lambda: cd_diagram(pd.read_parquet(stats / "friedman.parquet"), out_dir),
        "transfer_heatmap": lambda: transfer_heatmap(pd.read_parquet(transfer / "transfer.parquet"), out_dir),
        "edge_importance": lambda: edge_importance(pd.read_parquet(importance / "importance.parquet"), out_dir),
    }
    for stem in only:
        jobs[stem]()
        print(f"figure {out_dir / stem}.png", file=log)
