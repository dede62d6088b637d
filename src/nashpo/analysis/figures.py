"""The paper figure set (matplotlib/seaborn, Agg backend): PNG (220 dpi) + PDF + caption (.rst) each.

Panels are ~3.5 in wide (one paper column), fonts 7-8 pt, one facet per dataset (rows: protocols),
one fixed colour per optimizer (``PALETTE``; unknown optimizers get ``FALLBACK`` colours in name order).
All figures are rendered into a temporary folder and then moved into place. Reruns give byte-identical
files: the strip-plot jitter is seeded (``JITTER_SEED``) and the files carry no creation date.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
import seaborn as sns

from nashpo.analysis.io import read_table
from nashpo.analysis.runs import NB201_DATASETS as DATASETS

PAPER_FIGURES = ("anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance")
PALETTE = {
    "rs": "#7f7f7f",
    "re": "#2ca02c",
    "smac": "#1f77b4",
    "smac_hb": "#17becf",
    "dehb": "#d62728",
    "tpe": "#ff7f0e",
}
FALLBACK = ("#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939")
SHORT = {"cifar10": "C10", "cifar100": "C100", "ImageNet16-120": "IN16"}  # heatmap tick labels
METHOD_COLOURS = {"fanova": "#4c72b0", "lpi": "#dd8452"}
PANEL_W, PANEL_H = 3.5, 2.4  # inches
DPI = 220
REGRET_FLOOR = 1e-2  # log axes: regret 0 (the optimum found) is drawn at this floor
JITTER_SEED = 0  # strip-plot jitter of final_regret
# No creation date (PDF) and a fixed tool name: the same figure gives the same bytes on every run.
METADATA = {"png": {"Software": "nashpo (matplotlib)"}, "pdf": {"Creator": "nashpo (matplotlib)", "CreationDate": None}}
STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "grid.linewidth": 0.4,
    "savefig.dpi": DPI,
    "pdf.fonttype": 42,  # embed TrueType: editable text in the PDF
    "font.family": "DejaVu Sans",
}


def colours(optimizers: list[str] | np.ndarray) -> dict[str, str]:
    """Fixed colour per known optimizer; unknown ones get fallback colours in name order."""
    unknown = sorted(o for o in set(optimizers) if o not in PALETTE)
    return {o: PALETTE.get(o) or FALLBACK[unknown.index(o) % len(FALLBACK)] for o in set(optimizers)}


def optimizer_order(optimizers: list[str] | np.ndarray) -> list[str]:
    """Palette order first (rs, re, smac, ...), then unknown names alphabetically."""
    known = [o for o in PALETTE if o in set(optimizers)]
    return known + sorted(set(optimizers) - set(known))


def dataset_order(datasets: list[str] | np.ndarray) -> list[str]:
    return [d for d in DATASETS if d in set(datasets)] + sorted(set(datasets) - set(DATASETS))


def protocol_order(protocols: list[str] | np.ndarray) -> list[str]:
    """proxy (the NB201 paper's protocol) first, then full, then any other."""
    known = [p for p in ("proxy", "full") if p in set(protocols)]
    return known + sorted(set(protocols) - set(known))


def facets(frame: pd.DataFrame, height: float = PANEL_H) -> tuple[plt.Figure, dict[tuple[str, str], plt.Axes]]:
    """One panel per dataset (columns) and protocol (rows)."""
    protocols = protocol_order(frame["protocol"].unique())
    datasets = dataset_order(frame["dataset"].unique())
    fig, axes = plt.subplots(
        len(protocols), len(datasets), figsize=(PANEL_W * len(datasets), height * len(protocols)), squeeze=False, layout="constrained"
    )
    panels = {(p, d): axes[i, j] for i, p in enumerate(protocols) for j, d in enumerate(datasets)}
    for (p, d), ax in panels.items():
        ax.set_title(d if len(protocols) == 1 else f"{d} ({p} protocol)")
    return fig, panels


def legend_below(fig: plt.Figure, order: list[str], pal: dict[str, str], kind: str = "line") -> None:
    if kind == "line":
        handles = [plt.Line2D([], [], color=pal[o], lw=1.5) for o in order]
    else:
        handles = [plt.Rectangle((0, 0), 1, 1, color=pal[o]) for o in order]
    fig.legend(handles, order, loc="outside lower center", ncol=min(len(order), 6), frameon=False)


def seeds_phrase(counts: pd.Series, unit: str = "seeds") -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return f"{lo} {unit}" if lo == hi else f"{lo} to {hi} {unit}"


def panels_phrase(frame: pd.DataFrame) -> str:
    return "one panel per dataset" if frame["protocol"].nunique() == 1 else "one panel per dataset (columns) and protocol (rows)"


@contextmanager
def seeded_numpy(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for a block and restore its state after: seaborn 0.13's stripplot draws
    its jitter from the global RNG and takes no generator."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def save(fig: plt.Figure, out_dir: Path, stem: str, caption: str) -> None:
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"{stem}.{ext}", dpi=DPI, metadata=METADATA[ext])
    plt.close(fig)
    (out_dir / f"{stem}.rst").write_text(" ".join(caption.split()) + "\n")


NO_DATA = "no test regret: the data has no\n200-epoch test accuracy (prepare it\nwith the NB201 mirror)"


def no_data(ax: plt.Axes, message: str = NO_DATA) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=7, color="0.3")
    ax.set_xticks([])
    ax.set_yticks([])


