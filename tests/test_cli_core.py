"""Core CLI: space, query, oracle, data prepare|check, and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def nashpo(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nashpo", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_space_json(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    res = nashpo(["space"], nashpo_env, tmp_path)
    space = json.loads(res.stdout)
    assert [hp["name"] for hp in space["hyperparameters"]] == ["edge_0_1", "edge_0_2", "edge_0_3", "edge_1_2", "edge_1_3", "edge_2_3"]


def test_query_and_oracle(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    res = nashpo(["query", "--dataset", "cifar100", "--index", "0", "--epochs", "200"], nashpo_env, tmp_path)
    out = json.loads(res.stdout)
    assert out["arch"] == "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert out["nb201_index"] == 0 and out["epochs"] == 200 and 0 < out["test_acc"] < 100
    oracle = json.loads(nashpo(["oracle", "--json"], nashpo_env, tmp_path).stdout)
    best = {(r["dataset"], r["epochs"]): round(r["best_test_acc"], 2) for r in oracle}
    assert best[("cifar10", 200)] == 94.37 and best[("ImageNet16-120", 200)] == 47.31
    text = nashpo(["oracle", "--dataset", "cifar10"], nashpo_env, tmp_path).stdout
    assert "== cifar10" in text and "91.607" in text


def test_data_prepare_and_check(nashpo_env: dict[str, str], tmp_path: Path) -> None:
    res = nashpo(["--data-dir", "d", "data", "prepare", "--dataset", "cifar10", "--no-mirror"], nashpo_env, tmp_path)
    assert res.returncode == 0 and (tmp_path / "d" / "nb201_cifar10.parquet").is_file()
    report = json.loads(nashpo(["--data-dir", "d", "data", "check", "--json", "--no-mirror"], nashpo_env, tmp_path).stdout)
    assert report["datasets"]["cifar10"]["fidelities"] == [200] and report["datasets"]["cifar100"] == {"prepared": False}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["query", "--dataset", "mnist", "--index", "1"], "dataset='mnist'"),
        (["query", "--dataset", "cifar10", "--arch", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "op='conv'"),
        (["query", "--dataset", "cifar10", "--arch", "|none~0|"], "arch='|none~0|': malformed"),
        (["query", "--dataset", "cifar10", "--index", "15625"], "index=15625"),
        (["query", "--dataset", "cifar10", "--index", "1", "--epochs", "50"], "epochs=50"),
    ],
)
def test_bad_input_one_line(nashpo_env: dict[str, str], tmp_path: Path, args: list[str], needle: str) -> None:
    res = nashpo(args, nashpo_env, tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_corrupt_mirror_leaves_no_table(nashpo_env: dict[str, str], tmp_path: Path, mirror: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(mirror, copy)
    for p in copy.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    (copy / "optiproxy" / "nb201_cifar10-valid_val_test_v1_0.pickle").write_bytes(b"not a pickle")
    res = nashpo(["--data-dir", "d", "data", "prepare", "--dataset", "cifar10", "--mirror", str(copy)], nashpo_env, tmp_path)
    assert res.returncode == 2
    assert "nb201_cifar10-valid_val_test_v1_0.pickle: corrupt" in res.stderr and "Fix:" in res.stderr
    assert not (tmp_path / "d").exists() or list((tmp_path / "d").iterdir()) == []
