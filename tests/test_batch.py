"""Chunks of seeds in one process: chunk rule, identical runs to one-seed runs, manifests, exports, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nashpo.analysis.io import expand_runs
from nashpo.errors import InputError
from nashpo.export.chunk import export_chunk
from nashpo.export.deepcave import load_export
from nashpo.manifests import chunks, parse_seeds, run_folders
from nashpo.runner import Budget, run_search
from nashpo.runner.chunk import run_chunk
from nashpo.triallog import TIMING_COLUMNS, read_record, read_trials


def test_chunks_are_aligned_blocks() -> None:
    assert chunks(range(25), 10) == {"0-9": list(range(10)), "10-19": list(range(10, 20)), "20-24": list(range(20, 25))}
    # more seeds: only the partly filled block changes name
    assert set(chunks(range(27), 10)) - set(chunks(range(25), 10)) == {"20-26"}
    assert chunks([5, 6, 7, 12], 5) == {"5-7": [5, 6, 7], "12-12": [12]}
    assert chunks(range(3), 1) == {"0-0": [0], "1-1": [1], "2-2": [2]}
    with pytest.raises(InputError) as err:
        chunks(range(3), 0)
    assert err.value.field == "seeds_per_job"


def test_parse_seeds() -> None:
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("4,0-1,4") == [0, 1, 4]
    for bad in ("3-1", "a", "-2", ""):
        with pytest.raises(InputError) as err:
            parse_seeds(bad)
        assert err.value.field == "seeds"


@pytest.mark.parametrize("optimizer", ["re", "smac_hb"])
def test_chunk_runs_equal_single_runs(data_dir: Path, tmp_path: Path, optimizer: str) -> None:
    budget = Budget(max_sim_seconds=3000.0)
    manifest = tmp_path / "chunk" / "seeds_3-5.json"
    rec = run_chunk(optimizer, "cifar100", [3, 4, 5], budget, tmp_path / "chunk", manifest, data_dir=data_dir, progress=None)
    assert [r["seed"] for r in rec["runs"]] == [3, 4, 5]
    assert sorted(p.name for p in (tmp_path / "chunk").iterdir()) == ["3", "4", "5", "seeds_3-5.json"]
    for seed in (3, 4, 5):
        run_search(optimizer, "cifar100", seed, budget, tmp_path / f"single{seed}", data_dir=data_dir, progress=None)
        chunked = read_trials(tmp_path / "chunk" / str(seed)).drop(columns=list(TIMING_COLUMNS))
        single = read_trials(tmp_path / f"single{seed}").drop(columns=list(TIMING_COLUMNS))
        pd.testing.assert_frame_equal(chunked, single)
        assert read_record(tmp_path / "chunk" / str(seed))["incumbent"] == read_record(tmp_path / f"single{seed}")["incumbent"]
    assert run_folders(manifest) == [tmp_path / "chunk" / s for s in ("3", "4", "5")]
    assert expand_runs([manifest]) == run_folders(manifest)


def test_rerun_overwrites_and_clears_stale_temps(data_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    stale = runs / ".1.tmp99999"
    stale.mkdir(parents=True)
    (runs / "1").mkdir()
    (runs / "1" / "run.json").write_text("{}")  # an earlier run of this seed: replaced
    (runs / "1" / "old.txt").write_text("from an earlier chunk")
    run_chunk("rs", "cifar10", [1, 2], Budget(max_evals=10), runs, runs / "seeds_1-2.json", data_dir=data_dir, progress=None)
    assert sorted(p.name for p in runs.iterdir()) == ["1", "2", "seeds_1-2.json"]
    assert sorted(p.name for p in (runs / "1").iterdir()) == ["optimizer", "run.json", "trials.parquet"]


def test_export_chunk_is_loadable_per_seed(data_dir: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "runs" / "seeds_0-1.json"
    run_chunk("re", "cifar10", [0, 1], Budget(max_evals=30), tmp_path / "runs", manifest, data_dir=data_dir, progress=None)
    out = export_chunk(manifest, tmp_path / "dc", tmp_path / "dc" / "seeds_0-1.json")
    assert [r["seed"] for r in out["runs"]] == [0, 1]
    for seed in (0, 1):
        run = load_export(tmp_path / "dc" / str(seed))
        trials = read_trials(tmp_path / "runs" / str(seed))
        assert len(run.history) == len(trials.drop_duplicates(["arch_code", "epochs"])) and run.meta["seed"] == seed
    assert json.loads((tmp_path / "dc" / "seeds_0-1.json").read_text())["kind"] == "deepcave"
    with pytest.raises(InputError) as err:
        export_chunk(tmp_path / "dc" / "seeds_0-1.json", tmp_path / "dc2", tmp_path / "dc2" / "m.json")
    assert err.value.field == "manifest"
    assert not (tmp_path / "dc2").exists()


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nashpo", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--optimizer", "re", "--seeds", "0-1", "--hp", '{"population_size": "ten"}'], "re.population_size='ten'"),
        (["--optimizer", "nope", "--seeds", "0-1"], "optimizer='nope'"),
        (["--optimizer", "rs", "--seeds", "2-1"], "seeds='2-1'"),
    ],
)
def test_cli_bad_input_leaves_nothing(nashpo_env: dict[str, str], tmp_path: Path, extra: list[str], needle: str) -> None:
    base = ["run-chunk", "--dataset", "cifar10", "--max-evals", "5", "--runs-dir", "runs", "--manifest", "runs/seeds.json"]
    res = _cli([*base, *extra], nashpo_env, tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_chunk_with_spaces_in_paths(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    runs = tmp_path / "my results" / "runs"
    res = _cli(
        [
            "run-chunk",
            "--optimizer",
            "rs",
            "--dataset",
            "cifar10",
            "--seeds",
            "0-2",
            "--max-evals",
            "7",
            "--runs-dir",
            str(runs),
            "--manifest",
            str(runs / "seeds_0-2.json"),
        ],
        nashpo_env,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "3 runs in" in res.stdout
    res = _cli(
        [
            "to-deepcave-chunk",
            "--runs",
            str(runs / "seeds_0-2.json"),
            "--out-dir",
            str(tmp_path / "my dc"),
            "--manifest",
            str(tmp_path / "my dc" / "m.json"),
        ],
        nashpo_env,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "my dc").iterdir()) == ["0", "1", "2", "m.json"]