def empty_figure(out_dir: Path, stem: str, message: str, caption: str) -> None:
    fig, ax = plt.subplots(figsize=(PANEL_W, 1.2), layout="constrained")
    text = "\n".join(textwrap.fill(line, 60) for line in message.splitlines())
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.axis("off")
    save(fig, out_dir, stem, caption)


# ------------------------------------------------------------------ figures


def panel_grid(
    titles: dict[tuple, str], width: float, height: float, ncols: int = 4, min_width: float = 0.0, pad: float = 0.0
) -> tuple[plt.Figure, dict[tuple, plt.Axes]]:
    """One panel per task (``titles``: task key -> panel title), ``ncols`` panels a row; spare axes off."""
    ncols = min(ncols, len(titles))
    nrows = -(-len(titles) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(max(min_width, width * ncols), height * nrows + pad), squeeze=False, layout="constrained"
    )
    for ax in list(axes.flat)[len(titles) :]:
        ax.axis("off")
    panels = dict(zip(titles, axes.flat, strict=False))
    for key, ax in panels.items():
        ax.set_title(titles[key])
    return fig, panels


def anytime_panels(
    panels: dict[tuple, plt.Axes],
    curves: pd.DataFrame,
    task: list[str],
    x: str,
    order: list[str],
    pal: dict[str, str],
    ylabel: str | Callable[[tuple], str],
    floor: float | None = None,
    pp_ticks: bool = False,
    no_data_note: bool = False,
) -> dict[tuple, float]:
    """Anytime curves of any task, one panel per task (the ``task`` columns of ``curves``): the mean over
    seeds per optimizer as a step line with its 95% bootstrap band, log-log. Values 0 are drawn at
    ``floor`` (None: half the panel's smallest positive value); returns the floor of every panel.
    ``pp_ticks``: major ticks at 1, 2, 5 x 10^k; ``no_data_note``: a panel without values says so."""
    xlabel = "simulated time (s)" if x == "sim_time" else "number of evaluations"
    floors = {}
    for key, ax in panels.items():
        g = curves[(curves[task] == pd.Series(key, index=task)).all(axis=1)]
        if floor is None:
            positive = g[["mean", "mean_lo"]].to_numpy(float)
            positive = positive[np.isfinite(positive) & (positive > 0)]
            floors[key] = float(positive.min()) / 2 if len(positive) else 1e-6
        else:
            floors[key] = floor
        for o in order:
            c = g[g["optimizer"] == o].sort_values(x)
            if c.empty:
                continue
            lo, hi = c["mean_lo"].clip(lower=floors[key]), c["mean_hi"].clip(lower=floors[key])
            ax.plot(c[x], c["mean"].clip(lower=floors[key]), color=pal[o], label=o, drawstyle="steps-post")
            ax.fill_between(c[x], lo, hi, color=pal[o], alpha=0.2, lw=0, step="post")
        ax.set(xlabel=xlabel, ylabel=ylabel(key) if callable(ylabel) else ylabel)
        if no_data_note and g["mean"].notna().sum() == 0:
            no_data(ax)
            continue
        ax.set(xscale="log", yscale="log")
        if pp_ticks:
            ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.grid(True, which="major", alpha=0.4)
    return floors


