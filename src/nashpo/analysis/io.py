"""Shared helpers for the analysis stage: run lists, input checks, atomic table writes."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from nashpo.errors import DataError, InputError
from nashpo.triallog import RECORD_FILE, TRIALS_FILE

# Formats written per table unless a stage asks otherwise.
DEFAULT_FORMATS = ("parquet", "csv")


def expand_runs(items: Iterable[str | Path]) -> list[Path]:
    """Run folders from arguments; ``@FILE`` reads one folder per line (blank lines and # comments skipped);
    a ``.json`` file is a chunk manifest of ``nashpo run-chunk`` and stands for its run folders."""
    from nashpo.batch import run_folders

    out: list[Path] = []
    for item in items:
        s = str(item)
        if s.endswith(".json") and Path(s).is_file():
            out += run_folders(Path(s))
        elif s.startswith("@"):
            listing = Path(s[1:])
            if not listing.is_file():
                raise InputError("runs", s, "run list file does not exist")
            lines = [line.strip() for line in listing.read_text().splitlines()]
            out += [Path(line) for line in lines if line and not line.startswith("#")]
        else:
            out.append(Path(s))
    if not out:
        raise InputError("runs", [str(i) for i in items], "no run folders given")
    for run in out:
        for name in (RECORD_FILE, TRIALS_FILE):
            if not (run / name).is_file():
                raise InputError("runs", str(run), f"is not a finished nashpo run folder (no {name})")
    return out


def require(folder: Path, name: str, producer: str) -> Path:
    """Path of an input table, or a DataError telling which command makes it."""
    path = Path(folder) / name
    if not path.is_file():
        raise DataError(path, "missing input", f"run `nashpo analysis {producer}` first")
    return path


def read_table(folder: Path, stem: str, producer: str) -> pd.DataFrame:
    return pd.read_parquet(require(folder, f"{stem}.parquet", producer))


def latex(frame: pd.DataFrame, caption: str | None = None, label: str | None = None) -> str:
    """LaTeX tabular (booktabs) with escaped names (optimizer names contain underscores); a table
    environment when a caption is given."""
    text = frame.to_latex(index=False, escape=True, na_rep="--", float_format=lambda v: f"{v:.4g}", caption=caption, label=label)
    return text.replace("±", r"$\pm$")


def write_tables(
    out_dir: Path,
    tables: Mapping[str, pd.DataFrame],
    formats: Mapping[str, Iterable[str]] | None = None,
    latex_columns: Mapping[str, list[str]] | None = None,
    latex_captions: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write every table (``stem.parquet``/``.csv``/``.tex``) to temp files first, then rename them all.

    A failure while serialising leaves no new file behind. ``formats`` maps a stem to its formats
    (default parquet + csv); ``latex_columns`` picks the columns of a stem's .tex (default: all) and
    ``latex_captions`` gives it a caption (label ``tab:<stem>``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {
        "parquet": lambda f, p: f.to_parquet(p, index=False),
        "csv": lambda f, p: f.to_csv(p, index=False),
    }
    staged: list[tuple[Path, Path]] = []
    try:
        for stem, frame in tables.items():
            for ext in (formats or {}).get(stem, DEFAULT_FORMATS):
                path = out_dir / f"{stem}.{ext}"
                tmp = out_dir / f".{stem}.{ext}.tmp{os.getpid()}"
                staged.append((tmp, path))
                if ext == "tex":
                    cols = (latex_columns or {}).get(stem)
                    caption = (latex_captions or {}).get(stem)
                    tmp.write_text(latex(frame[cols] if cols else frame, caption, f"tab:{stem}" if caption else None))
                else:
                    writers[ext](frame, tmp)
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [path for _, path in staged]
