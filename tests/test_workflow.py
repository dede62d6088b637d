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


def planned(root: Path, *targets: str) -> dict[str, int]:
    """Jobs a dry run would execute (for ``targets``, default all), by rule."""
    res = snakemake(root, "-n", "--cores", "1", *targets)
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
    assert len(list((results / "runs").glob("*/*/*/run.json"))) == 8
    assert len(list((results / "deepcave").glob("*/*/*/trials.csv"))) == 8
    for stem in ("anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance"):
        assert (results / "figures" / f"{stem}.png").stat().st_size > 5000
        assert (results / "figures" / f"{stem}.rst").read_text().strip()
    assert (results / "logs" / "search" / "cifar10" / "rs" / "seeds_0-1.log").is_file()
    manifest = json.loads((results / "runs" / "cifar10" / "rs" / "seeds_0-1.json").read_text())
    assert [r["seed"] for r in manifest["runs"]] == [0, 1]  # one job, one process, one folder per seed
    assert [r["run"] for r in manifest["runs"]] == ["results/runs/cifar10/rs/0", "results/runs/cifar10/rs/1"]
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
    _edit_config(root, lambda c: c["seeds"].update(count=3))
    assert planned(root) == {"search": 4, "to_deepcave": 4, **no_importance}
    assert snakemake(root, "--cores", "2").returncode == 0
    runs = root / "results" / "runs" / "cifar10" / "rs"
    stamps = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    # seed 3 joins chunk 2-2, which becomes 2-3: only that chunk reruns
    _edit_config(root, lambda c: c["seeds"].update(count=4))
    assert planned(root) == {"search": 4, "to_deepcave": 4, **no_importance}
    assert snakemake(root, "--cores", "2").returncode == 0
    after = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    assert after["0"] == stamps["0"] and after["1"] == stamps["1"] and after["seeds_0-1.json"] == stamps["seeds_0-1.json"]
    assert after["2"] != stamps["2"] and "seeds_2-3.json" in after
    _edit_config(root, lambda c: c["seeds"].update(count=2))
    assert planned(root) == no_importance
    assert snakemake(root, "--cores", "2").returncode == 0

    edit(root / "src" / "nashpo" / "optimizers" / "rs.py")
    assert planned(root) == {"search": 2, "to_deepcave": 2, **downstream}
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-2000:]

    edit(root / "src" / "nashpo" / "analysis" / "figures.py")
    assert planned(root) == {"figures": 1, "all": 1}


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
    while time.time() < deadline and len(list((root / "results" / "runs").glob("*/*/*/run.json"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list((root / "results" / "runs").glob("*/*/*/run.json"))) < 8  # killed mid-run
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
    while time.time() < deadline and not (writing := list(exports.glob("*/*/.*.tmp*"))):  # an export is being written
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert writing and len(list(exports.glob("*/*/*/trials.csv"))) < 8  # killed mid-export
    assert snakemake(root, "--unlock").returncode == 0
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    assert not list((root / "results").rglob(".*.tmp*"))
    ours = {p.relative_to(root): p.read_bytes() for p in sorted(exports.rglob("*")) if p.is_file()}
    ref = {p.relative_to(done): p.read_bytes() for p in sorted((done / "results" / "deepcave").rglob("*")) if p.is_file()}
    assert ours == ref


def test_keep_going_with_a_broken_optimizer(tmp_path: Path) -> None:
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["datasets"] = ["cifar10"]
    cfg["optimizers"]["smac_hb"] = {"eta": 3}  # valid on its own; fails in the job: both rungs map to 200 epochs
    root = checkout(tmp_path, cfg)
    res = snakemake(root, "--cores", "2", "--keep-going")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert len(list((root / "results" / "runs" / "cifar10" / "rs").glob("*/run.json"))) == 2
    assert not (root / "results" / "runs" / "cifar10" / "smac_hb" / "0").exists()
    assert "Error in rule search" in out and "smac_hb/seeds_0-1.json" in out
    assert (
        "smac_hb.eta=3: all Hyperband rungs map to [200]"
        in (root / "results" / "logs" / "search" / "cifar10" / "smac_hb" / "seeds_0-1.log").read_text()
    )


def test_generic_cluster_executor_end_to_end(tmp_path: Path) -> None:
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["datasets"] = ["cifar10"]
    root = checkout(tmp_path, cfg)
    shutil.copy2(REPO / "tests" / "local_submit.sh", root / "local_submit.sh")
    res = snakemake(
        root, "--executor", "cluster-generic", "--cluster-generic-submit-cmd", "./local_submit.sh", "--jobs", "2", "--latency-wait", "10"
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert len(list((root / "results" / "runs").glob("*/*/*/run.json"))) == 4
    assert (root / "results" / "figures" / "cd_diagram.png").is_file()


def test_slurm_profile_dry_run(done: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(done, root, symlinks=True)
    _edit_config(root, lambda c: c["seeds"].update(count=3))
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


def test_lint_and_schema_errors(tmp_path: Path) -> None:
    lint = subprocess.run([SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True)
    assert lint.returncode == 0 and "Lints for" not in lint.stdout + lint.stderr
    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["protocol"] = "quick"
    root = checkout(tmp_path, bad)
    res = snakemake(root, "-n")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "quick" in out and "protocol" in out


def test_chunk_rules_quote_config_values(tmp_path: Path) -> None:
    """Paths with spaces and hyperparameters with shell characters reach the search, export and table
    commands as single quoted words (dry run, printed shell commands)."""
    import shlex

    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["results_dir"] = "my results"
    cfg["datasets"] = ["cifar10"]
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
        assert "my results/runs/cifar10/re/seeds_0-1.json" in words or "my results/nb201_table" in words
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
    assert stamp["traits"]["optimizers"]["rs"] == {"multi_fidelity": False, "adapter": "src/nashpo/optimizers/rs.py"}
    again = snakemake(root, "-n", "--cores", "1", env=env)
    assert again.returncode == 0 and not marker.search(again.stderr) and not re.search(r"\| +ConfigSpace$", again.stderr, re.M)
    edit(root / "src" / "nashpo" / "optimizers" / "rs.py")  # any package source change checks again
    assert marker.search(snakemake(root, "-n", "--cores", "1", env=env).stderr)
    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["optimizers"]["re"] = {"population_size": 0}  # a changed config is checked, stamp or not
    (root / "config.yaml").write_text(yaml.safe_dump(bad))
    res = snakemake(root, "-n", "--cores", "1")
    assert res.returncode != 0 and "optimizers.re.population_size=0" in res.stdout + res.stderr