def anytime(curves: pd.DataFrame, axis: str, out_dir: Path, stem: str) -> None:
    test = curves[curves["metric"] == "test_regret"]
    order = optimizer_order(test["optimizer"].unique())
    pal = colours(order)
    fig, panels = facets(test)
    anytime_panels(
        panels, test, ["protocol", "dataset"], axis, order, pal, "test regret (pp)", REGRET_FLOOR, pp_ticks=True, no_data_note=True
    )
    legend_below(fig, order, pal)
    seeds = test.groupby(["protocol", "dataset", "optimizer"])["n_runs"].max()
    what = "simulated wall-clock seconds (benchmark training cost)" if axis == "sim_time" else "number of evaluated architectures"
    save(
        fig,
        out_dir,
        stem,
        f"""Anytime performance: 200-epoch test regret of the incumbent (percentage points below the best
        test accuracy of all 15,625 NB201 architectures) against {what}, log-log, {panels_phrase(test)}.
        Lines: mean over {seeds_phrase(seeds)} per optimizer; bands: 95% percentile-bootstrap confidence
        interval of the mean (1000 resamples of whole seeds, fixed seed). The incumbent is the architecture
        with the best validation accuracy seen so far; a curve starts once every seed has evaluated one
        architecture. Regret 0 (the optimum) is drawn at {REGRET_FLOOR} pp.""",
    )


def final_regret(finals: pd.DataFrame, out_dir: Path) -> None:
    order = optimizer_order(finals["optimizer"].unique())
    pal = colours(order)
    fig, panels = facets(finals)
    for (p, d), ax in panels.items():
        g = finals[(finals["protocol"] == p) & (finals["dataset"] == d)]
        present = [o for o in order if o in set(g["optimizer"])]
        ax.set(xlabel="", ylabel="final test regret (pp)")
        if g["test_regret"].notna().sum() == 0:
            no_data(ax)
            continue
        sns.boxplot(
            data=g,
            x="optimizer",
            y="test_regret",
            order=present,
            hue="optimizer",
            palette=pal,
            ax=ax,
            showfliers=False,
            linewidth=0.7,
            legend=False,
        )
        with seeded_numpy(JITTER_SEED):
            sns.stripplot(data=g, x="optimizer", y="test_regret", order=present, color="black", size=2.0, jitter=0.2, ax=ax)
        ax.set_ylim(bottom=0)
        ax.grid(True, axis="y", alpha=0.4)
    seeds = finals.groupby(["protocol", "dataset", "optimizer"])["seed"].nunique()
    save(
        fig,
        out_dir,
        "final_regret",
        f"""Final 200-epoch test regret (percentage points) of each search's incumbent at the end of its budget,
        per optimizer, {panels_phrase(finals)}. Boxes: quartiles and median, whiskers: 1.5 IQR; dots: the individual seeds
        ({seeds_phrase(seeds)} per optimizer). Pairwise Wilcoxon signed-rank tests with Holm correction are in
        the stats tables (wilcoxon.csv).""",
    )


def rank_over_time(ranks: pd.DataFrame, out_dir: Path) -> None:
    if ranks.empty:
        empty_figure(out_dir, "rank_over_time", "no rank data", "Average rank over time: no runs to rank.")
        return
    order = optimizer_order(ranks["optimizer"].unique())
    pal = colours(order)
    fig, panels = facets(ranks)
    k = len(order)
    for (p, d), ax in panels.items():
        g = ranks[(ranks["protocol"] == p) & (ranks["dataset"] == d)]
        for o in order:
            c = g[g["optimizer"] == o].sort_values("sim_time")
            ax.plot(c["sim_time"], c["avg_rank"], color=pal[o], label=o, drawstyle="steps-post")
        ax.set(xscale="log", xlabel="simulated time (s)", ylabel="average rank (1 = best)", ylim=(k + 0.3, 0.7))
        ax.set_yticks(range(1, k + 1))
        ax.grid(True, alpha=0.4)
    legend_below(fig, order, pal)
    save(
        fig,
        out_dir,
        "rank_over_time",
        f"""Average rank of each optimizer over simulated time (1 = lowest test regret). At each point of the
        dataset's time grid the optimizers are ranked per seed by the 200-epoch test regret of their incumbents
        (ties share the average rank; an optimizer without an evaluated architecture yet ranks last), and the
        ranks are averaged over the {seeds_phrase(ranks.groupby(["protocol", "dataset"])["n_seeds"].max())} common
        to all optimizers.""",
    )


