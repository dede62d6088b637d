"""Per-family analysis of FCNet/MLP runs (anytime validation-regret curves, Wilcoxon/Holm per task)
on small hand-made trial logs, and the workflow's family export, analysis and report section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nashpo.analysis.families import family_wilcoxon, load_family_runs, regret_curves, wilcoxon_counts

NASHPO = (sys.executable, "-m", "nashpo")
# Test fixture, not benchmark data: oracle and objective of a made-up task.
ORACLE = {"best": 0.0, "best_objective": 0.0, "metric": "val_loss", "worst": 10.0, "worst_objective": 10.0}


def fake_run(
    root: Path,
    optimizer: str,
    seed: int,
    times: list[float],
    regrets: list[float],
    task: str = "naval_propulsion",
    family: str = "hpolib",
    budget: dict | None = None,
) -> Path:
    """A minimal FCNet/MLP run folder (run.json + trials.parquet) with the given incumbent regrets."""
    run = root / family / task / optimizer / str(seed)
    run.mkdir(parents=True)
    record = {
        "optimizer": optimizer,
        "dataset": task,
        "seed": seed,
        "protocol": "final",
        "benchmark": {"family": family, "dataset": task},
        "params": [{"name": "x", "kind": "ordinal", "choices": [1, 2]}],
        "budget": budget or {"max_sim_seconds": 100.0, "max_evals": None},
        "oracle": ORACLE,
        "objectives": [{"name": "val_loss", "column": "objective", "unit": "MSE", "optimize": "lower", "lower": 0.0, "upper": 10.0}],
    }
    (run / "run.json").write_text(json.dumps(record))
    trials = pd.DataFrame({"trial": np.arange(len(times)), "sim_time": np.asarray(times, float), "inc_regret": np.asarray(regrets, float)})
    trials["inc_quantile"] = trials["inc_regret"] / 10.0
    trials.to_parquet(run / "trials.parquet", index=False)
    return run


def incumbent_at(times: list[float], regrets: list[float], t: float) -> float:
    """The trial log's incumbent regret at simulated time t (last trial finished at or before t)."""
    done = [r for s, r in zip(times, regrets, strict=True) if s <= t]
    return done[-1] if done else np.nan


LOGS = {  # optimizer -> seed -> (finish times, incumbent regrets)
    "rs": {0: ([2.0, 10.0, 40.0], [5.0, 2.0, 0.5]), 1: ([3.0, 30.0, 90.0], [4.0, 1.0, 0.25]), 2: ([5.0, 6.0], [3.0, 0.0])},
    "re": {0: ([1.0, 50.0], [6.0, 0.125]), 1: ([4.0, 8.0, 16.0, 64.0], [7.0, 3.0, 1.5, 0.0]), 2: ([7.0], [2.0])},
}


def test_regret_curves_equal_the_trial_logs_incumbent_regret(tmp_path: Path) -> None:
    runs = [fake_run(tmp_path, o, s, *log) for o, seeds in LOGS.items() for s, log in seeds.items()]
    finals, traj = load_family_runs(runs)
    assert finals.set_index(["optimizer", "seed"])["valid_regret"].to_dict() == {
        (o, s): log[1][-1] for o, seeds in LOGS.items() for s, log in seeds.items()
    }
    curves = regret_curves(finals, traj)
    for optimizer, seeds in LOGS.items():
        c = curves[curves["optimizer"] == optimizer].set_index("sim_time")
        grid = c.index.to_numpy()
        # one log grid per task: from the earliest first trial (1 s) to the time budget (100 s)
        assert grid[0] == 1.0 and grid[-1] == pytest.approx(100.0) and len(grid) == 100
        starts = max(log[0][0] for log in seeds.values())  # every seed has an incumbent from here on
        for t in grid:
            want = [incumbent_at(*log, t) for log in seeds.values()]
            if t < starts:
                assert np.isnan(c.loc[t, "mean"]) and c.loc[t, "n_seeds"] < 3
            else:
                assert c.loc[t, "mean"] == pytest.approx(np.mean(want), rel=1e-12)
                assert c.loc[t, "median"] == pytest.approx(np.median(want), rel=1e-12)
                assert c.loc[t, "mean_lo"] <= c.loc[t, "mean"] <= c.loc[t, "mean_hi"]
    rs = curves[curves["optimizer"] == "rs"].set_index("sim_time")["mean"]
    # concrete values: from 10 s the incumbents are 2.0, 4.0 and 0.0; from 30 s 2.0, 1.0, 0.0; from 90 s 0.5, 0.25, 0.0
    assert rs[(rs.index >= 10) & (rs.index < 30)].unique().tolist() == [2.0]
    assert rs[(rs.index >= 30) & (rs.index < 40)].unique().tolist() == [1.0]
    assert rs[rs.index >= 90].unique().tolist() == [0.25]


