"""The Snakemake workflow on a tiny study: end to end, reruns only what changed, identical results
with 1 or 2 cores, kill-safety, --keep-going, cluster executor, SLURM profile, report.

The workflow files and sources are copied into a temporary checkout so that tests can edit them
(mtime changes) without touching the repository; jobs run the installed nashpo.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from nashpo.triallog import TIMING_COLUMNS, read_trials

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY = yaml.safe_load((REPO / "tests" / "workflow_config.yaml").read_text())
pytestmark = pytest.mark.slow


def checkout(tmp: Path, config: dict | None = None) -> Path:
    root = tmp / "study"
    root.mkdir()
    for item in ("Snakefile", "rules", "schemas", "profiles", "envs", "src"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / item)
    (root / "config.yaml").write_text(yaml.safe_dump(config or TINY))
    return root


def snakemake(root: Path, *args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    environment = dict(os.environ, NASHPO_NB201_MIRROR=str(REPO.parent / "shared" / "nb201"), **(env or {}))
    return subprocess.run([SNAKEMAKE, *args], cwd=root, capture_output=True, text=True, timeout=timeout, env=environment)


def planned(root: Path, *targets: str, env: dict | None = None) -> dict[str, int]:
    """Jobs a dry run would execute (for ``targets``, default all), by rule."""
    res = snakemake(root, "-n", "--cores", "1", *targets, env=env)
    text = res.stdout + res.stderr
    assert res.returncode == 0, text[-3000:]
    if "Nothing to be done" in text:
        return {}
    counts: dict[str, int] = {}
    for line in text[text.index("Job stats:") :].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def cifar10_only(cfg: dict) -> dict:
    """A copy of ``cfg`` whose NB201 entry searches cifar10 only."""
    out = yaml.safe_load(yaml.safe_dump(cfg))
    entry = out["tasks"][0]
    entry["tasks"] = ["cifar10"]
    entry["budget"] = entry["budget"]["per_task"]["cifar10"] if "per_task" in entry["budget"] else entry["budget"]
    return out


def config_lines(res: subprocess.CompletedProcess) -> list[str]:
    """The lines of a refused run (Snakemake's profile notice left out)."""
    return [
        line for line in (res.stdout + res.stderr).splitlines() if line.strip() and not line.startswith("Using workflow specific profile")
    ]


def logs(root: Path) -> dict[str, pd.DataFrame]:
    return {
        str(p.parent.relative_to(root)): read_trials(p.parent).drop(columns=list(TIMING_COLUMNS))
        for p in sorted((root / "results" / "runs").rglob("trials.parquet"))
    }


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = checkout(tmp_path_factory.mktemp("wf"))
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    return root


def test_end_to_end_outputs(done: Path) -> None:
    results = done / "results"
    assert len(list((results / "runs").glob("*/*/*/*/*/*/run.json"))) == 8
    assert len(list((results / "deepcave").glob("*/*/*/*/*/*/trials.csv"))) == 8
    for stem in ("anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance"):
        assert (results / "figures" / f"{stem}.png").stat().st_size > 5000
        assert (results / "figures" / f"{stem}.rst").read_text().strip()
    assert (results / "logs" / "search" / "workers_1" / "nb201" / "cifar10" / "valid_error" / "rs" / "seeds_0-1.log").is_file()
    manifest = json.loads((results / "runs" / "workers_1" / "nb201" / "cifar10" / "valid_error" / "rs" / "seeds_0-1.json").read_text())
    assert [r["seed"] for r in manifest["runs"]] == [0, 1]  # one job, one process, one folder per seed
    assert [r["run"] for r in manifest["runs"]] == [
        "results/runs/workers_1/nb201/cifar10/valid_error/rs/0",
        "results/runs/workers_1/nb201/cifar10/valid_error/rs/1",
    ]
    table = (results / "nb201_table" / "nb201_table.md").read_text()
    assert "| REA " in table and "| rs " in table and "Dong & Yang" in table
    wide = pd.read_csv(results / "nb201_table" / "nb201_table.csv")
    assert set(wide.loc[wide["source"] == "ours", "method"]) == {"rs", "re"}
    assert (wide.loc[wide["source"] == "ours", "n"] == 2).all()
    bench = pd.read_csv(next((results / "benchmarks" / "search").rglob("*.tsv")), sep="\t")
    assert bench["max_rss"].iloc[0] > 0


def test_second_run_does_nothing_quickly(done: Path) -> None:
    t = time.perf_counter()
    res = snakemake(done, "--cores", "2")
    elapsed = time.perf_counter() - t
    assert "Nothing to be done" in res.stdout + res.stderr
    print(f"no-op rerun: {elapsed:.2f} s")


def _edit_config(root: Path, change) -> None:
    cfg = yaml.safe_load((root / "config.yaml").read_text())
    change(cfg)
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))


def edit(path: Path) -> None:
    """A content change (Snakemake ignores a bare mtime change when the checksum is unchanged)."""
    path.write_text(path.read_text() + "\n# edited by the workflow test\n")