def cliques(ranks: pd.Series, p_values: pd.DataFrame, alpha: float) -> list[tuple[float, float]]:
    """Rank spans of maximal runs of consecutive (by rank) optimizers that no Nemenyi test separates."""
    names = list(ranks.sort_values().index)
    spans: list[tuple[int, int]] = []
    for i in range(len(names)):
        j = i
        while j + 1 < len(names) and all(p_values.loc[a, names[j + 1]] >= alpha for a in names[i : j + 1]):
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in spans):
            spans.append((i, j))
    return [(float(ranks[names[a]]), float(ranks[names[b]])) for a, b in spans]


def draw_cd(ax: plt.Axes, ranks: pd.Series, spans: list[tuple[float, float]], cd: float, pal: dict[str, str]) -> None:
    """Demšar-style diagram: rank axis on top, CD scale bar, label lines, bars over non-separated groups."""
    k = len(ranks)
    items = list(ranks.sort_values().items())
    n_left = (k + 1) // 2
    step = 0.45
    ax.set_xlim(0.2, k + 0.8)
    ax.hlines(0, 1, k, color="black", lw=0.8)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.12, color="black", lw=0.8)
        ax.text(r, 0.2, str(r), ha="center", va="bottom", fontsize=7)
    ax.hlines(0.75, 1, 1 + cd, color="black", lw=1.2)
    ax.vlines([1, 1 + cd], 0.68, 0.82, color="black", lw=1.2)
    ax.text(1 + cd / 2, 0.86, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=7)
    for level, (lo, hi) in enumerate(spans):
        y = -0.18 - 0.14 * level
        ax.hlines(y, lo - 0.04, hi + 0.04, color="black", lw=2.2)
    top_label = -0.3 - 0.14 * max(len(spans), 1)
    for i, (name, r) in enumerate(items):
        left = i < n_left
        y = top_label - step * (i if left else k - 1 - i)
        x_end = 0.5 if left else k + 0.5
        ax.plot([r, r, x_end], [0, y, y], color=pal[name], lw=0.9)
        ax.plot(r, 0, "o", color=pal[name], ms=3.5)
        label = f"{name} ({r:.2f})" if left else f"({r:.2f}) {name}"
        ax.text(x_end + (-0.05 if left else 0.05), y, label, ha="right" if left else "left", va="center", fontsize=7, color=pal[name])
    ax.set_ylim(top_label - step * (n_left - 1) - 0.3, 1.15)
    ax.axis("off")


