"""The parallel group's figures (``analysis.parallel``): anytime regret on the simulated wall clock per
number of workers K, and the time to target with the speed-up over K. Style, colours and files as
``analysis.figures`` (PNG + PDF + .rst caption each), rendered into a temporary folder first."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

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
from nashpo.analysis.io import read_table
from nashpo.analysis.parallel import TASK_KEY, task_label

UNITS = {"test_regret": "test regret (pp)", "valid_regret": "validation regret", "hv_regret_final": "HV regret"}


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(label=[task_label(r) for _, r in frame[TASK_KEY].iterrows()])


def anytime_time(curves: pd.DataFrame, per_run: pd.DataFrame, targets: pd.DataFrame, out: Path) -> None:
    curves = labelled(curves)
    metric = labelled(targets).set_index("label")["metric"]
    goal = labelled(targets).set_index("label")["target"]
    keys = sorted({(r.label, int(r.workers)) for r in curves[["label", "workers"]].itertuples()})
    n_k = len({k for _, k in keys})
    order = optimizer_order(curves["optimizer"].unique())
    pal = colours(order)
    fig, panels = panel_grid({key: f"{key[0]}, K = {key[1]}" for key in keys}, PANEL_W * 0.8, PANEL_H, ncols=n_k)
    anytime_panels(panels, curves, ["label", "workers"], "sim_time", order, pal, lambda key: UNITS.get(metric[key[0]], metric[key[0]]))
    for (label, _), ax in panels.items():
        if np.isfinite(goal[label]) and goal[label] > 0:
            ax.axhline(goal[label], color="black", lw=0.6, ls=":")
    legend_below(fig, order, pal)
    seeds = per_run.groupby([*TASK_KEY, "optimizer", "workers"])["seed"].nunique()
    save(
        fig,
        out,
        "anytime_time",
        f"""Parallel workers: anytime regret of the incumbent against the simulated wall clock (K workers run trials
        at once; a trial's time is the clock when it ended), log-log, one panel per task (rows) and number of workers K
        (columns). NB201: 200-epoch test regret (pp); families: validation regret; several objectives: HV regret. Lines:
        mean over {seeds_phrase(seeds)} per optimizer; bands: 95% percentile-bootstrap interval of the mean (1000
        resamples of whole seeds, fixed seed). One time grid per task for every K; a curve starts once every seed has a
        trial and ends at the budget. Dotted: the task's regret target (speedup.csv). Regret 0 is drawn at the bottom of
        its panel.""",
    )


def speedup(table: pd.DataFrame, out: Path) -> None:
    table = labelled(table)
    labels = list(dict.fromkeys(table.sort_values(TASK_KEY)["label"]))
    order = optimizer_order(table["optimizer"].unique())
    pal = colours(order)
    ncols = min(4, len(labels))
    nrows = -(-len(labels) // ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(PANEL_W * 0.85 * ncols, 2 * PANEL_H * nrows), squeeze=False, layout="constrained")
    for i, label in enumerate(labels):
        top, bottom = axes[2 * (i // ncols), i % ncols], axes[2 * (i // ncols) + 1, i % ncols]
        g = table[table["label"] == label]
        ks = sorted(g["workers"].unique())
        width = 0.06 * (len(order) - 1)
        for j, o in enumerate(order):
            c = g[g["optimizer"] == o].sort_values("workers")
            if c.empty:
                continue
            x = c["workers"].to_numpy(float) * 2 ** ((j - (len(order) - 1) / 2) * width / max(len(order) - 1, 1))
            for ax, col in ((top, "time"), (bottom, "speedup")):
                y = c[f"{col}_median" if col == "time" else col].to_numpy(float)
                err = np.vstack([y - c[f"{col}_lo"].to_numpy(float), c[f"{col}_hi"].to_numpy(float) - y]).clip(min=0)
                ax.errorbar(x, y, yerr=err, color=pal[o], marker="o", ms=3, lw=1.0, capsize=2)
                cens = c["median_censored"].to_numpy(bool) if col == "time" else c["note"].str.len().to_numpy() > 0
                ax.plot(x[cens], y[cens], ls="none", marker="o", ms=5, mfc="white", color=pal[o])
        ref = int(g["reference_workers"].min())
        bottom.plot(ks, [k / ref for k in ks], color="black", lw=0.6, ls=":")
        bottom.axhline(1, color="0.5", lw=0.5)
        top.set(title=label, xscale="log", yscale="log", ylabel="time to target (s)")
        bottom.set(xscale="log", yscale="log", xlabel="workers K", ylabel=f"speed-up over K = {ref}")
        for ax in (top, bottom):
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.minorticks_off()
            ax.grid(True, alpha=0.4)
    for k in range(len(labels), nrows * ncols):
        axes[2 * (k // ncols), k % ncols].axis("off")
        axes[2 * (k // ncols) + 1, k % ncols].axis("off")
    legend_below(fig, order, pal)
    save(
        fig,
        out,
        "speedup",
        f"""Parallel workers: simulated wall-clock time to reach the task's regret target (top) and the speed-up over the
        smallest K (bottom) per optimizer and number of workers K ({seeds_phrase(table["n_seeds"])} per point). Target: the
        upper median of random search's final regret at the smallest K. Points: median over seeds; bars: 95%
        percentile-bootstrap intervals (1000 resamples of the seeds, fixed seed). A run that never reaches the target counts
        as its budget (censored); open circles mark a median that falls on a censored run (top: a lower bound) or a speed-up
        bounded by one (speedup.csv says which). Dotted: linear speed-up; grey: no speed-up. Optimizers are set slightly
        apart along K.""",
    )


def render(aggregate_dir: Path, stats_dir: Path, out: Path, log: TextIO = sys.stderr) -> None:
    aggregate = {n: read_table(aggregate_dir, n, "aggregate") for n in ("per_run_final", "curves_time", "targets")}
    table = read_table(stats_dir, "speedup", "stats")
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".figures.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        with plt.rc_context(STYLE):
            anytime_time(aggregate["curves_time"], aggregate["per_run_final"], aggregate["targets"], tmp)
            speedup(table, tmp)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"parallel: figures anytime_time, speedup in {out}", file=log)
