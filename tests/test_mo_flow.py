"""Multi-objective workflow and analysis (nashpo.analysis.mo; tasks with several objectives in the one pipeline).

Analysis tests use small hand-made trial logs and run records that follow the multi-objective trial-log
contract (hv_regret, hv_regret_final, front_size; run.json multi_objective/objectives/final_front) and a
hand-made objective table (FIXTURE values, not benchmark numbers).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from test_workflow import TINY, checkout, cifar10_only, config_lines, planned, snakemake

from nashpo.analysis import mo
from nashpo.analysis.io import stage_outputs

# FIXTURE objective table for one dataset: code -> (validation error %, latency ms). Codes 0..6 are the true
# front; code 7 is dominated by code 4, code 8 (error 13, latency 90) by code 1.
ERROR = np.array([10, 12, 14, 16, 18, 20, 22, 24, 13], float)
LATENCY = {"latency:pixel3": np.array([80, 60, 50, 40, 30, 20, 15, 30, 90], float)}
LATENCY["latency:raspi4"] = LATENCY["latency:pixel3"] * 10
OBJECTIVE = {
    "valid_error": ("valid_error", "%"),
    "latency:pixel3": ("latency_pixel3", "ms"),
    "latency:raspi4": ("latency_raspi4", "ms"),
}


class FixtureTables:
    def values(self, benchmark, task, objectives, codes):
        codes = np.asarray(codes, int)
        return np.column_stack([ERROR[codes], LATENCY[objectives[1]][codes]])

    def front(self, benchmark, task, objectives):
        return self.values(benchmark, task, objectives, range(7))


def write_run(
    root: Path,
    optimizer: str,
    seed: int,
    final: float,
    front: list[int],
    device: str = "latency:pixel3",
    task: str = "cifar10",
    times=(100.0, 500.0, 1000.0, 2000.0),
    budget: float = 3000.0,
) -> Path:
    """One finished MO run folder (FIXTURE): HV regret falls linearly from 0.5 to ``final`` over the trials."""
    run = root / task / device.replace(":", "_") / optimizer / str(seed)
    run.mkdir(parents=True)
    regrets = np.linspace(0.5, final, len(times))
    trials = pd.DataFrame(
        {
            "trial": np.arange(len(times)),
            "optimizer": optimizer,
            "dataset": task,
            "seed": seed,
            "sim_time": np.asarray(times, float),
            "hv_regret": regrets + 0.01,
            "hv_regret_final": regrets,
            "front_size": np.arange(1, len(times) + 1),
        }
    )
    trials.to_parquet(run / "trials.parquet", index=False)
    specs = ["valid_error", device]
    record = {
        "optimizer": optimizer,
        "dataset": task,
        "seed": seed,
        "protocol": "proxy",
        "benchmark": {"family": "nb201", "dataset": task},
        "budget": {"max_sim_seconds": budget, "max_evals": None},
        "multi_objective": True,
        "objectives": [{"name": s, "column": OBJECTIVE[s][0], "unit": OBJECTIVE[s][1], "optimize": "lower"} for s in specs],
        "reference_point": 1.1,
        "front": {"ideal": [10.0, 15.0], "nadir": [22.0, 80.0], "hv": 1.0, "fidelity": 200},
        "final_front": [{"code": c} for c in front],
        "hv_regret": float(regrets[-1] + 0.01),
        "hv_regret_final": float(regrets[-1]),
        "igd_plus": 0.0,
    }
    (run / "run.json").write_text(json.dumps(record))
    return run


def write_so_run(root: Path, optimizer: str, seed: int, code: int, task: str = "cifar10") -> Path:
    run = root / "so" / task / optimizer / str(seed)
    run.mkdir(parents=True)
    pd.DataFrame({"trial": [0, 1], "inc_arch_code": [5, code]}).to_parquet(run / "trials.parquet", index=False)
    record = {"optimizer": optimizer, "dataset": task, "seed": seed, "protocol": "proxy", "benchmark": {"family": "nb201"}}
    (run / "run.json").write_text(json.dumps(record))
    return run


# final HV regrets per seed: linas lowest on every seed of every task (FIXTURE)
FINALS = {
    "linas": [0.010, 0.020, 0.015, 0.030, 0.012, 0.025],
    "nsga2": [0.100, 0.080, 0.120, 0.090, 0.070, 0.110],
    "mo_rs": [0.200, 0.060, 0.150, 0.050, 0.300, 0.040],
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path]]:
    root = tmp_path_factory.mktemp("mo")
    runs = []
    for device in ("latency:pixel3", "latency:raspi4"):
        for optimizer, finals in FINALS.items():
            for seed, final in enumerate(finals):
                front = [0, 1, 2, 5] if optimizer == "linas" else [[0, 1], [0], [3, 5]][seed % 3]
                runs.append(write_run(root, optimizer, seed, final + (0.001 if device.endswith("raspi4") else 0.0), front, device))
    so = [write_so_run(root, "rs", 0, 8), write_so_run(root, "rs", 1, 3), write_so_run(root, "re", 0, 0)]
    return runs, so


@pytest.fixture(scope="module")
def tables(study) -> dict[str, pd.DataFrame]:
    runs, so = study
    return mo.mo_tables(runs, so, FixtureTables())


def holm(p: list[float]) -> list[float]:
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        adj[j] = running
    return list(adj)


def test_wilcoxon_holm_per_task_matches_scipy(tables) -> None:
    w = tables["wilcoxon"]
    task = w[w["objectives"] == "valid_error+latency_pixel3"].set_index(["optimizer_a", "optimizer_b"])
    pairs = [("linas", "mo_rs"), ("linas", "nsga2"), ("mo_rs", "nsga2")]
    raw = [stats.wilcoxon(FINALS[a], FINALS[b]).pvalue for a, b in pairs]
    assert raw[1] == pytest.approx(0.03125)  # 6 pairs, all the same sign: exact two-sided p = 2 / 2**6
    for (a, b), p, p_adj in zip(pairs, raw, holm(raw), strict=True):
        assert task.loc[(a, b), "p_value"] == pytest.approx(p)
        assert task.loc[(a, b), "p_adjusted"] == pytest.approx(p_adj)
    assert task.loc[("linas", "nsga2"), "lower_regret"] == "linas"
    assert task.loc[("linas", "nsga2"), "effect_size"] == 1.0
    assert set(w["benchmark"]) == {"nb201"} and set(w["task"]) == {"cifar10"}


def test_friedman_ranks_the_dominant_optimizer_first(tables) -> None:
    f = tables["friedman"].set_index("optimizer")
    assert f.loc["linas", "avg_rank"] == 1.0  # lowest mean final HV regret on both tasks
    assert f.loc["nsga2", "avg_rank"] == 2.0  # nsga2 mean 0.095 < mo_rs mean 0.1333
    assert f.loc["mo_rs", "avg_rank"] == 3.0
    assert int(f["n_tasks"].iloc[0]) == 2
    table = tables["summary_table"].set_index("optimizer")
    assert table.loc["linas", "avg. rank"] == "1.00"
    assert table.loc["linas", "nb201/cifar10/valid_error+latency_pixel3"].startswith(f"{np.mean(FINALS['linas']):.4f} ± ")


def test_curves_are_step_functions_with_bootstrap_bands(tables) -> None:
    c = tables["curves"]
    c = c[(c["objectives"] == "valid_error+latency_pixel3") & (c["metric"] == "hv_regret_final")]
    linas = c[c["optimizer"] == "linas"]
    assert linas["sim_time"].min() == pytest.approx(100.0) and linas["sim_time"].max() == pytest.approx(3000.0)
    first = linas.iloc[0]
    assert first["mean"] == pytest.approx(0.5) and first["mean_lo"] == first["mean_hi"] == pytest.approx(0.5)  # identical at t=100
    last = linas.iloc[-1]
    assert last["mean"] == pytest.approx(np.mean(FINALS["linas"]))
    assert last["mean_lo"] <= last["mean"] <= last["mean_hi"] and last["mean_lo"] < last["mean_hi"]
    assert (linas["n_seeds"] == 6).all()


def test_wilcoxon_at_equal_simulated_time(tables) -> None:
    w = tables["wilcoxon_at_time"]
    assert sorted(w["fraction"].unique()) == [0.1, 0.25, 0.5, 1.0]
    at_start = w[(w["fraction"] == 0.1)]
    assert at_start["p_value"].isna().all()  # at 300 s every run still holds its first value 0.5: no difference to test
    final = w[(w["fraction"] == 1.0) & (w["objectives"] == "valid_error+latency_pixel3")].set_index(["optimizer_a", "optimizer_b"])
    assert final.loc[("linas", "nsga2"), "p_value"] == pytest.approx(0.03125)


def test_device_classes_table(tables) -> None:
    d = tables["device_classes"].set_index(["optimizer", "device_class"])
    assert set(d.index.get_level_values("device_class")) == {"phone", "edge"}
    assert d.loc[("linas", "phone"), "mean_hv_regret"] == pytest.approx(np.mean(FINALS["linas"]))
    assert d.loc[("linas", "edge"), "mean_hv_regret"] == pytest.approx(np.mean(FINALS["linas"]) + 0.001)
    assert d.loc[("nsga2", "phone"), "n_runs"] == 6 and d.loc[("nsga2", "phone"), "n_tasks"] == 1


def test_device_class_names() -> None:
    assert [mo.device_class(d) for d in ("titan_rtx_1", "1080ti_32", "gold_6226", "silver_4210r", "pixel3", "raspi4", "fpga")] == [
        "GPU",
        "GPU",
        "CPU",
        "CPU",
        "phone",
        "edge",
        "edge",
    ]
    assert mo.objective_device("latency_titanxp_256") == "titanxp_256" and mo.objective_device("latency") is None


def test_latency_saved_at_equal_accuracy(tables) -> None:
    t = tables["latency_saved"].set_index(["device", "optimizer"])
    # SO incumbents: codes 8 (13 %, 90 ms), 3 (16 %), 0 (10 %): the lower median by error is code 8.
    row = t.loc[("pixel3", "nsga2")]
    assert row["so_error"] == 13.0 and row["so_latency_ms"] == 90.0 and "code 8" in row["so_reference"]
    # nsga2 fronts per seed: {0,1} -> 60 ms, {0} -> 80 ms, {3,5} -> none (inf); 6 seeds: [60, 80, inf] twice -> median 80
    assert row["n_seeds"] == 6 and row["n_reached"] == 4
    assert row["mo_latency_ms"] == 80.0 and row["saved_ms"] == 10.0 and row["saved_pct"] == pytest.approx(100 / 9)
    linas = t.loc[("pixel3", "linas")]  # every front holds code 1 (12 %, 60 ms)
    assert linas["mo_latency_ms"] == 60.0 and linas["saved_ms"] == 30.0
    assert t.loc[("raspi4", "linas"), "saved_ms"] == 300.0 and t.loc[("raspi4", "linas"), "device_class"] == "edge"


def test_eaf_of_identical_fronts_is_the_front() -> None:
    front = np.array([[10.0, 80.0], [12.0, 60.0], [20.0, 20.0]])
    points = np.vstack([front, front, front])
    sets = np.repeat([0, 1, 2], 3)
    np.testing.assert_array_equal(mo.eaf_surface(points, sets), front)


def test_eaf_median_of_three_nested_fronts() -> None:
    """Seed 0 attains {10/80}, seed 1 adds 12/60, seed 2 adds 20/20: at least 2 of 3 attain the middle set."""
    a = np.array([[10.0, 80.0]])
    b = np.array([[10.0, 80.0], [12.0, 60.0]])
    c = np.array([[10.0, 80.0], [12.0, 60.0], [20.0, 20.0]])
    surface = mo.eaf_surface(np.vstack([a, b, c]), np.array([0, 1, 1, 2, 2, 2]))
    np.testing.assert_array_equal(surface, b)


def test_attainment_table_per_optimizer(tables) -> None:
    e = tables["eaf"]
    linas = e[(e["optimizer"] == "linas") & (e["objectives"] == "valid_error+latency_pixel3")]
    np.testing.assert_array_equal(linas[["f0", "f1"]].to_numpy(), [[10, 80], [12, 60], [14, 50], [20, 20]])


def test_analyse_writes_every_output_atomically(study, tmp_path: Path) -> None:
    runs, so = study
    out = tmp_path / "analysis"
    with stage_outputs(out):
        mo.analyse_mo(runs, out, so, FixtureTables())
    for stem in ("hv_regret_curves", "final_hv_regret", "cd_diagram", "pareto_nb201"):
        assert (out / f"{stem}.png").stat().st_size > 5000 and (out / f"{stem}.pdf").is_file()
        assert (out / f"{stem}.rst").read_text().strip()
    assert "hypervolume" in (out / "cd_diagram.rst").read_text() and "test regret" not in (out / "cd_diagram.rst").read_text()
    assert "single-objective" in (out / "pareto_nb201.rst").read_text()
    for stem in ("summary_table", "wilcoxon", "device_classes", "latency_saved"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.rst").is_file()
    assert not list(out.glob(".*"))
    # a non-MO run among the inputs: one error, the previous outputs removed (all or nothing), nothing half-written
    from nashpo.errors import InputError

    with pytest.raises(InputError, match="not a multi-objective run"), stage_outputs(out):
        mo.analyse_mo([*runs, so[0]], out, so, FixtureTables())
    assert not list(out.iterdir())


# ------------------------------------------------------------------ workflow (tasks with several objectives)

MO_OPTIMIZERS = {"mo_rs": {}, "nsga2": {"pop_size": 8}}
MO_ENTRY = {
    "family": "nb201",
    "tasks": ["cifar10"],
    "objectives": [["valid_error", "latency:pixel3"]],
    "budget": {"max_evals": 30},
    "seeds": 2,
}


def mo_config(**entry_changes) -> dict:
    """The tiny single-objective study on cifar10 plus one multi-objective entry (tasks[1])."""
    cfg = cifar10_only(TINY)
    cfg["optimizers"] |= yaml.safe_load(yaml.safe_dump(MO_OPTIMIZERS))
    cfg["tasks"].append(yaml.safe_load(yaml.safe_dump(MO_ENTRY)) | entry_changes)
    return cfg


def set_config(root: Path, change) -> None:
    cfg = yaml.safe_load((root / "config.yaml").read_text())
    change(cfg)
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))


@pytest.mark.slow
def test_dry_run_fans_out_and_refuses_a_bad_device(tmp_path: Path) -> None:
    cfg = mo_config(seeds=3)
    cfg["seeds_per_job"] = 2  # seeds 0-1 and 2-2: two chunks per optimizer
    cfg["tasks"][1]["objectives"].append(["valid_error", "latency:titan_rtx_1"])
    cfg["tasks"].append(
        {
            "family": "hpolib",
            "tasks": ["naval_propulsion"],
            "objectives": [["valid_loss", "model_size"]],
            "budget": {"max_evals": 20},
            "seeds": 3,
        }
    )
    root = checkout(tmp_path, cfg)
    res = snakemake(root, "-n", "-p", "--cores", "1")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    counts = planned(root)
    # (1 dataset x 2 devices + 1 FCNet task) x 2 optimizers x 2 chunks, the two single-objective cifar10
    # chunks (rs, re; their incumbents are drawn for contrast), their exports, then one job per analysis stage
    stages = {"aggregate": 1, "stats": 1, "figures": 1, "transfer": 1, "importance": 1, "nb201_table": 1}
    assert counts == {"prepare_data": 2, "search": 12 + 2, "to_deepcave": 12 + 2, **stages, "all": 1}
    for path in (
        "results/runs/workers_1/nb201/cifar10/valid_error+latency_titan_rtx_1/nsga2/seeds_2-2.json",
        "results/runs/workers_1/hpolib/naval_propulsion/valid_loss+model_size/mo_rs/seeds_0-1.json",
        "results/deepcave/workers_1/nb201/cifar10/valid_error+latency_pixel3/mo_rs/seeds_0-1.json",
    ):
        assert path in out
    command = next(line for line in out.splitlines() if "run-chunk" in line and "titan_rtx_1/nsga2/seeds_2-2.json" in line)
    assert "--objectives valid_error,latency:titan_rtx_1" in command and "--seeds 2" in command and "--max-evals 30" in command
    # one aggregate over every task: the single-objective cifar10 searches first (the contrast), then the others
    command = next(line for line in out.splitlines() if "analysis aggregate" in line)
    runs = command.split("--runs ")[1].split(" --out")[0].split()
    assert runs[:2] == [
        "results/runs/workers_1/nb201/cifar10/valid_error/re/seeds_0-1.json",
        "results/runs/workers_1/nb201/cifar10/valid_error/rs/seeds_0-1.json",
    ]
    assert len(runs) == 14 and "results/runs/workers_1/hpolib/naval_propulsion/valid_loss+model_size/mo_rs/seeds_2-2.json" in runs

    set_config(root, lambda c: c["tasks"][1]["objectives"].append(["valid_error", "latency:pixel9"]))
    res = snakemake(root, "-n")
    lines = config_lines(res)
    assert res.returncode != 0 and len(lines) == 1
    assert lines[0].startswith("config: tasks[1].objectives='latency:pixel9': unknown for nb201; choose from")
    set_config(root, lambda c: c["tasks"][1]["objectives"].pop())
    set_config(root, lambda c: c["tasks"][1].update(optimizers=["mo_rs", "rs"]))
    res = snakemake(root, "-n")
    assert res.returncode != 0 and config_lines(res) == [
        "config: tasks[1].optimizers='rs': is single-objective; the task has several objectives (nb201, objectives valid_error+latency:pixel3)"
    ]


@pytest.fixture(scope="module")
def mo_done(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = checkout(tmp_path_factory.mktemp("mo_wf"), mo_config())
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    return root


@pytest.mark.slow
def test_end_to_end_mo_part(mo_done: Path) -> None:
    results = mo_done / "results"
    runs = sorted(results.glob("runs/workers_1/nb201/cifar10/valid_error+latency_pixel3/*/*/run.json"))
    assert len(runs) == 4
    record = json.loads(runs[0].read_text())
    assert record["multi_objective"] and [o["column"] for o in record["objectives"]] == ["valid_error", "latency_pixel3"]
    assert len(list(results.glob("deepcave/workers_1/nb201/cifar10/*+*/*/[0-9]*"))) == 4
    aggregate, analysis, figures = (results / stage / "multi_objective" for stage in ("aggregate", "stats", "figures"))
    finals = pd.read_csv(aggregate / "finals.csv")
    assert sorted(finals["optimizer"].unique()) == ["mo_rs", "nsga2"] and len(finals) == 4
    assert (finals["n_trials"] == 30).all() and (finals["hv_regret_final"] >= 0).all()
    assert (finals["device_class"] == "phone").all()
    saved = pd.read_csv(analysis / "latency_saved.csv")
    assert set(saved["optimizer"]) == {"mo_rs", "nsga2"} and (saved["so_reference"].str.startswith(("rs", "re"))).all()
    for stem in ("hv_regret_curves", "final_hv_regret", "cd_diagram", "pareto_nb201"):
        assert (figures / f"{stem}.png").stat().st_size > 5000
    assert "single-objective" in (figures / "pareto_nb201.rst").read_text()


@pytest.mark.slow
def test_stages_write_the_same_tables_with_one_group_at_a_time(mo_done: Path, tmp_path: Path) -> None:
    """The study's stages ran their groups (NB201, summary, multi-objective) two at a time
    (threads capped by --cores 2); one at a time they write the same tables, value for value."""
    from nashpo.analysis.io import expand_runs
    from nashpo.analysis.study import aggregate_study, stats_study

    results = mo_done / "results"
    manifests = sorted(results.glob("runs/*/*/*/*/*/seeds_*.json"))
    cwd = os.getcwd()
    os.chdir(mo_done)  # manifests name their runs relative to the study's folder
    try:
        runs = expand_runs([str(m.relative_to(mo_done)) for m in manifests])
        aggregate_study(runs, tmp_path / "aggregate", results / "data", jobs=1)
        stats_study(tmp_path / "aggregate", tmp_path / "stats", jobs=1)
    finally:
        os.chdir(cwd)
    for stage in ("aggregate", "stats"):
        ours = sorted(p.relative_to(tmp_path / stage) for p in (tmp_path / stage).rglob("*.parquet"))
        assert ours and ours == sorted(p.relative_to(results / stage) for p in (results / stage).rglob("*.parquet"))
        for name in ours:
            a, b = (pd.read_parquet(folder / stage / name).drop(columns=["run_dir"], errors="ignore") for folder in (tmp_path, results))
            a, b = (df.sort_values(list(df.columns), ignore_index=True) for df in (a, b))  # the rule's run order may differ
            pd.testing.assert_frame_equal(a, b)
    assert json.loads((tmp_path / "aggregate" / "parts.json").read_text()) == {
        "nb201": True,
        "families": [],
        "summary": True,
        "multi_objective": True,
    }


@pytest.mark.slow
def test_adding_a_device_adds_only_its_jobs(mo_done: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(mo_done, root, symlinks=True)  # keeps mtimes
    assert planned(root) == {}
    stages = {"aggregate": 1, "stats": 1, "transfer": 1, "figures": 1, "all": 1}  # NB201's importance and table do not read them
    set_config(root, lambda c: c["tasks"][1]["objectives"].append(["valid_error", "latency:raspi4"]))
    # its search and export chunks (one chunk per optimizer), then the analysis stages
    assert planned(root) == {"search": 2, "to_deepcave": 2, **stages}
    set_config(root, lambda c: c["tasks"][1]["objectives"].pop())
    assert planned(root) == {}
    # one optimizer's hyperparameters: its chunk only
    set_config(root, lambda c: c["optimizers"]["nsga2"].update(pop_size=6))
    assert planned(root) == {"search": 1, "to_deepcave": 1, **stages}


@pytest.mark.slow
def test_report_has_the_multi_objective_section(mo_done: Path) -> None:
    res = snakemake(mo_done, "--report", "report.html")
    assert res.returncode == 0, res.stderr[-3000:]
    html = (mo_done / "report.html").read_text(errors="ignore")
    assert "Multi-objective" in html
    for name in ("hv_regret_curves.png", "pareto_nb201.png", "cd_diagram.png", "latency_saved.csv", "device_classes.csv"):
        assert name in html
