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
    fronts, eaf, so, pairs = data["true_fronts"], data["eaf"], data["so_incumbents"], data["eaf_pairs"]
    fig, panels = task_panels(finals)
    has_so = cropped = chosen = False
    for key, ax in panels:
        pair = select(pairs, key).iloc[0]
        y, x = pair_columns(pair)
        chosen |= (y, x) != ("f0", "f1")
        true = pair_front(select(fronts, key), y, x)
        staircase(ax, true[y].to_numpy(), true[x].to_numpy(), color="black", lw=0.9)
        ax.plot(true[x], true[y], "o", color="black", ms=1.6)
        for o in order:
            e = select(eaf, key)
            e = e[e["optimizer"] == o]
            if len(e):
                staircase(ax, e[y].to_numpy(), e[x].to_numpy(), color=pal[o], lw=1.1)
        s = select(so, key)
        if len(s):
            has_so = True
            ax.plot(s[x], s[y], "x", color="0.25", ms=3, mew=0.7)
        ax.set(xlabel=axis_label(pair["second_objective"]), ylabel=axis_label(pair["first_objective"]))
        values = pd.concat([true[[y, x]], select(eaf, key)[[y, x]], s[[y, x]]])
        top = error_fence(true[y].to_numpy(float)) if y == "f0" else np.inf  # the fence is for the error objective
        if top < values[y].max():
            cropped = True
            values = values[values[y] <= top]
        for axis, col in (("x", x), ("y", y)):
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
    where = "the 200-epoch values (NB201)" if benchmark == "nb201" else "the benchmark's seed-mean values"
    pair_text = (
        "its attainment pair (attainment_pair in the config, eaf_pairs.csv; the first objective on the y axis)"
        if chosen
        else "its first two (error and first cost)"
    )
    fg.save(
        fig,
        out,
        f"pareto_{benchmark}",
        f"""Pareto fronts, {benchmark}, one panel per task: the true Pareto front of all configurations (black)
        and each optimizer's {EAF_PERCENTILE}% empirical attainment surface (moocore.eaf) of its final non-dominated
        sets over {fg.seeds_phrase(seeds)}: the region below-left of a coloured line was attained by at least half of
        the seeds. Values: {where}; both objectives minimised. A task with three objectives or more is shown in
        {pair_text}: the true front of that pair and attainment surfaces of the projected final sets.{so_text}{crop_text}""",
    )


def pair_columns(pair: pd.Series) -> tuple[str, str]:
    """The value columns (``f{i}``, ``f{j}``: y, then x) of a task's attainment pair (a row of ``eaf_pairs``)."""
    return f"f{int(pair['first_index'])}", f"f{int(pair['second_index'])}"


def pair_front(points: pd.DataFrame, a: str = "f0", b: str = "f1") -> pd.DataFrame:
    """The non-dominated points of a front's projection onto objectives ``a`` and ``b`` (a 2-objective
    front is its own projection)."""
    import moocore

    if points.empty:
        return points
    return points[moocore.is_nondominated(points[[a, b]].to_numpy(float), keep_weakly=True)]


def many_tasks(data: dict[str, pd.DataFrame], benchmark: str) -> pd.DataFrame:
    finals = data["finals"][data["finals"]["benchmark"] == benchmark]
    return finals[finals["objectives"].str.count(r"\+") >= 2]