def cd_diagram(friedman: pd.DataFrame, nemenyi: pd.DataFrame, out_dir: Path) -> None:
    row = friedman.iloc[0]
    ranks = friedman.dropna(subset=["optimizer"]).set_index("optimizer")["avg_rank"]
    if not (np.isfinite(row["statistic"]) and len(ranks) >= 3):
        listing = ", ".join(f"{o} {r:.2f}" for o, r in ranks.items()) or "none"
        empty_figure(
            out_dir,
            "cd_diagram",
            f"No critical-difference diagram:\n{row['note']}\nAverage ranks: {listing}",
            f"""Critical-difference diagram not drawn: {row["note"]}. Average ranks of the mean final test regret
            across {int(row["n_tasks"])} task(s) (1 = best): {listing}.""",
        )
        return
    p_values = pd.DataFrame(1.0, index=ranks.index, columns=ranks.index)
    for r in nemenyi.dropna(subset=["optimizer_a"]).itertuples():
        p_values.loc[r.optimizer_a, r.optimizer_b] = p_values.loc[r.optimizer_b, r.optimizer_a] = r.p_value
    alpha = float(row["alpha"])
    spans = cliques(ranks, p_values, alpha)
    fig, ax = plt.subplots(figsize=(PANEL_W, 0.9 + 0.22 * ((len(ranks) + 1) // 2) + 0.1 * len(spans)), layout="constrained")
    draw_cd(ax, ranks, spans, float(row["critical_difference"]), colours(list(ranks.index)))
    save(
        fig,
        out_dir,
        "cd_diagram",
        f"""Critical-difference diagram: average rank (1 = best) of each optimizer's mean final 200-epoch test
        regret over {int(row["n_tasks"])} tasks (dataset x protocol). Friedman chi-square =
        {row["statistic"]:.2f}, p = {row["p_value"]:.3g}. Thick bars join optimizers that the Nemenyi post-hoc
        test does not separate (alpha = {alpha:g}); the scale bar is the critical difference
        CD = {row["critical_difference"]:.2f} (Demšar 2006). With few tasks this test has little power.""",
    )


def transfer_heatmap(transfer: pd.DataFrame, out_dir: Path) -> None:
    mean = transfer.groupby(["protocol", "optimizer", "search_dataset", "eval_dataset"])["test_regret"].mean().reset_index()
    if mean["test_regret"].notna().sum() == 0:
        empty_figure(out_dir, "transfer_heatmap", NO_DATA.replace("\n", " "), f"Transfer heatmap not drawn: {NO_DATA}.")
        return
    panels = [
        (p, o)
        for p in protocol_order(mean["protocol"].unique())
        for o in optimizer_order(mean[mean["protocol"] == p]["optimizer"].unique())
    ]
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.9 * ncols + 0.7, 1.75 * nrows + 0.4), squeeze=False, layout="constrained")
    vmax = float(np.nanmax(mean["test_regret"]))
    rows_order = dataset_order(mean["search_dataset"].unique())
    cols_order = dataset_order(mean["eval_dataset"].unique())
    several_protocols = mean["protocol"].nunique() > 1
    for i, (ax, (p, o)) in enumerate(zip(axes.flat, panels, strict=False)):
        mat = mean[(mean["protocol"] == p) & (mean["optimizer"] == o)].pivot(
            index="search_dataset", columns="eval_dataset", values="test_regret"
        )
        mat = mat.reindex(index=rows_order, columns=cols_order)
        mat.index = [SHORT.get(d, d) for d in mat.index]
        mat.columns = [SHORT.get(d, d) for d in mat.columns]
        sns.heatmap(
            mat,
            annot=True,
            fmt=".2f",
            cmap="viridis_r",
            vmin=0,
            vmax=vmax,
            cbar=False,
            ax=ax,
            annot_kws={"fontsize": 7},
            square=True,
            linewidths=0.5,
        )
        ax.set_title(f"{o} ({p})" if several_protocols else o)
        ax.tick_params(axis="y", rotation=0, length=0)
        ax.tick_params(axis="x", rotation=0, length=0)
        has_below = i + ncols < len(panels)
        ax.set_xlabel("" if has_below else "evaluated on")
        ax.set_ylabel("searched on" if i % ncols == 0 else "")
        if has_below:
            ax.set_xticklabels([])
        if i % ncols:
            ax.set_yticklabels([])
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.colorbar(plt.cm.ScalarMappable(norm=plt.Normalize(0, vmax), cmap="viridis_r"), ax=axes, shrink=0.8, label="mean test regret (pp)")
    seeds = transfer.groupby(["protocol", "optimizer", "search_dataset"])["seed"].nunique()
    save(
        fig,
        out_dir,
        "transfer_heatmap",
        f"""Transfer of the found architectures: mean 200-epoch test regret (percentage points) of each search's
        final incumbent when evaluated on the column dataset, for searches run on the row dataset (C10 = cifar10,
        C100 = cifar100, IN16 = ImageNet16-120; one panel per optimizer; mean over {seeds_phrase(seeds)}). Regret is against the best test accuracy on the
        evaluation dataset; the diagonal is the in-domain final regret. Values are benchmark lookups (seed-mean
        accuracy after 200 epochs).""",
    )


def edge_importance(imp: pd.DataFrame, out_dir: Path) -> None:
    caption_none = "Edge importance: no dataset had enough trials at any budget for fANOVA/LPI."
    if imp.empty:
        empty_figure(out_dir, "edge_importance", "no importance data", caption_none)
        return
    # Per dataset the budget with the most pooled trials (ties: the higher budget).
    best = imp.sort_values(["n_trials", "budget"]).groupby("dataset").tail(1)[["dataset", "budget"]]
    imp = imp.merge(best, on=["dataset", "budget"])
    datasets = dataset_order(imp["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(PANEL_W * len(datasets), PANEL_H), squeeze=False, layout="constrained")
    edges = sorted(imp["edge"].unique())
    labels = [e.removeprefix("edge_").replace("_", "→") for e in edges]
    methods = [m for m in METHOD_COLOURS if m in set(imp["method"])]
    width = 0.8 / len(methods)
    for ax, d in zip(axes[0], datasets, strict=True):
        g = imp[imp["dataset"] == d]
        for i, m in enumerate(methods):
            s = g[g["method"] == m].set_index("edge").reindex(edges)
            x = np.arange(len(edges)) + (i - (len(methods) - 1) / 2) * width
            ax.bar(
                x,
                s["importance"],
                width,
                yerr=np.sqrt(s["variance"].clip(lower=0)),
                color=METHOD_COLOURS[m],
                label=m,
                capsize=1.5,
                error_kw={"elinewidth": 0.6},
            )
        b = g["budget"].iloc[0]
        ax.set_title(f"{d} ({b:g} epochs, {int(g['n_trials'].iloc[0])} trials)")
        ax.set_xticks(np.arange(len(edges)), labels)
        ax.set(xlabel="edge (from node → to node)", ylabel="importance")
        ax.set_ylim(bottom=0)
        ax.grid(True, axis="y", alpha=0.4)
    handles = [plt.Rectangle((0, 0), 1, 1, color=METHOD_COLOURS[m]) for m in methods]
    fig.legend(
        handles, ["fANOVA" if m == "fanova" else "LPI" for m in methods], loc="outside lower center", ncol=len(methods), frameon=False
    )
    runs = imp.groupby("dataset")["n_runs"].max()
    save(
        fig,
        out_dir,
        "edge_importance",
        f"""Importance of the six cell edges (operation choice per edge) for the validation error, computed by
        DeepCAVE's fANOVA (fraction of variance explained by the edge alone) and local parameter importance
        (LPI, around the incumbent) from all trials of {seeds_phrase(runs, "exported runs")} per
        dataset pooled at one budget (the budget with the most trials, in the panel title). Error bars: standard
        deviation across the {16} trees of the random forest (fixed seed).""",
    )


# ------------------------------------------------------------------ entry point


def make_figures(
    aggregate: Path,
    stats: Path,
    transfer: Path,
    importance: Path,
    out_dir: Path,
    only: tuple[str, ...] = PAPER_FIGURES,
    log: TextIO = sys.stderr,
) -> list[Path]:
    aggregate, stats, transfer, importance, out_dir = map(Path, (aggregate, stats, transfer, importance, out_dir))
    jobs: dict[str, Callable[[Path], None]] = {
        "anytime_time": lambda d: anytime(read_table(aggregate, "curves_time", "aggregate"), "sim_time", d, "anytime_time"),
        "anytime_evals": lambda d: anytime(read_table(aggregate, "curves_evals", "aggregate"), "evals", d, "anytime_evals"),
        "final_regret": lambda d: final_regret(read_table(aggregate, "per_run_final", "aggregate"), d),
        "rank_over_time": lambda d: rank_over_time(read_table(stats, "ranks_over_time", "stats"), d),
        "cd_diagram": lambda d: cd_diagram(read_table(stats, "friedman", "stats"), read_table(stats, "nemenyi", "stats"), d),
        "transfer_heatmap": lambda d: transfer_heatmap(read_table(transfer, "transfer", "transfer"), d),
        "edge_importance": lambda d: edge_importance(read_table(importance, "importance", "importance"), d),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".figures.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        with plt.rc_context(STYLE):
            for stem in only:
                jobs[stem](tmp)
                print(f"figures: {stem}", file=log)
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, out_dir / f.name)
            written.append(out_dir / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"figures: wrote {len(written)} files to {out_dir}", file=log)
    return written
