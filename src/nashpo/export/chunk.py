"""``nashpo to-deepcave-chunk``: export every run of a search chunk in one process (``nashpo.manifests``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from nashpo.manifests import clear_stale, read_manifest, write_manifest


def export_chunk(runs_manifest: Path, out_dir: Path, manifest: Path) -> dict[str, Any]:
    """Export every run of a search chunk to ``out_dir/<seed>`` as a DeepCAVE run, then write the manifest."""
    from nashpo.export.deepcave import trials_to_deepcave

    t0 = time.perf_counter()
    source = read_manifest(runs_manifest, "runs")
    runs = []
    for entry in source["runs"]:
        clear_stale(Path(out_dir), entry["seed"])
        out = trials_to_deepcave(Path(entry["run"]), Path(out_dir) / str(entry["seed"]), force=True)
        runs.append({"seed": entry["seed"], "run": str(out)})
    record = {
        "kind": "deepcave",
        "optimizer": source["optimizer"],
        "dataset": source["dataset"],
        "seeds": source["seeds"],
        "runs": runs,
    }  # no timings: a rerun writes the same bytes (timings are in each run.json)
    write_manifest(record, Path(manifest))
    return record | {"wall_seconds_in_process": time.perf_counter() - t0}


def cmd_export_chunk(args: argparse.Namespace) -> None:
    record = export_chunk(Path(args.runs), Path(args.out_dir), Path(args.manifest))
    print(f"{len(record['runs'])} DeepCAVE runs in {record['wall_seconds_in_process']:.2f} s; manifest {args.manifest}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("to-deepcave-chunk", help="export every run of a run-chunk manifest to DeepCAVE")
    p.add_argument("--runs", required=True, help="manifest written by `nashpo run-chunk`")
    p.add_argument("--out-dir", required=True, help="folder that receives one DeepCAVE run per seed (overwritten)")
    p.add_argument("--manifest", required=True, help="export manifest to write last (JSON)")
    p.set_defaults(func=cmd_export_chunk)