def front_pairs(data: dict[str, pd.DataFrame], out: Path, benchmark: str) -> None:
    """Tasks of three objectives or more: one row per task, one panel per pair of objectives."""
    finals = many_tasks(data, benchmark)
    order = mo_order(finals["optimizer"].unique())
    pal = mo_colours(order)
    keys = [tuple(k) for k in finals[TASK_KEY].drop_duplicates().itertuples(index=False)]
    width = max(len(k[2].split("+")) * (len(k[2].split("+")) - 1) // 2 for k in keys)
    fig, axes = plt.subplots(len(keys), width, figsize=(2.5 * width, 2.4 * len(keys) + 0.6), squeeze=False, layout="constrained")
    for row, key in enumerate(keys):
        columns = key[2].split("+")
        pairs = [(i, j) for i in range(len(columns)) for j in range(i + 1, len(columns))]
        true, points = select(data["true_fronts"], key), select(data["front_points"], key)
        for ax, (i, j) in zip(axes[row], pairs, strict=False):
            a, b = f"f{i}", f"f{j}"
            ax.plot(true[b], true[a], "o", color="0.55", mfc="none", ms=2.2, mew=0.5)
            for o in order:
                mine = points[points["optimizer"] == o]
                ax.plot(mine[b], mine[a], ".", color=pal[o], ms=2.2, alpha=0.6)
            best = pair_front(true, a, b)
            staircase(ax, best[a].to_numpy(), best[b].to_numpy(), color="black", lw=0.8)
            ax.set(xlabel=axis_label(columns[j]), ylabel=axis_label(columns[i]))
            ax.set_title(f"{key[1]} ({len(columns)} objectives)", fontsize="small")
            ax.grid(True, alpha=0.4)
        for ax in axes[row][len(pairs) :]:
            ax.set_axis_off()
    extra = [
        (plt.Line2D([], [], color="0.55", ls="", marker="o", mfc="none", ms=2.2, mew=0.5), "true front, projected"),
        (plt.Line2D([], [], color="black", lw=0.8), "true front of the pair"),
    ]
    legend(fig, order, pal, extra)
    seeds = finals.groupby([*TASK_KEY, "optimizer"])["seed"].nunique()
    fg.save(
        fig,
        out,
        f"front_pairs_{benchmark}",
        f"""Pairwise projections of the fronts of {benchmark}'s tasks with three objectives or more, one row per task and
        one panel per pair of objectives: the true Pareto front's points (grey), the exact front of the pair (black
        staircase), and every point of each optimizer's final non-dominated sets over {fg.seeds_phrase(seeds)}
        (coloured). Values at the final fidelity; every objective minimised.""",
    )


def parallel_coordinates(data: dict[str, pd.DataFrame], out: Path, benchmark: str) -> None:
    """Tasks of three objectives or more: final fronts as lines over the objectives, normalised by the
    true front's ideal (0) and nadir (1) point."""
    finals = many_tasks(data, benchmark)
    order = mo_order(finals["optimizer"].unique())
    pal = mo_colours(order)
    keys = [tuple(k) for k in finals[TASK_KEY].drop_duplicates().itertuples(index=False)]
    fig, axes = plt.subplots(
        len(keys), len(order) + 1, figsize=(2.2 * (len(order) + 1), 2.3 * len(keys) + 0.6), squeeze=False, layout="constrained"
    )
    for row, key in enumerate(keys):
        columns = key[2].split("+")
        cols = [f"f{j}" for j in range(len(columns))]
        true, points = select(data["true_fronts"], key), select(data["front_points"], key)
        lo, hi = true[cols].min().to_numpy(float), true[cols].max().to_numpy(float)
        span = np.where(hi > lo, hi - lo, 1.0)
        x = np.arange(len(cols))
        panels = [("true front", true, "black")] + [(o, points[points["optimizer"] == o], pal[o]) for o in order]
        for ax, (label, frame, colour) in zip(axes[row], panels, strict=True):
            z = (frame[cols].to_numpy(float) - lo) / span
            for line in z:
                ax.plot(x, line, color=colour, lw=0.5, alpha=0.35)
            if not len(z):
                ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center", color="0.4")
            ax.set_xticks(x, [c.removeprefix("latency_") for c in columns], rotation=45, ha="right", fontsize="x-small")
            ax.set_ylim(-0.05, 1.6)
            ax.set_title(f"{key[1]}: {label}" if label == "true front" else label, fontsize="small")
            ax.grid(True, axis="x", alpha=0.4)
        axes[row][0].set_ylabel("normalised value (true front: 0 to 1)")
    seeds = finals.groupby([*TASK_KEY, "optimizer"])["seed"].nunique()
    fg.save(
        fig,
        out,
        f"parallel_coordinates_{benchmark}",
        f"""Parallel coordinates of {benchmark}'s tasks with three objectives or more, one row per task: each line is one
        configuration, its objectives normalised by the true front's ideal (0) and nadir (1) point (values above 1
        are worse than every true-front point in that objective; the axis stops at 1.6). First panel: the true
        Pareto front; then each optimizer's final non-dominated sets pooled over {fg.seeds_phrase(seeds)}.""",
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
            if not many_tasks(data, benchmark).empty:
                front_pairs(data, out, benchmark)
                parallel_coordinates(data, out, benchmark)
    print(f"mo: figures {', '.join(sorted(p.stem for p in out.glob('*.png')))}", file=log)
