"""Figures and report captions of the multi-objective analysis (``nashpo.analysis.mo`` calls ``render``).

Style, colours, saving and the critical-difference diagram are ``nashpo.analysis.figures``'.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from nashpo.analysis import figures as fg
from nashpo.analysis.runs import MO_METRIC as METRIC
from nashpo.analysis.runs import MO_TASK_KEY as TASK_KEY

plt = fg.plt
EAF_PERCENTILE = 50  # the attainment surface drawn per optimizer (``mo.attainment``)
HV_FLOOR = 1e-4  # log axis: HV regret 0 (the true front reached) is drawn at this floor
NCOLS = 4
MO_PALETTE = {"mo_rs": "#7f7f7f", "nsga2": "#2ca02c", "linas": "#d62728", "motpe": "#ff7f0e", "parego": "#1f77b4", "mo_smac_mf": "#17becf"}
UNITS = {
    "valid_error": "validation error (%)",
    "valid_loss": "validation loss (MSE)",
    "model_size": "model size (weights)",
    "params": "parameters (MB)",
}


def mo_colours(optimizers) -> dict[str, str]:
    base = fg.colours([o for o in set(optimizers) if o not in MO_PALETTE])
    return {o: MO_PALETTE.get(o) or base[o] for o in set(optimizers)}


def mo_order(optimizers) -> list[str]:
    known = [o for o in MO_PALETTE if o in set(optimizers)]
    return known + sorted(set(optimizers) - set(known))


def axis_label(column: str) -> str:
    if column.startswith("latency_"):
        return f"latency on {column.removeprefix('latency_')} (ms)"
    return UNITS.get(column, "latency (ms)" if column == "latency" else column)


def title(benchmark: str, task: str, objectives: str) -> str:
    cost = objectives.split("+", 1)[1] if "+" in objectives else objectives
    return f"{task}: {cost.removeprefix('latency_')}" if benchmark == "nb201" else f"{task}"


def task_panels(tasks: pd.DataFrame, width: float = 2.6, height: float = 2.2) -> tuple[plt.Figure, list[tuple[tuple, plt.Axes]]]:
    keys = [tuple(k) for k in tasks[TASK_KEY].drop_duplicates().itertuples(index=False)]
    fig, panels = fg.panel_grid({k: title(*k) for k in keys}, width, height, NCOLS, min_width=3.6, pad=0.4)
    return fig, list(panels.items())


def select(frame: pd.DataFrame, key: tuple) -> pd.DataFrame:
    mask = np.ones(len(frame), bool)
    for c, v in zip(TASK_KEY, key, strict=True):
        mask &= (frame[c] == v).to_numpy()
    return frame[mask]


def legend(fig: plt.Figure, order: list[str], pal: dict[str, str], extra: list[tuple] = ()) -> None:
    handles = [plt.Line2D([], [], color=pal[o], lw=1.5) for o in order] + [h for h, _ in extra]
    labels = list(order) + [lbl for _, lbl in extra]
    ncols = len(fig.axes) and max(1, min(NCOLS, len(fig.axes)))
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), max(2, 2 * ncols)), frameon=False)


def hv_regret_curves(data: dict[str, pd.DataFrame], out: Path) -> None:
    curves = data["curves"][data["curves"]["metric"] == METRIC]
    order = mo_order(curves["optimizer"].unique())
    pal = mo_colours(order)
    fig, panels = task_panels(curves)
    fg.anytime_panels(dict(panels), curves, TASK_KEY, "sim_time", order, pal, "HV regret", HV_FLOOR)
    legend(fig, order, pal)
    runs = curves.groupby([*TASK_KEY, "optimizer"])["n_runs"].max()
    fg.save(
        fig,
        out,
        "hv_regret_curves",
        f"""Hypervolume regret of each multi-objective search over simulated time, log-log, one panel per task
        (dataset: second objective). HV regret = hypervolume of the true Pareto front minus that of the search's
        non-dominated set so far, both with objectives normalised by the true front's ideal and nadir points and
        reference point 1.1; NB201 sets are scored by their 200-epoch values against the 200-epoch front.
        Lines: mean over {fg.seeds_phrase(runs)} per optimizer; bands: 95% percentile-bootstrap confidence interval of the
        mean (1000 resamples of whole seeds, fixed seed). A curve starts once every seed has a trial and ends
        at the budget; regret 0 is drawn at {HV_FLOOR:g}.""",
    )


def final_hv_regret(data: dict[str, pd.DataFrame], out: Path) -> None:
    finals = data["finals"]
    order = mo_order(finals["optimizer"].unique())
    pal = mo_colours(order)
    fig, panels = task_panels(finals, height=2.0)
    for key, ax in panels:
        g = select(finals, key)
        present = [o for o in order if o in set(g["optimizer"])]
        fg.sns.boxplot(
            data=g,
            x="optimizer",
            y=METRIC,
            order=present,
            hue="optimizer",
            palette=pal,
            ax=ax,
            showfliers=False,
            linewidth=0.7,
            legend=False,
        )
        with fg.seeded_numpy(fg.JITTER_SEED):
            fg.sns.stripplot(data=g, x="optimizer", y=METRIC, order=present, color="black", size=1.8, jitter=0.2, ax=ax)
        ax.set(xlabel="", ylabel="final HV regret")
        ax.tick_params(axis="x", rotation=45)
        ax.set_ylim(bottom=0)
        ax.grid(True, axis="y", alpha=0.4)
    seeds = finals.groupby([*TASK_KEY, "optimizer"])["seed"].nunique()
    fg.save(
        fig,
        out,
        "final_hv_regret",
        f"""Final hypervolume regret of each multi-objective search at the end of its budget, per optimizer, one
        panel per task. Boxes: quartiles and median, whiskers 1.5 IQR; dots: the individual seeds
        ({fg.seeds_phrase(seeds)} per optimizer). Pairwise Wilcoxon signed-rank tests with Holm correction per task
        are in wilcoxon.csv.""",
    )


def cd_diagram(data: dict[str, pd.DataFrame], out: Path) -> None:
    fg.cd_diagram(data["friedman"], data["nemenyi"], out)
    caption = out / "cd_diagram.rst"
    text = caption.read_text()
    for old, new in (
        ("mean final 200-epoch test regret", "mean final hypervolume regret"),
        ("mean final 200-epoch test\n        regret", "mean final hypervolume regret"),
        ("tasks (dataset x protocol)", "multi-objective tasks (benchmark x task x objective pair)"),
        ("mean final test regret", "mean final hypervolume regret"),
    ):
        text = text.replace(old, new)
    caption.write_text(text)


def staircase(ax: plt.Axes, f0: np.ndarray, f1: np.ndarray, **kw) -> None:
    """2-D minimisation attainment surface drawn with the cost objective (f1) on x and the error (f0) on y."""
    order = np.argsort(f1, kind="stable")
    x, y = np.asarray(f1)[order], np.asarray(f0)[order]
    ax.step(x, y, where="post", **kw)


def error_fence(errors: np.ndarray) -> float:
    """Upper Tukey fence (Q3 + 1.5 IQR) of the true front's first objective: the plot's upper limit."""
    q1, q3 = np.quantile(errors, [0.25, 0.75])
    return float(q3 + 1.5 * (q3 - q1))


def pareto(data: dict[str, pd.DataFrame], out: Path, benchmark: str) -> None:
    finals = data["finals"][data["finals"]["benchmark"] == benchmark]
    order = mo_order(finals["optimizer"].unique())
    pal = mo_colours(order)
    fronts, eaf, so = data["true_fronts"], data["eaf"], data["so_incumbents"]
    fig, panels = task_panels(finals)
    has_so = cropped = False
    for key, ax in panels:
        true = select(fronts, key)
        staircase(ax, true["f0"].to_numpy(), true["f1"].to_numpy(), color="black", lw=0.9)
        ax.plot(true["f1"], true["f0"], "o", color="black", ms=1.6)
        for o in order:
            e = select(eaf, key)
            e = e[e["optimizer"] == o]
            if len(e):
                staircase(ax, e["f0"].to_numpy(), e["f1"].to_numpy(), color=pal[o], lw=1.1)
        s = select(so, key)
        if len(s):
            has_so = True
            ax.plot(s["f1"], s["f0"], "x", color="0.25", ms=3, mew=0.7)
        row = select(finals, key).iloc[0]
        ax.set(xlabel=axis_label(row["cost_objective"]), ylabel=axis_label(row["error_objective"]))
        values = pd.concat([true[["f0", "f1"]], select(eaf, key)[["f0", "f1"]], s[["f0", "f1"]]])
        top = error_fence(true["f0"].to_numpy(float))
        if top < values["f0"].max():
            cropped = True
            values = values[values["f0"] <= top]
        for axis, col in (("x", "f1"), ("y", "f0")):
            v = values[col].to_numpy(float)
            v = v[np.isfinite(v)]
            if not len(v):
                continue
            log = v.min() > 0 and v.max() / v.min() > 30
            lo, hi = (v.min() / 1.3, v.max() * 1.3) if log else (v.min() - 0.05 * np.ptp(v), v.max() + 0.05 * np.ptp(v))
            if hi > lo:
                ax.set(**{f"{axis}scale": "log" if log else "linear", f"{axis}lim": (lo, hi)})
        ax.grid(True, alpha=0.4)
    extra = [(plt.Line2D([], [], color="black", lw=0.9, marker="o", ms=1.6), "true front")]
    if has_so:
        extra.append((plt.Line2D([], [], color="0.25", ls="", marker="x", ms=3), "single-objective incumbents"))
    legend(fig, order, pal, extra)
    seeds = finals.groupby([*TASK_KEY, "optimizer"])["seed"].nunique()
    so_text = (
        " Crosses: the final incumbents of the study's single-objective searches on the same dataset (all optimizers and seeds)."
        if has_so
        else ""
    )
    crop_text = (
        " Axes are cut at the upper Tukey fence of the true front's first objective (Q3 + 1.5 IQR): the"
        " degenerate configurations above it (e.g. NB201 cells without a path through convolutions) are off the plot."
        if cropped
        else ""
    )
    where = "200-epoch validation error and device latency (NB201)" if benchmark == "nb201" else "the benchmark's seed-mean values"
    fg.save(
        fig,
        out,
        f"pareto_{benchmark}",
        f"""Pareto fronts, {benchmark}, one panel per task: the true Pareto front of all configurations (black)
        and each optimizer's {EAF_PERCENTILE}% empirical attainment surface (moocore.eaf) of its final non-dominated
        sets over {fg.seeds_phrase(seeds)}: the region below-left of a coloured line was attained by at least half of
        the seeds. Values: {where}; both objectives minimised.{so_text}{crop_text}""",
    )


TABLE_CAPTIONS = {
    "summary_table": """Final hypervolume regret per multi-objective task (benchmark/task/objectives): mean ± standard
    deviation (number of seeds), and the Friedman average rank over all tasks (1 = best).""",
    "device_classes": """Mean (and median) final hypervolume regret per optimizer and device class (GPU, CPU, phone, edge)
    over the NB201 error-vs-latency tasks of that class and their seeds.""",
    "latency_saved": """Latency saved at equal accuracy, per NB201 dataset and device: reference = the single-objective
    searches' lower-median final incumbent (by 200-epoch validation error; all SO optimizers and seeds pooled),
    with its error so_error and latency so_latency_ms. Per multi-objective seed, the lowest latency among its
    final front's architectures whose 200-epoch validation error is at most so_error (none: infinite);
    mo_latency_ms is the median over seeds (empty if infinite), saved_ms = so_latency_ms - mo_latency_ms,
    n_reached counts seeds with such an architecture.""",
    "wilcoxon": """Pairwise two-sided Wilcoxon signed-rank tests on the final hypervolume regret per task, runs paired
    by seed, p-values Holm-corrected within the task; effect size: matched-pairs rank-biserial correlation
    (positive: optimizer_a has the lower regret).""",
}


def captions(data: dict[str, pd.DataFrame], out: Path) -> None:
    for stem, text in TABLE_CAPTIONS.items():
        extra = ""
        if stem == "latency_saved" and data["latency_saved"].empty:
            extra = " Empty: no single-objective searches of the same NB201 datasets were given."
        (out / f"{stem}.rst").write_text(" ".join(text.split()) + extra + "\n")


def render(data: dict[str, pd.DataFrame], out: Path, log: TextIO = sys.stderr) -> None:
    with plt.rc_context(fg.STYLE):
        hv_regret_curves(data, out)
        final_hv_regret(data, out)
        cd_diagram(data, out)
        for benchmark in sorted(data["finals"]["benchmark"].unique()):
            pareto(data, out, benchmark)
    print(f"mo: figures {', '.join(sorted(p.stem for p in out.glob('*.png')))}", file=log)
