"""Shared helpers for the analysis stage: run lists, input checks, atomic table writes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from nashpo.errors import DataError, InputError
from nashpo.triallog import RECORD_FILE, TRIALS_FILE

# Formats written per table unless a stage asks otherwise.
DEFAULT_FORMATS = ("parquet", "csv")
# Beside each stage's output folder ``X``: ``.X.outputs.json``, the names of the files its last
# successful call wrote there (kept outside the folder, so the folder holds only the outputs).
MANIFEST_SUFFIX = ".outputs.json"
MISSING_RUNS = "missing_runs"


def manifest_runs(manifest: Path) -> list[Path]:
    """Run folders of a search chunk manifest (``{"kind": "runs", "runs": [{"seed": ..., "run": path}]}``)."""
    try:
        record = json.loads(Path(manifest).read_text())
    except (OSError, ValueError):
        raise InputError("manifest", str(manifest), "is not a readable chunk manifest") from None
    if not isinstance(record, dict) or record.get("kind") != "runs":
        raise InputError("manifest", str(manifest), "is not a chunk manifest of runs")
    return [Path(r["run"]) for r in record["runs"]]


def expand_runs(items: Iterable[str | Path]) -> list[Path]:
    """Run folders from arguments; ``@FILE`` reads one folder per line (blank lines and # comments skipped);
    a ``.json`` file is a chunk manifest of ``nashpo run-chunk`` and stands for its run folders."""
    out: list[Path] = []
    for item in items:
        s = str(item)
        if s.endswith(".json") and Path(s).is_file():
            out += manifest_runs(Path(s))
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


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Files under ``folder`` (its groups' subfolders too) by relative path; hidden ones skipped."""
    if not folder.is_dir():
        return {}
    out = {}
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[rel.as_posix()] = (p.stat().st_ino, p.stat().st_mtime_ns)
    return out


def manifest_path(out_dir: Path) -> Path:
    out_dir = Path(out_dir).absolute()
    return out_dir.with_name(f".{out_dir.name}{MANIFEST_SUFFIX}")


def _manifest(folder: Path) -> list[str]:
    try:
        names = json.loads(manifest_path(folder).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(names, list):
        return []
    return [n for n in names if isinstance(n, str) and not n.startswith("/") and not any(p.startswith(".") for p in n.split("/"))]


@contextmanager
def stage_outputs(out_dir: Path) -> Iterator[None]:
    """All or nothing per analysis stage.

    On success the names of the files this call wrote are kept in ``manifest_path(out_dir)``. On
    failure the files of the last successful call are deleted, so no stale table or figure stays
    beside the error as if it were current; other files in the folder are never touched.
    """
    out_dir = Path(out_dir)
    before = _files(out_dir)
    try:
        yield
    except BaseException:
        names = _manifest(out_dir)
        for name in names:
            (out_dir / name).unlink(missing_ok=True)
        for sub in sorted({(out_dir / n).parent for n in names if "/" in n}, key=lambda d: -len(d.parts)):
            if sub.is_dir() and not any(sub.iterdir()):
                sub.rmdir()
        manifest_path(out_dir).unlink(missing_ok=True)
        raise
    after = _files(out_dir)
    written = sorted(n for n, stamp in after.items() if before.get(n) != stamp)
    manifest = manifest_path(out_dir)
    tmp = manifest.with_name(f"{manifest.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(written, indent=0) + "\n")
    os.replace(tmp, manifest)


def missing_runs_table(run_dirs: Iterable[str | Path]) -> pd.DataFrame:
    """Runs the study expected but that did not finish: ``.../<task>/<objectives>/<optimizer>/<seed>``."""
    rows = []
    for run in run_dirs:
        parts = Path(run).parts
        if len(parts) < 4 or not parts[-1].isdigit():
            raise InputError("missing", str(run), "must be a run folder path ending in <task>/<objectives>/<optimizer>/<seed>")
        rows.append({"dataset": parts[-4], "optimizer": parts[-2], "seed": int(parts[-1]), "run_dir": str(run)})
    return pd.DataFrame(rows, columns=["dataset", "optimizer", "seed", "run_dir"])


def read_missing_runs(aggregate_dir: Path) -> pd.DataFrame:
    """The aggregate's list of missing runs (empty when every run finished)."""
    path = Path(aggregate_dir) / f"{MISSING_RUNS}.parquet"
    return pd.read_parquet(path) if path.is_file() else missing_runs_table([])


def missing_note(missing: pd.DataFrame) -> str:
    """One sentence for captions: which runs are not in the analysis."""
    if missing.empty:
        return ""
    names = "; ".join(
        f"{r.optimizer} on {r.dataset}, seed {r.seed}" for r in missing.sort_values(["dataset", "optimizer", "seed"]).itertuples()
    )
    return f"Missing runs (failed, not analysed): {names}."


def add_caption_note(figures_dir: Path, note: str) -> None:
    """Append ``note`` to every figure caption (.rst) in ``figures_dir``, each file replaced atomically."""
    if not note:
        return
    for path in sorted(Path(figures_dir).glob("*.rst")):
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(path.read_text().rstrip("\n") + f" {note}\n")
        os.replace(tmp, path)
