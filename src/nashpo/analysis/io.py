"""Shared helpers for the analysis stage: reading run lists, atomic table writes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from nashpo.errors import InputError


def expand_runs(items: Iterable[str | Path]) -> list[Path]:
    """Run folders from arguments; ``@FILE`` reads one folder per line."""
    out: list[Path] = []
    for item in items:
        s = str(item)
        if s.startswith("@"):
            out += [Path(line.strip()) for line in Path(s[1:]).read_text().splitlines() if line.strip()]
        else:
            out.append(Path(s))
    for run in out:
        if not (run / "run.json").is_file():
            raise InputError("runs", str(run), "is not a finished nashpo run folder (no run.json)")
    if not out:
        raise InputError("runs", [], "no run folders given")
    return out


def write_table(frame: pd.DataFrame, out_dir: Path, stem: str, csv: bool = True, latex: bool = False) -> None:
    """Write ``stem.parquet`` (and .csv/.tex) atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = [("parquet", lambda p: frame.to_parquet(p, index=False))]
    if csv:
        outputs.append(("csv", lambda p: frame.to_csv(p, index=False)))
    if latex:
        outputs.append(("tex", lambda p: p.write_text(frame.to_latex(index=False, float_format="%.4g"))))
    for ext, write in outputs:
        path = out_dir / f"{stem}.{ext}"
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        write(tmp)
        os.replace(tmp, path)