def test_evaluation_budget_runs_keep_their_final_incumbent(tmp_path: Path) -> None:
    """Under max_evals a seed that used its evaluations keeps its final incumbent until the last seed ends."""
    evals = {"max_sim_seconds": None, "max_evals": 2}
    runs = [
        fake_run(tmp_path, "tpe", 0, [1.0, 5.0], [3.0, 1.0], task="car", family="hpobench", budget=evals),
        fake_run(tmp_path, "tpe", 1, [2.0, 400.0], [4.0, 2.0], task="car", family="hpobench", budget=evals),
    ]
    finals, traj = load_family_runs(runs)
    assert finals["time_limited"].tolist() == [False, False] and finals["end_time"].tolist() == [5.0, 400.0]
    c = regret_curves(finals, traj).set_index("sim_time")
    assert c.index[-1] == pytest.approx(400.0)
    assert c.loc[(c.index >= 5) & (c.index < 399), "mean"].unique().tolist() == [2.5]  # (1.0 + 4.0) / 2
    assert c["mean"].iloc[-1] == pytest.approx(1.5)


def holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment, written out."""
    order = np.argsort(p)
    m = len(p)
    out, running = np.empty(m), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def test_wilcoxon_holm_per_task_equals_scipy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    regrets = {}
    runs = []
    for task in ("naval_propulsion", "protein_structure"):
        base = rng.uniform(1.0, 2.0, 10)
        regrets[task] = {"smac": base * 0.5, "tpe": base * rng.uniform(0.4, 0.9, 10), "rs": base + rng.uniform(0.1, 1.0, 10)}
        for optimizer, values in regrets[task].items():
            runs += [fake_run(tmp_path, optimizer, s, [1.0], [float(v)], task=task) for s, v in enumerate(values)]
    finals, _ = load_family_runs(runs)
    w = family_wilcoxon(finals)
    assert len(w) == 6 and set(w["family"]) == {"hpolib"}
    for task, g in w.groupby("task"):
        raw = [stats.wilcoxon(regrets[task][r.optimizer_a], regrets[task][r.optimizer_b]).pvalue for r in g.itertuples()]
        np.testing.assert_allclose(g["p_value"], raw, rtol=1e-12)
        np.testing.assert_allclose(g["p_adjusted"], holm(raw), rtol=1e-12)
        rs_smac = g[(g.optimizer_a == "rs") & (g.optimizer_b == "smac")].iloc[0]
        # smac lower on all 10 seeds: exact two-sided p = 2 / 2^10; Holm: the smallest of 3 p-values x 3
        assert rs_smac["p_value"] == pytest.approx(2 / 1024) and rs_smac["p_adjusted"] == pytest.approx(6 / 1024)
        assert rs_smac["significant"] and rs_smac["lower_regret"] == "smac" and rs_smac["effect_size"] == -1.0
    counts = wilcoxon_counts(w).set_index(["optimizer_a", "optimizer_b"])
    assert counts.loc[("rs", "smac"), ["n_tasks", "n_significant", "a_lower", "b_lower"]].tolist() == [2, 2, 0, 2]
    assert counts.loc[("rs", "smac"), "significant_tasks"] == "naval_propulsion, protein_structure"
    assert counts["n_significant"].sum() == int(w["significant"].sum())


def test_analysis_family_cli_writes_everything_or_nothing(tmp_path: Path) -> None:
    runs = [fake_run(tmp_path / "runs", o, s, *log) for o, seeds in LOGS.items() for s, log in seeds.items()]
    out = tmp_path / "out"
    res = subprocess.run([*NASHPO, "analysis", "family", "--runs", *map(str, runs), "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    names = {p.name for p in out.iterdir()}
    for stem, exts in {"anytime_time": "png pdf rst", "wilcoxon": "csv parquet tex rst", "curves_time": "csv parquet"}.items():
        assert {f"{stem}.{e}" for e in exts.split()} <= names
    caption = (out / "anytime_time.rst").read_text()
    assert "HPOLib FCNet" in caption and "3 seeds" in caption and "final values only" in caption and "no test split" in caption
    assert "validation regret" in (out / "wilcoxon.rst").read_text() and "no test split" in (out / "wilcoxon.tex").read_text()
    assert pd.read_csv(out / "wilcoxon.csv")[["optimizer_a", "optimizer_b", "n_pairs"]].values.tolist() == [["re", "rs", 3]]
    # a run of another family: one line naming the field, nothing left behind (not even the previous outputs)
    other = fake_run(tmp_path / "runs", "rs", 0, [1.0], [0.5], task="car", family="hpobench")
    res = subprocess.run(
        [*NASHPO, "analysis", "family", "--runs", *map(str, runs), str(other), "--out", str(out)], capture_output=True, text=True
    )
    assert res.returncode == 2 and "runs=['hpobench', 'hpolib']: mix several families" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and list(out.iterdir()) == []


@pytest.mark.slow
def test_workflow_exports_and_analyses_every_family_run(tmp_path: Path) -> None:
    """Tiny study with an FCNet and an MLP task: the dry run plans the export and analysis jobs; the
    run exports every family run to DeepCAVE (its loader and Overview/Cost over Time plugins work on
    it), writes each family's figure and Wilcoxon tables, and the report has the families section."""
    from test_workflow import TINY, checkout, cifar10_only, planned, snakemake

    from nashpo.export.deepcave import load_export
    from nashpo.export.plugins import run_plugin

    cfg = cifar10_only(TINY)
    cfg["optimizers"] = {"rs": {}, "re": {"population_size": 8, "sample_size": 3}}
    cfg["tasks"] += [
        {
            "family": "hpolib",
            "tasks": ["naval_propulsion"],
            "seeds": 3,
            "budget": {"per_task": {"naval_propulsion": {"max_sim_seconds": 1500}}},
        },
        {"family": "hpobench", "tasks": ["car"], "seeds": 3, "budget": {"max_evals": 12}},
    ]
    root = checkout(tmp_path, cfg)
    jobs = planned(root)
    nb201 = 2  # cifar10 x 2 optimizers x 1 chunk (seeds 0-1)
    assert {k: v for k, v in jobs.items() if k in ("prepare_data", "search", "to_deepcave", "aggregate", "stats", "figures")} == {
        "prepare_data": 1 + 2,
        "search": nb201 + 8,  # 2 tasks x 2 single-fidelity optimizers x 2 chunks (seeds 0-1, 2)
        "to_deepcave": nb201 + 8,
        "aggregate": 1,  # one job per analysis stage, over every task
        "stats": 1,
        "figures": 1,
    }
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    results = root / "results"
    for family, task in (("hpolib", "naval_propulsion"), ("hpobench", "car")):
        objectives = {"hpolib": "valid_loss", "hpobench": "valid_error"}[family]
        for optimizer in ("rs", "re"):
            for seed in range(3):
                log = pd.read_parquet(
                    results / "runs" / "workers_1" / family / task / objectives / optimizer / str(seed) / "trials.parquet"
                )
                run = load_export(results / "deepcave" / "workers_1" / family / task / objectives / optimizer / str(seed))
                assert run.meta["benchmark"] == family and run.meta["seed"] == seed
                assert len(run.history) == log["code"].nunique()
                assert run_plugin("overview", run).components
                cot = run_plugin("cost_over_time", run)
                assert cot.outputs["costs_mean"][-1] == pytest.approx(float(log["objective"].min()))
                # DeepCAVE keeps one trial per configuration, with its last evaluation's time
                kept = log.drop_duplicates("code", keep="last").sort_values("sim_time")
                reached = float(kept.loc[kept["objective"] == kept["objective"].min(), "sim_time"].iloc[0])
                assert cot.outputs["times"][-1] == pytest.approx(reached, abs=0.01)
        curves = pd.read_parquet(results / "aggregate" / family / "curves_time.parquet")
        finals = pd.read_parquet(results / "aggregate" / family / "per_run_final.parquet")
        assert set(curves["task"]) == {task} and set(curves["optimizer"]) == {"rs", "re"}
        assert finals["valid_regret"].tolist() == [
            pd.read_parquet(results / "runs" / "workers_1" / family / task / objectives / r.optimizer / str(r.seed) / "trials.parquet")[
                "inc_regret"
            ].iloc[-1]
            for r in finals.itertuples()
        ]
        wilcoxon = pd.read_csv(results / "stats" / family / "wilcoxon.csv")
        assert wilcoxon[["task", "optimizer_a", "optimizer_b", "n_pairs"]].values.tolist() == [[task, "re", "rs", 3]]
        assert (results / "figures" / family / "anytime_time.png").stat().st_size > 5000
    assert planned(root) == {}
    rep = snakemake(root, "--report", "report.html")
    assert rep.returncode == 0, rep.stderr[-3000:]
    html = (root / "report.html").read_text(errors="ignore")
    assert "Joint NAS+HPO families" in html
    for name in ("anytime_time.png", "wilcoxon.csv", "summary_table.csv", "cd_diagram.png"):
        assert name in html