def test_rerun_only_what_changed(done: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(done, root, symlinks=True)  # keeps mtimes
    downstream = {"aggregate": 1, "stats": 1, "transfer": 1, "importance": 1, "figures": 1, "nb201_table": 1, "all": 1}
    # one optimizer's hyperparameters: only its chunks (one per dataset) rerun
    _edit_config(root, lambda c: c["optimizers"]["re"].update(population_size=6))
    assert planned(root) == {"search": 2, "to_deepcave": 2, **downstream}
    _edit_config(root, lambda c: c["optimizers"]["re"].update(population_size=8))
    assert planned(root) == {}

    # seeds_per_job 2: seed 2 starts a new chunk (2-2); chunk 0-1 is untouched
    no_importance = {"aggregate": 1, "stats": 1, "transfer": 1, "figures": 1, "nb201_table": 1, "all": 1}
    _edit_config(root, lambda c: c["tasks"][0].update(seeds=3))
    assert planned(root) == {"search": 4, "to_deepcave": 4, **no_importance}
    assert snakemake(root, "--cores", "2").returncode == 0
    runs = root / "results" / "runs" / "workers_1" / "nb201" / "cifar10" / "valid_error" / "rs"
    stamps = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    # seed 3 joins chunk 2-2, which becomes 2-3: only that chunk reruns
    _edit_config(root, lambda c: c["tasks"][0].update(seeds={"start": 0, "count": 4}))  # the same seeds 0..3 as seeds: 4
    assert planned(root) == {"search": 4, "to_deepcave": 4, **no_importance}
    assert snakemake(root, "--cores", "2").returncode == 0
    after = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    assert after["0"] == stamps["0"] and after["1"] == stamps["1"] and after["seeds_0-1.json"] == stamps["seeds_0-1.json"]
    assert after["2"] != stamps["2"] and "seeds_2-3.json" in after
    _edit_config(root, lambda c: c["tasks"][0].update(seeds=2))
    assert planned(root) == no_importance
    assert snakemake(root, "--cores", "2").returncode == 0

    edit(root / "src" / "nashpo" / "optimizers" / "rs.py")
    assert planned(root) == {"search": 2, "to_deepcave": 2, **downstream}
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-2000:]
    # a module adapters share is an input of theirs only: DEHB and BOHB use rungs.py, rs and re do not
    edit(root / "src" / "nashpo" / "optimizers" / "rungs.py")
    assert planned(root) == {}

    edit(root / "src" / "nashpo" / "analysis" / "figures.py")
    assert planned(root) == {"figures": 1, "all": 1}


def test_adding_a_worker_count_runs_only_its_chunks(done: Path, tmp_path: Path) -> None:
    """`workers: [1, 4]` fans the searches out like seeds: K = 4 adds its chunks and their exports under
    workers_4/ and the analysis stages that read every run; the K = 1 chunks, NB201's importance and
    table (one-worker runs only) are untouched. re stays at K = 1 (`workers_by_optimizer`)."""
    import shlex

    root = tmp_path / "study"
    shutil.copytree(done, root, symlinks=True)  # keeps mtimes
    one = root / "results" / "runs" / "workers_1"
    before = {p: p.stat().st_mtime_ns for p in sorted(one.rglob("*")) if p.is_file()}
    _edit_config(root, lambda c: c["tasks"][0].update(workers=[1, 4], workers_by_optimizer={"re": [1]}))
    stages = {"aggregate": 1, "stats": 1, "transfer": 1, "figures": 1, "all": 1}
    assert planned(root) == {"search": 2, "to_deepcave": 2, **stages}  # rs on cifar10 and cifar100
    res = snakemake(root, "-n", "-p", "--cores", "1")
    commands = [shlex.split(line.split("Shell command: ", 1)[1]) for line in res.stdout.splitlines() if "Shell command: " in line]
    chunks = [c for c in commands if "run-chunk" in c]
    assert len(chunks) == 2 and all(c[c.index("--workers") + 1] == "4" and c[c.index("--optimizer") + 1] == "rs" for c in chunks)
    assert sorted(c[c.index("--manifest") + 1] for c in chunks) == [
        f"results/runs/workers_4/nb201/{task}/valid_error/rs/seeds_0-1.json" for task in ("cifar10", "cifar100")
    ]
    exports = [f"results/deepcave/workers_4/nb201/{task}/valid_error/rs/seeds_0-1.json" for task in ("cifar10", "cifar100")]
    res = snakemake(root, "--cores", "2", *exports)  # the search and export targets (the analysis of K > 1 is its own stage)
    assert res.returncode == 0, res.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in sorted(one.rglob("*")) if p.is_file()} == before  # K = 1: not rerun
    assert planned(root, *exports) == {}  # a no-op rerun of those targets does nothing
    assert planned(root) == stages
    four = root / "results" / "runs" / "workers_4" / "nb201"
    for task in ("cifar10", "cifar100"):
        for seed in (0, 1):
            record = json.loads((four / task / "valid_error" / "rs" / str(seed) / "run.json").read_text())
            trials = read_trials(four / task / "valid_error" / "rs" / str(seed))
            single = read_trials(one / "nb201" / task / "valid_error" / "rs" / str(seed))
            assert record["workers"] == 4 and set(trials["worker"]) == {0, 1, 2, 3}
            assert (len(trials) == 20) if task == "cifar10" else (len(trials) > len(single))  # max_evals 20; 2,000 simulated s
            assert (
                root / "results" / "deepcave" / "workers_4" / "nb201" / task / "valid_error" / "rs" / str(seed) / "trials.csv"
            ).is_file()
    assert not (root / "results" / "runs" / "workers_4" / "nb201" / "cifar10" / "valid_error" / "re").exists()


