"""Core CLI: space, query, oracle, data prepare|check, and one-line errors."""

from __future__ import annotations

import ast
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nashpo.space import arch_str


def nashpo(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nashpo", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def assert_one_line_error(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert res.stdout == ""


def test_space_json(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    res = nashpo(["space"], nashpo_env, tmp_path)
    space = json.loads(res.stdout)
    hps = {hp["name"]: hp for hp in space["hyperparameters"]}
    assert sorted(hps) == ["edge_0_1", "edge_0_2", "edge_0_3", "edge_1_2", "edge_1_3", "edge_2_3"]
    assert all(hp["choices"] == ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"] for hp in hps.values())


def test_query_and_oracle(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    out = json.loads(nashpo(["query", "--dataset", "cifar100", "--index", "0", "--epochs", "200"], nashpo_env, tmp_path).stdout)
    assert out["arch"] == "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert out["nb201_index"] == 0 and out["epochs"] == 200 and 0 < out["test_acc"] < 100
    same = json.loads(nashpo(["query", "--dataset", "cifar100", "--arch", out["arch"]], nashpo_env, tmp_path).stdout)
    assert same == out
    seeded = [
        json.loads(nashpo(["query", "--dataset", "cifar10", "--index", "9", "--bench-seed", "4"], nashpo_env, tmp_path).stdout)
        for _ in range(2)
    ]
    assert seeded[0] == seeded[1] and "seed" in seeded[0]
    oracle = json.loads(nashpo(["oracle", "--json"], nashpo_env, tmp_path).stdout)
    best = {(r["dataset"], r["epochs"]): (round(r["best_valid_acc"], 3), round(r["best_test_acc"], 3)) for r in oracle}
    assert best[("cifar10", 200)] == (91.607, 94.373)
    assert best[("cifar100", 200)] == (73.493, 73.513)
    assert best[("ImageNet16-120", 200)] == (46.767, 47.311)
    text = nashpo(["oracle", "--dataset", "cifar10"], nashpo_env, tmp_path).stdout
    assert "== cifar10" in text and "91.607" in text and "ImageNet16-120" not in text


def test_data_prepare_and_check(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    res = nashpo(["--data-dir", "d", "data", "prepare", "--dataset", "cifar10", "--no-mirror"], nashpo_env, tmp_path)
    assert res.returncode == 0 and sorted(p.name for p in (tmp_path / "d").iterdir()) == ["nb201_cifar10.parquet"]
    assert "prepared d/nb201_cifar10.parquet (15625 architectures" in res.stderr
    report = json.loads(nashpo(["--data-dir", "d", "data", "check", "--json", "--no-mirror"], nashpo_env, tmp_path).stdout)
    assert report["datasets"]["cifar10"]["fidelities"] == [200] and report["datasets"]["cifar100"] == {"prepared": False}
    assert report["mirror"] is None
    text = nashpo(["data", "check"], nashpo_env, tmp_path).stdout  # the session tables, mirror found
    assert "cifar10: fidelities [12, 200]" in text and "@12 epochs: cost, test_acc, valid_acc" in text and "devices: 27" in text


def test_data_check_reports_partial_naslib_file(nashpo_env: dict[str, str], tmp_path: Path, mirror: Path) -> None:
    """TEST FIXTURE: NASLib's layout holding only the mirror's 200 real learning curves (see tests/test_data.py)."""
    import pandas as pd

    frame = pd.read_csv(mirror / "learning-curves" / "_clean_all_merged.csv")
    data = {r.arch_str: {"cifar10-valid": {"eval_acc1es": ast.literal_eval(r.val_accs)}} for r in frame.itertuples()}
    (tmp_path / "nb201_cifar10_full_training.pickle").write_bytes(pickle.dumps(data))
    res = nashpo(["data", "check", "--naslib-dir", str(tmp_path)], nashpo_env, tmp_path)
    assert res.returncode == 0
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("cifar10: NASLib"))
    assert "200 of 15625 architectures, 200 epochs; PARTIAL: not usable for tables" in line
    assert "cifar100: NASLib " + str(tmp_path / "nb201_cifar100_full_training.pickle") + ": missing" in res.stdout
    res = nashpo(["--data-dir", "out", "data", "prepare", "--dataset", "cifar10", "--naslib-dir", str(tmp_path)], nashpo_env, tmp_path)
    assert_one_line_error(res, "nb201_cifar10_full_training.pickle: covers 200 of 15625 architectures", "Fix:")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["query", "--dataset", "mnist", "--index", "1"], ["dataset='mnist'", "choose from cifar10, cifar100, ImageNet16-120"]),
        (["query", "--dataset", "cifar10", "--arch", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"], ["op='conv': unknown"]),
        (["query", "--dataset", "cifar10", "--arch", "|none~0|"], ["arch='|none~0|': malformed"]),
        (["query", "--dataset", "cifar10", "--index", "15625"], ["index=15625: out of range"]),
        (["query", "--dataset", "cifar10", "--index", "-1"], ["index=-1: out of range"]),
        (["query", "--dataset", "cifar10", "--index", "abc"], ["argument --index: invalid int value: 'abc'"]),
        (["query", "--dataset", "cifar10", "--index", "1", "--epochs", "50"], ["epochs=50: unavailable for cifar10"]),
        (["query", "--dataset", "cifar10"], ["arch/index=None: give exactly one of --arch or --index"]),
        (["query", "--dataset", "cifar10", "--index", "1", "--arch", arch_str(1)], ["arch/index=None"]),
        (["oracle", "--dataset", "cifar10", "--dataset", "mnist"], ["dataset='mnist'"]),
        (["data", "prepare", "--dataset", "mnist"], ["dataset='mnist'"]),
        (["data", "prepare", "--mirror", "no/such/dir"], ["no/such/dir: is not an NB201 mirror (no SHA256SUMS)", "Fix:"]),
        (["data", "check", "--mirror", "no/such/dir"], ["no/such/dir: is not an NB201 mirror"]),
        (["data", "frobnicate"], ["argument data_cmd: invalid choice: 'frobnicate'"]),
    ],
)
def test_bad_input_one_line(nashpo_env: dict[str, str], tmp_path: Path, args: list[str], needles: list[str]) -> None:
    res = nashpo(["--data-dir", "out", *args] if args[0] == "data" else args, nashpo_env, tmp_path)
    assert_one_line_error(res, *needles)
    assert list(tmp_path.iterdir()) == []  # no output left behind


@pytest.fixture()
def mirror_copy(mirror: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "m"
    shutil.copytree(mirror, copy)
    for p in copy.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return copy


def test_corrupt_mirror_leaves_no_table(nashpo_env: dict[str, str], tmp_path: Path, mirror_copy: Path) -> None:
    bad = mirror_copy / "optiproxy" / "nb201_cifar10-valid_val_test_v1_0.pickle"
    bad.write_bytes(b"not a pickle")
    res = nashpo(["--data-dir", "d", "data", "prepare", "--mirror", str(mirror_copy)], nashpo_env, tmp_path)
    assert_one_line_error(res, f"{bad}: corrupt: sha256", "does not match SHA256SUMS", "Fix: point --mirror")
    assert not (tmp_path / "d").exists()


def test_deleted_mirror_file_leaves_no_table(nashpo_env: dict[str, str], tmp_path: Path, mirror_copy: Path) -> None:
    gone = mirror_copy / "help-latency" / "pixel3.pt"
    gone.unlink()
    (tmp_path / "d").mkdir()  # an existing, empty output folder stays empty
    res = nashpo(["--data-dir", "d", "data", "prepare", "--dataset", "cifar100", "--mirror", str(mirror_copy)], nashpo_env, tmp_path)
    assert_one_line_error(res, f"{gone}: missing from the mirror", "Fix:")
    assert list((tmp_path / "d").iterdir()) == []
