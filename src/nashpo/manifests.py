"""Chunks of seeds and their manifests (``nashpo run-chunk``, ``nashpo to-deepcave-chunk``).

A search costs far less than starting Python and importing its libraries, so a Snakemake job runs
a chunk of seeds in one process. Each seed still gets its own atomic run folder
(``<runs-dir>/<seed>/``, written by ``run_search`` exactly as ``nashpo run`` writes it), so every
later stage stays per seed. The chunk's manifest (``seeds_<first>-<last>.json``) lists the seeds
and their folders; it is written last and atomically, so it exists only when every seed finished.

Chunk rule: seed ``s`` belongs to block ``s // seeds_per_job``; a chunk is the configured seeds of
one block, named by its first and last seed. Adding seeds adds chunks and renames (reruns) only a
block that was partly filled; the other chunks keep their names and are not rerun.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from nashpo.atomic import write_json_atomic
from nashpo.errors import InputError

MANIFEST_PREFIX = "seeds_"


def chunk_label(seeds: Sequence[int]) -> str:
    return f"{seeds[0]}-{seeds[-1]}"


def chunks(seeds: Iterable[int], seeds_per_job: int) -> dict[str, list[int]]:
    """{label: seeds} for aligned blocks of ``seeds_per_job`` (see the module docstring)."""
    if isinstance(seeds_per_job, bool) or not isinstance(seeds_per_job, int) or seeds_per_job < 1:
        raise InputError("seeds_per_job", seeds_per_job, "must be a positive integer")
    blocks: dict[int, list[int]] = {}
    for s in sorted(set(seeds)):
        blocks.setdefault(s // seeds_per_job, []).append(s)
    return {chunk_label(b): b for b in blocks.values()}


def parse_seeds(text: str) -> list[int]:
    """``0-9`` or ``0,3,5`` (or a mix: ``0-4,7``) -> ascending distinct seeds."""
    out: set[int] = set()
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            a, b = int(lo), int(hi or lo)
            if a < 0 or b < a:
                raise ValueError
            out.update(range(a, b + 1))
    except ValueError:
        raise InputError("seeds", text, "must look like 0-9 or 0,3,5 (non-negative, ascending ranges)") from None
    return sorted(out)


def clear_stale(folder: Path, seed: int) -> None:
    """Remove temp siblings a killed earlier job left for this seed (``.<seed>.tmp<pid>``)."""
    for stale in folder.glob(f".{seed}.tmp*"):
        shutil.rmtree(stale, ignore_errors=True)


def write_manifest(record: dict[str, Any], path: Path) -> None:
    """Write a chunk manifest last and atomically: it exists only when every seed of the chunk finished."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(record, Path(path))


def read_manifest(path: Path, kind: str) -> dict[str, Any]:
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        raise InputError("manifest", str(path), "is not a readable chunk manifest") from None
    if not isinstance(record, dict) or record.get("kind") != kind:
        raise InputError("manifest", str(path), f"is not a chunk manifest of {kind}")
    return record


def run_folders(manifest: Path) -> list[Path]:
    return [Path(r["run"]) for r in read_manifest(manifest, "runs")["runs"]]