def test_an_optimizer_without_parallel_support_is_refused_for_k_above_1(tmp_path: Path) -> None:
    """A plug-in without a `parallel` declaration (one worker only) cannot get K > 1: one line naming the
    field and the way out; with workers_by_optimizer {mine: [1]} the study plans."""
    cfg = cifar10_only(TINY)
    cfg["optimizers"] = {"rs": {}, "mine": {"class": "nashpo_testopt.greedy:GreedyLocalSearch"}}
    cfg["tasks"][0]["workers"] = [1, 4]
    root = checkout(tmp_path, cfg)
    shutil.copytree(REPO / "tests" / "plugins" / "nashpo_testopt", root / "nashpo_testopt")
    res = snakemake(root, "-n", "--cores", "1")
    assert res.returncode != 0 and config_lines(res) == [
        "config: tasks[0].workers=[1, 4]: mine declares parallel = 'none' (one worker only); give it workers_by_optimizer: {mine: [1]}"
    ]
    assert not (root / "results").exists()
    _edit_config(root, lambda c: c["tasks"][0].update(workers_by_optimizer={"mine": [1]}))
    assert planned(root)["search"] == 3  # rs at K = 1 and 4, mine at K = 1
    _edit_config(root, lambda c: c["tasks"][0].update(workers_by_optimizer={"mine": [1, 4]}))
    res = snakemake(root, "-n", "--cores", "1")
    assert res.returncode != 0 and config_lines(res) == [
        "config: tasks[0].workers_by_optimizer.mine=[1, 4]: mine declares parallel = 'none' (one worker only); give it workers_by_optimizer: {mine: [1]}"
    ]


def test_worker_cap_is_the_runners(tmp_path: Path) -> None:
    from nashpo.runner.workers import MAX_WORKERS

    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    assert schema["$defs"]["workers"]["items"]["maximum"] == MAX_WORKERS


def test_cores_1_and_2_give_identical_results(done: Path, tmp_path: Path) -> None:
    root = checkout(tmp_path)
    assert snakemake(root, "--cores", "1").returncode == 0
    a, b = logs(done), logs(root)
    assert a.keys() == b.keys()
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])
    for name in ("per_run_final.csv", "summary.csv", "curves_time.csv"):
        one = pd.read_csv(root / "results" / "aggregate" / name).drop(columns=["run_dir"], errors="ignore")
        two = pd.read_csv(done / "results" / "aggregate" / name).drop(columns=["run_dir"], errors="ignore")
        pd.testing.assert_frame_equal(one, two)


def test_sigkill_then_rerun_completes_identically(done: Path, tmp_path: Path) -> None:
    root = checkout(tmp_path)
    env = dict(os.environ, NASHPO_NB201_MIRROR=str(REPO.parent / "shared" / "nb201"))
    proc = subprocess.Popen(
        [SNAKEMAKE, "--cores", "2"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 300
    while time.time() < deadline and len(list((root / "results" / "runs").glob("*/*/*/*/*/*/run.json"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list((root / "results" / "runs").glob("*/*/*/*/*/*/run.json"))) < 8  # killed mid-run
    assert snakemake(root, "--unlock").returncode == 0  # a SIGKILL leaves Snakemake's lock behind
    res = snakemake(root, "--cores", "2")  # the default profile sets rerun-incomplete
    assert res.returncode == 0, res.stderr[-3000:]
    assert not list((root / "results").rglob(".*.tmp*"))
    a, b = logs(done), logs(root)
    assert a.keys() == b.keys()
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])
    pd.testing.assert_frame_equal(
        pd.read_csv(root / "results" / "aggregate" / "summary.csv"), pd.read_csv(done / "results" / "aggregate" / "summary.csv")
    )


def test_sigkill_during_export_stage_then_rerun_completes_identically(done: Path, tmp_path: Path) -> None:
    root = checkout(tmp_path)
    env = dict(os.environ, NASHPO_NB201_MIRROR=str(REPO.parent / "shared" / "nb201"))
    proc = subprocess.Popen(
        [SNAKEMAKE, "--cores", "2"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    exports = root / "results" / "deepcave"
    deadline = time.time() + 300
    while time.time() < deadline and not (writing := list(exports.glob("*/*/*/*/*/.*.tmp*"))):  # an export is being written
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert writing and len(list(exports.glob("*/*/*/*/*/*/trials.csv"))) < 8  # killed mid-export
    assert snakemake(root, "--unlock").returncode == 0
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    assert not list((root / "results").rglob(".*.tmp*"))
    ours = {p.relative_to(root): p.read_bytes() for p in sorted(exports.rglob("*")) if p.is_file()}
    ref = {p.relative_to(done): p.read_bytes() for p in sorted((done / "results" / "deepcave").rglob("*")) if p.is_file()}
    assert ours == ref


def test_keep_going_with_a_broken_optimizer(tmp_path: Path) -> None:
    cfg = cifar10_only(TINY)
    cfg["optimizers"]["smac_hb"] = {"eta": 3}  # valid on its own; fails in the job: both rungs map to 200 epochs
    root = checkout(tmp_path, cfg)
    res = snakemake(root, "--cores", "2", "--keep-going")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    runs = root / "results" / "runs" / "workers_1" / "nb201" / "cifar10" / "valid_error"
    assert len(list((runs / "rs").glob("*/run.json"))) == 2
    assert not (runs / "smac_hb" / "0").exists()
    assert "Error in rule search" in out and "smac_hb/seeds_0-1.json" in out
    assert (
        "smac_hb.eta=3: all Hyperband rungs map to [200]"
        in (
            root / "results" / "logs" / "search" / "workers_1" / "nb201" / "cifar10" / "valid_error" / "smac_hb" / "seeds_0-1.log"
        ).read_text()
    )


def test_generic_cluster_executor_end_to_end(tmp_path: Path) -> None:
    root = checkout(tmp_path, cifar10_only(TINY))
    shutil.copy2(REPO / "tests" / "local_submit.sh", root / "local_submit.sh")
    res = snakemake(
        root, "--executor", "cluster-generic", "--cluster-generic-submit-cmd", "./local_submit.sh", "--jobs", "2", "--latency-wait", "10"
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert len(list((root / "results" / "runs").glob("*/*/*/*/*/*/run.json"))) == 4
    assert (root / "results" / "figures" / "cd_diagram.png").is_file()


def test_slurm_profile_dry_run(done: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(done, root, symlinks=True)
    _edit_config(root, lambda c: c["tasks"][0].update(seeds=3))
    res = snakemake(root, "-n", "--profile", "profiles/slurm")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "search" in res.stdout + res.stderr


def test_report_has_every_figure(done: Path) -> None:
    res = snakemake(done, "--report", "report.html")
    assert res.returncode == 0, res.stderr[-3000:]
    html = (done / "report.html").read_text(errors="ignore")
    for stem in ("anytime_time", "cd_diagram", "transfer_heatmap", "edge_importance"):
        assert f"{stem}.png" in html
    assert "nb201_table.csv" in html


# NB201 cifar10 at K = 1 (4 seeds) and K = 4 (the first 3: seeds_by_workers), and a 3-objective task whose
# attainment surfaces and Pareto panel show the error against the phone's latency (attainment_pair).
WORKER_STUDY = {
    "results_dir": "results",
    "seeds_per_job": 2,
    "tasks": [
        {
            "family": "nb201",
            "tasks": ["cifar10"],
            "protocol": "proxy",
            "budget": {"max_sim_seconds": 3000},
            "seeds": 4,
            "workers": [1, 4],
            "seeds_by_workers": {4: 3},
        },
        {
            "family": "nb201",
            "tasks": ["cifar10"],
            "protocol": "proxy",
            "objectives": [["valid_error", "params", "latency:pixel3"]],
            "attainment_pair": ["valid_error", "latency:pixel3"],
            "budget": {"max_evals": 20},
            "seeds": 2,
        },
    ],
    "optimizers": {"rs": {}, "re": {"population_size": 8, "sample_size": 3}, "mo_rs": {}},
    "importance_seeds": 1,
}


def test_a_worker_study_through_the_report(tmp_path: Path) -> None:
    """A study with K = 4 runs all the way: the first 3 seeds at K = 4, the parallel group's speed-up,
    tests and rank correlation, its report section; the chosen attainment pair in the MO tables and
    Pareto caption, and a changed pair reruns only the analysis."""
    root = checkout(tmp_path, WORKER_STUDY)
    res = snakemake(root, "--cores", "2", timeout=1500)
    assert res.returncode == 0, res.stderr[-3000:]
    results = root / "results"
    four = results / "runs" / "workers_4" / "nb201" / "cifar10" / "valid_error"
    for optimizer in ("rs", "re"):
        assert sorted(p.name for p in (four / optimizer).iterdir() if p.is_dir()) == ["0", "1", "2"]
        assert sorted(p.name for p in (four / optimizer).glob("seeds_*.json")) == ["seeds_0-1.json", "seeds_2-2.json"]
        assert json.loads((four / optimizer / "seeds_2-2.json").read_text())["seeds"] == [2]
    speedup = pd.read_csv(results / "stats" / "parallel" / "speedup.csv")
    assert sorted(zip(speedup["optimizer"], speedup["workers"], speedup["n_seeds"])) == [
        ("re", 1, 4),
        ("re", 4, 3),
        ("rs", 1, 4),
        ("rs", 4, 3),
    ]
    k1 = speedup[speedup["workers"] == 1]
    assert (k1["speedup"] == 1.0).all()
    rs4 = speedup[(speedup["optimizer"] == "rs") & (speedup["workers"] == 4)].iloc[0]
    assert rs4["time_median"] < k1[k1["optimizer"] == "rs"].iloc[0]["time_median"]  # four workers reach rs's target sooner
    correlation = pd.read_csv(results / "stats" / "parallel" / "rank_correlation.csv")
    assert list(correlation["workers_b"]) == [4] and correlation["n_optimizers"].tolist() == [2]
    res = snakemake(root, "--report", "report.html")
    assert res.returncode == 0, res.stderr[-3000:]
    html = (root / "report.html").read_text(errors="ignore")
    assert "Parallel workers" in html
    for name in ("speedup.png", "anytime_time.png", "speedup.csv", "wilcoxon.csv", "rank_correlation.csv"):
        assert name in html, name
    pairs = pd.read_csv(results / "aggregate" / "multi_objective" / "eaf_pairs.csv")
    assert pairs[["first_index", "second_index", "first_objective", "second_objective"]].values.tolist() == [
        [0, 2, "valid_error", "latency_pixel3"]
    ]
    eaf = pd.read_csv(results / "aggregate" / "multi_objective" / "eaf.csv")
    assert len(eaf) and eaf["f1"].isna().all() and eaf[["f0", "f2"]].notna().all().all()
    caption = " ".join((results / "figures" / "multi_objective" / "pareto_nb201.rst").read_text().split())
    assert "its attainment pair (attainment_pair in the config" in caption
    _edit_config(root, lambda c: c["tasks"][1].update(attainment_pair=["params", "latency:pixel3"]))
    rerun = planned(root)
    assert "aggregate" in rerun and not {"search", "to_deepcave", "prepare_data"} & set(rerun), rerun


def test_lint_and_schema_errors(tmp_path: Path) -> None:
    lint = subprocess.run([SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True)
    assert lint.returncode == 0 and "Lints for" not in lint.stdout + lint.stderr
    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["tasks"][0]["protocol"] = "quick"
    root = checkout(tmp_path, bad)
    res = snakemake(root, "-n")
    assert res.returncode != 0
    assert config_lines(res) == ["config: tasks[0].protocol=\"quick\": is not one of ['proxy', 'full']"]


def test_chunk_rules_quote_config_values(tmp_path: Path) -> None:
    """Paths with spaces and hyperparameters with shell characters reach the search, export and table
    commands as single quoted words (dry run, printed shell commands)."""
    import shlex

    cfg = cifar10_only(TINY)
    cfg["results_dir"] = "my results"
    cfg["optimizers"] = {"re": {"population_size": 8, "tournament": "with_replacement; touch hacked"}}
    root = checkout(tmp_path, cfg)
    res = snakemake(root, "-n", "-p", "--cores", "1", "my results/nb201_table/nb201_table.csv")
    assert res.returncode != 0 and "config: optimizers.re.tournament='with_replacement; touch hacked': unknown" in res.stderr
    assert not (root / "hacked").exists()  # refused before any job: typed hyperparameters never carry shell text

    _edit_config(root, lambda c: c["optimizers"]["re"].update(tournament="with_replacement"))
    res = snakemake(root, "-n", "-p", "--cores", "1", "my results/nb201_table/nb201_table.csv")
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [line.strip() for line in (res.stdout + res.stderr).splitlines() if "run-chunk" in line or "nb201-table" in line]
    assert lines, res.stdout[-3000:]
    for line in lines:
        words = shlex.split(line)
        assert "my results/runs/workers_1/nb201/cifar10/valid_error/re/seeds_0-1.json" in words or "my results/nb201_table" in words
    chunk = shlex.split(next(line for line in lines if "run-chunk" in line))
    hp = chunk[chunk.index("--hp") + 1]
    assert yaml.safe_load(hp) == {"population_size": 8, "tournament": "with_replacement"}  # the JSON word arrives whole


def test_config_checks_cached_until_config_or_code_changes(tmp_path: Path) -> None:
    """The DAG-time checks import every optimizer class (ConfigSpace, SMAC: ~2 s); a no-op rerun reuses their result."""
    root = checkout(tmp_path)
    env = {"PYTHONPROFILEIMPORTTIME": "1"}
    first = snakemake(root, "-n", "--cores", "1", env=env)
    assert first.returncode == 0, first.stderr
    marker = re.compile(r"\| +nashpo\.optimizers\.base$", re.M)  # imported by any optimizer class
    assert marker.search(first.stderr)
    stamp = json.loads((root / ".snakemake" / "nashpo" / "config-check.json").read_text())
    assert stamp["traits"]["optimizers"]["rs"] == {
        "multi_objective": False,
        "multi_fidelity": False,
        "max_objectives": None,
        "parallel": "async",
        "adapter": ["src/nashpo/optimizers/rs.py"],
    }
    assert stamp["traits"]["families"]["nb201"]["sources"] == ["src/nashpo/benchmarks/nb201.py"]
    again = snakemake(root, "-n", "--cores", "1", env=env)
    assert again.returncode == 0 and not marker.search(again.stderr) and not re.search(r"\| +ConfigSpace$", again.stderr, re.M)
    edit(root / "src" / "nashpo" / "optimizers" / "rs.py")  # any package source change checks again
    assert marker.search(snakemake(root, "-n", "--cores", "1", env=env).stderr)
    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["optimizers"]["re"] = {"population_size": 0}  # a changed config is checked, stamp or not
    (root / "config.yaml").write_text(yaml.safe_dump(bad))
    res = snakemake(root, "-n", "--cores", "1")
    assert res.returncode != 0 and "optimizers.re.population_size=0" in res.stdout + res.stderr


# ------------------------------------------------------------------ one study over tasks: what a change reruns

# NB201 cifar10 and FCNet naval single-objective, FCNet naval against model size: every kind of task.
MIXED = {
    "results_dir": "results",
    "seeds_per_job": 2,
    "tasks": [
        {"family": "nb201", "tasks": ["cifar10"], "protocol": "proxy", "budget": {"max_evals": 20}, "seeds": 2},
        {"family": "hpolib", "tasks": ["naval_propulsion"], "budget": {"max_evals": 20}, "seeds": 2},
        {
            "family": "hpolib",
            "tasks": ["naval_propulsion"],
            "objectives": [["valid_loss", "model_size"]],
            "budget": {"max_evals": 20},
            "seeds": 2,
        },
    ],
    "optimizers": {"rs": {}, "re": {"population_size": 8, "sample_size": 3}, "nsga2": {"pop_size": 8}},
    "importance_seeds": 1,
}
# the analysis stages over every task (transfer reads the aggregate); NB201's exports and cifar10 runs add these
STAGES = {"aggregate": 1, "stats": 1, "transfer": 1, "figures": 1}
NB201_ONLY = {"importance": 1, "nb201_table": 1}


@pytest.fixture(scope="module")
def mixed_done(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = checkout(tmp_path_factory.mktemp("mixed"), MIXED)
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    return root


def test_mixed_study_runs_every_task_through_the_one_pipeline(mixed_done: Path) -> None:
    runs = mixed_done / "results" / "runs"
    assert sorted(str(p.parent.parent.relative_to(runs)) for p in runs.glob("*/*/*/*/*/0/run.json")) == [
        "workers_1/hpolib/naval_propulsion/valid_loss+model_size/nsga2",
        "workers_1/hpolib/naval_propulsion/valid_loss/re",
        "workers_1/hpolib/naval_propulsion/valid_loss/rs",
        "workers_1/nb201/cifar10/valid_error/re",
        "workers_1/nb201/cifar10/valid_error/rs",
    ]
    assert len(list((mixed_done / "results" / "deepcave").glob("*/*/*/*/*/[0-9]*/trials.csv"))) == 10
    for path in (
        "stats/summary/summary_table.csv",
        "stats/hpolib/wilcoxon.csv",
        "aggregate/multi_objective/finals.csv",
        "stats/multi_objective/summary_table.csv",
        "figures/multi_objective/pareto_hpolib.png",
        "figures/hpolib/anytime_time.png",
        "figures/summary/cd_diagram.png",
        "stats/wilcoxon.parquet",
    ):
        assert (mixed_done / "results" / path).is_file(), path
    res = snakemake(mixed_done, "-n", "--quiet", "rules", "--forceall", "--cores", "1")
    ran = set(res.stdout.split())
    assert {"search", "to_deepcave"} <= ran and not {r for r in ran if r.startswith(("family_search", "mo_search", "family_to", "mo_to"))}


def test_one_optimizers_hyperparameters_rerun_its_chunks_on_every_task(mixed_done: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(mixed_done, root, symlinks=True)  # keeps mtimes
    assert planned(root) == {}
    # re searches nb201/cifar10 and hpolib/naval (single objective): its two chunks, every analysis reading them
    _edit_config(root, lambda c: c["optimizers"]["re"].update(population_size=6))
    assert planned(root) == {"search": 2, "to_deepcave": 2, **STAGES, **NB201_ONLY, "all": 1}
    _edit_config(root, lambda c: c["optimizers"]["re"].update(population_size=8))
    assert planned(root) == {}
    # nsga2 searches the multi-objective task only: its chunk and the analysis stages
    _edit_config(root, lambda c: c["optimizers"]["nsga2"].update(pop_size=6))
    assert planned(root) == {"search": 1, "to_deepcave": 1, **STAGES, "all": 1}


def test_adding_a_task_runs_only_its_jobs_and_the_summaries(mixed_done: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(mixed_done, root, symlinks=True)
    _edit_config(root, lambda c: c["tasks"][1]["tasks"].append("parkinsons_telemonitoring"))
    # its table, one chunk per single-objective optimizer, their exports; the analysis stages (no NB201 job)
    assert planned(root) == {"prepare_data": 1, "search": 2, "to_deepcave": 2, **STAGES, "all": 1}


def test_editing_one_familys_file_reruns_only_that_familys_jobs(mixed_done: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(mixed_done, root, symlinks=True)
    edit(root / "src" / "nashpo" / "benchmarks" / "fcnet.py")
    # hpolib: its table (the grid it is built on), two single-objective chunks and the multi-objective one; no NB201 job
    assert planned(root) == {"prepare_data": 1, "search": 3, "to_deepcave": 3, **STAGES, "all": 1}
    assert snakemake(root, "--cores", "2").returncode == 0
    edit(root / "src" / "nashpo" / "benchmarks" / "grid.py")  # shared by the grid families (FCNet, MLP): hpolib only here
    assert planned(root) == {"prepare_data": 1, "search": 3, "to_deepcave": 3, **STAGES, "all": 1}
    assert snakemake(root, "--cores", "2").returncode == 0
    edit(root / "src" / "nashpo" / "benchmarks" / "nb201.py")
    # nb201: its chunks, their exports, the analysis stages, NB201's importance and table
    assert planned(root) == {"search": 2, "to_deepcave": 2, **STAGES, **NB201_ONLY, "all": 1}


# ------------------------------------------------------------------ a new family: one file plus its registration

# The fixture family tests/plugins/toygrid.py (made-up values): two single-objective tasks and one
# against size. Its optima are known from its formula: bowl 10.125, ridge 8.125 (seed means).
TOY = {
    "results_dir": "results",
    "seeds_per_job": 2,
    "tasks": [
        {"family": "toygrid", "tasks": ["bowl", "ridge"], "budget": {"max_sim_seconds": 1200}, "seeds": 2},
        {"family": "toygrid", "tasks": ["bowl"], "objectives": [["valid_error", "size"]], "budget": {"max_evals": 16}, "seeds": 2},
    ],
    "optimizers": {"rs": {}, "re": {"population_size": 6, "sample_size": 3}, "nsga2": {"pop_size": 6}},
}
TOY_OPTIMUM = {"bowl": 10.125, "ridge": 8.125}


def add_toy_family(root: Path) -> dict:
    """The checkout gets the fixture as src/nashpo/benchmarks/toygrid.py and one line in FAMILIES;
    its jobs import the checkout's package."""
    shutil.copy2(REPO / "tests" / "plugins" / "toygrid.py", root / "src" / "nashpo" / "benchmarks" / "toygrid.py")
    registry = root / "src" / "nashpo" / "benchmarks" / "__init__.py"
    text = registry.read_text()
    line = '    "hpobench": "nashpo.benchmarks.hpobench_mlp:MLPFamily",\n'
    assert line in text
    registry.write_text(text.replace(line, line + '    "toygrid": "nashpo.benchmarks.toygrid:ToyGridFamily",\n'))
    return {"PYTHONPATH": str(root / "src")}


def test_a_new_family_is_one_file_and_its_registration(tmp_path: Path) -> None:
    from nashpo.export.deepcave import load_export
    from nashpo.export.plugins import run_plugin

    root = checkout(tmp_path, TOY)
    env = add_toy_family(root)
    res = snakemake(root, "--cores", "2", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    results = root / "results"
    assert sorted(str(p.parent.relative_to(results / "runs")) for p in (results / "runs").glob("*/*/*/*/*/*/run.json")) == sorted(
        [
            f"workers_1/toygrid/{task}/{objectives}/{o}/{seed}"
            for task, objectives, opts in (
                ("bowl", "valid_error", ("re", "rs")),
                ("bowl", "valid_error+size", ("nsga2",)),
                ("ridge", "valid_error", ("re", "rs")),
            )
            for o in opts
            for seed in (0, 1)
        ]
    )
    assert (results / "data" / "toygrid_bowl.parquet").is_file() and (results / "data" / "toygrid_ridge.parquet").is_file()
    # every search kept the budget, and its final regret is its best value seen minus the formula's optimum
    finals = pd.read_parquet(results / "aggregate" / "toygrid" / "per_run_final.parquet")
    assert len(finals) == 8
    for row in finals.itertuples():
        trials = read_trials(results / "runs" / "workers_1" / "toygrid" / row.task / "valid_error" / row.optimizer / str(row.seed))
        assert trials["sim_time"].iloc[-1] <= 1200
        assert row.valid_regret == pytest.approx(trials["objective"].min() - TOY_OPTIMUM[row.task])
    for path in (
        "stats/toygrid/wilcoxon.csv",
        "figures/toygrid/anytime_time.png",
        "stats/summary/summary_table.csv",
        "stats/multi_objective/summary_table.csv",
    ):
        assert (results / path).is_file(), path
    # DeepCAVE opens the exports; its plugins run on them
    run = load_export(results / "deepcave" / "workers_1" / "toygrid" / "ridge" / "valid_error" / "re" / "0")
    trials = read_trials(results / "runs" / "workers_1" / "toygrid" / "ridge" / "valid_error" / "re" / "0")
    assert len(run.history) == trials["code"].nunique()
    assert sorted(run.configspace.keys()) == ["activation", "depth", "width"]
    assert run.meta["benchmark"] == "toygrid" and run.meta["dataset"] == "ridge"
    curve = run_plugin("cost_over_time", run)
    assert curve.outputs
    mo = load_export(results / "deepcave" / "workers_1" / "toygrid" / "bowl" / "valid_error+size" / "nsga2" / "1")
    assert [o.name for o in mo.get_objectives()][:2] == ["valid_error", "size"]
    # reruns: nothing; editing the family's file reruns its tables, searches, exports and the analysis
    assert planned(root, env=env) == {}
    edit(root / "src" / "nashpo" / "benchmarks" / "toygrid.py")
    assert planned(root, env=env) == {"prepare_data": 2, "search": 5, "to_deepcave": 5, "aggregate": 1, "stats": 1, "figures": 1, "all": 1}


# ------------------------------------------------------------------ config errors: one line, nothing run


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (lambda c: c["tasks"][0].update(seeds=-1), "config: tasks[0].seeds=-1: is less than the minimum of 1"),
        (lambda c: c["tasks"][0].update(seeds={"start": 0, "count": -1}), "config: tasks[0].seeds.count=-1: is less than the minimum of 1"),
        (
            lambda c: c["tasks"][0].update(colour="red"),
            'config: tasks[0].colour="red": unknown key; allowed: attainment_pair, budget, family, objectives,',
        ),
        (lambda c: c.update(colour="red"), 'config: colour="red": unknown key; allowed: allow_missing_runs,'),
        (lambda c: c["tasks"][0].update(family="nope"), "config: tasks[0].family='nope': unknown; choose from nb201, hpolib, hpobench"),
        (lambda c: c["tasks"][0].update(tasks=["cifar11"]), "config: tasks[0].tasks='cifar11': unknown; choose from cifar10"),
        (lambda c: c["tasks"][0].update(optimizers=["rs", "tpe"]), "config: tasks[0].optimizers='tpe': is not in the top-level optimizers"),
        (
            lambda c: c["tasks"][0].update(objectives=[["valid_error", "latency:pixel3"]], optimizers=["rs"]),
            "config: tasks[0].optimizers='rs': is single-objective; the task has several objectives",
        ),
        (lambda c: c["tasks"][0]["budget"]["per_task"].pop("cifar100"), "config: tasks[0].budget.per_task.cifar100=None: is missing"),
        (lambda c: c["tasks"][0].update(workers=[1, 0]), "config: tasks[0].workers[1]=0: is less than the minimum of 1"),
        (lambda c: c["tasks"][0].update(workers=[1, -4]), "config: tasks[0].workers[1]=-4: is less than the minimum of 1"),
        (lambda c: c["tasks"][0].update(workers=[1, 2.5]), "config: tasks[0].workers[1]=2.5: is not of type 'integer'"),
        (lambda c: c["tasks"][0].update(workers=[1, 4.0]), "config: tasks[0].workers[1]=4.0: must be an integer in 1..256"),
        (lambda c: c["tasks"][0].update(workers=[1, 257]), "config: tasks[0].workers[1]=257: is greater than the maximum of 256"),
        (lambda c: c["tasks"][0].update(workers=[1, 4, 4]), "config: tasks[0].workers=[1, 4, 4]: has non-unique elements"),
        (lambda c: c["tasks"][0].update(workers=4), "config: tasks[0].workers=4: is not of type 'array'"),
        (lambda c: c["tasks"][0].update(workers=[4, 16]), "config: tasks[0].workers=[4, 16]: must include 1 (the one-worker runs"),
        (
            lambda c: c["tasks"][0].update(workers=[1, 4], workers_by_optimizer={"tpe": [1]}),
            "config: tasks[0].workers_by_optimizer.tpe=[1]: is not in the top-level optimizers (re, rs)",
        ),
        (
            lambda c: c["tasks"][0].update(workers=[1, 4], workers_by_optimizer={"re": [1, 16]}),
            "config: tasks[0].workers_by_optimizer.re=[1, 16]: 16 is not in the entry's workers [1, 4]",
        ),
        (
            lambda c: c["tasks"].append(
                {"family": "hpolib", "tasks": ["naval_propulsion"], "protocol": "proxy", "budget": {"max_evals": 5}, "seeds": 2}
            ),
            "config: tasks[1].protocol='proxy': hpolib has no fidelities",
        ),
        (
            lambda c: c["tasks"][0].update(workers=[1, 4], seeds_by_workers={16: 1}),
            "config: tasks[0].seeds_by_workers.16=1: 16 is not one of the entry's workers [1, 4]",
        ),
        (
            lambda c: c["tasks"][0].update(workers=[1, 4], seeds_by_workers={4: 3}),
            "config: tasks[0].seeds_by_workers.4=3: exceeds the entry's 2 seeds",
        ),
        (
            lambda c: c["tasks"][0].update(workers=[1, 4], seeds_by_workers={1: 1}),
            "config: tasks[0].seeds_by_workers.1=1: the one-worker runs always have the entry's seeds",
        ),
        (
            lambda c: c["tasks"][0].update(attainment_pair=["valid_error", "params"]),
            "config: tasks[0].attainment_pair=['valid_error', 'params']: is for multi-objective entries",
        ),
        (
            lambda c: (
                c["tasks"][0].update(
                    objectives=[["valid_error", "params", "latency:pixel3"]],
                    optimizers=["mo_rs"],
                    attainment_pair=["valid_error", "latency:raspi4"],
                )
                or c["optimizers"].update(mo_rs={})
            ),
            "config: tasks[0].attainment_pair='latency:raspi4': is not in the entry's objective set ['valid_error', 'params', 'latency:pixel3']",
        ),
        (
            lambda c: (
                c["tasks"][0].update(
                    objectives=[["valid_error", "params", "latency:pixel3"]], optimizers=["mo_rs"], attainment_pair=["params", "parameters"]
                )
                or c["optimizers"].update(mo_rs={})
            ),
            "config: tasks[0].attainment_pair='parameters': unknown for nb201; choose from valid_error, latency, params,",
        ),
    ],
    ids=[
        "seeds_negative",
        "seeds_count_negative",
        "unknown_entry_key",
        "unknown_key",
        "family",
        "task",
        "optimizer_not_listed",
        "does_not_fit",
        "budget_missing",
        "workers_0",
        "workers_negative",
        "workers_not_integer",
        "workers_float_integer",
        "workers_above_cap",
        "workers_duplicate",
        "workers_not_a_list",
        "workers_without_1",
        "workers_by_optimizer_unknown",
        "workers_by_optimizer_not_a_subset",
        "protocol_without_fidelities",
        "seeds_by_workers_not_a_worker_count",
        "seeds_by_workers_too_many",
        "seeds_by_workers_one_worker",
        "attainment_pair_single_objective",
        "attainment_pair_not_in_the_set",
        "attainment_pair_unknown",
    ],
)
def test_config_error_is_one_line(tmp_path: Path, change, line: str) -> None:
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    change(cfg)
    root = checkout(tmp_path, cfg)
    res = snakemake(root, "-n", "--cores", "1")
    lines = config_lines(res)
    assert res.returncode != 0 and len(lines) == 1, lines
    assert lines[0].startswith(line), lines[0]
    assert not (root / "results").exists()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"datasets": ["cifar10"]}, "'datasets' is replaced by an entry of 'tasks' (family: nb201"),
        ({"budget": {"cifar10": {"max_evals": 5}}}, "top-level 'budget' is replaced by 'budget' in each entry of 'tasks'"),
        ({"protocol": "proxy"}, "top-level 'protocol' is replaced by 'protocol' in the nb201 entries of 'tasks'"),
        ({"seeds": {"start": 0, "count": 2}}, "top-level 'seeds' is replaced by 'seeds' in each entry of 'tasks'"),
        ({"families": {"hpolib": {"tasks": ["naval_propulsion"]}}}, "'families' is replaced by entries of 'tasks' (family: hpolib"),
        ({"multi_objective": {"seeds": 2}}, "'multi_objective' is replaced by entries of 'tasks' with 'objectives'"),
    ],
    ids=["datasets", "budget", "protocol", "seeds", "families", "multi_objective"],
)
def test_old_keys_name_the_new_one(tmp_path: Path, old: dict, new: str) -> None:
    root = checkout(tmp_path, yaml.safe_load(yaml.safe_dump(TINY)) | old)
    res = snakemake(root, "-n", "--cores", "1")
    lines = config_lines(res)
    assert res.returncode != 0 and lines == [lines[0]] and lines[0].startswith(f"config: {new}"), lines
    assert "see README" in lines[0] and not (root / "results").exists()
