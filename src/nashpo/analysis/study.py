"""The study's analysis stages over every task: ``aggregate`` -> ``stats`` -> ``figures``.

One call per stage covers every run of the study, whatever its task. Runs are grouped by what their
tasks share, each group in a folder of the stage's output:

- ``.`` (the folder itself): NB201's single-objective tasks, the paper's analysis (regret of the
  200-epoch test accuracy, both protocols; ``aggregate``/``stats``/``figures``);
- ``<family>/``: a family without fidelities (``hpolib``, ``hpobench``), validation regret per task;
- ``summary/``: every single-objective task together, average ranks over tasks (Friedman/Nemenyi);
- ``multi_objective/``: every task with several objectives, hypervolume regret and Pareto fronts.

The aggregate stage writes ``parts.json`` (which groups it found); the later stages read it, so a group
that left the study is not analysed from a stale folder.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from nashpo.analysis import families, mo
from nashpo.analysis.io import read_table, write_tables
from nashpo.analysis.runs import GRID, MO, NB201, run_kind
from nashpo.errors import InputError
from nashpo.triallog import read_record

PARTS_FILE = "parts.json"
SUMMARY, MULTI_OBJECTIVE = "summary", "multi_objective"


def runs_by_kind(run_dirs: Sequence[Path]) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """(the runs of each kind, the grid runs of each family), every list in the given order; each run
    record read once."""
    kinds: dict[str, list[Path]] = {NB201: [], GRID: [], MO: []}
    by_family: dict[str, list[Path]] = {}
    for run in map(Path, run_dirs):
        record = read_record(run)
        kind = run_kind(record)
        kinds[kind].append(run)
        if kind == GRID:
            by_family.setdefault(record["benchmark"]["family"], []).append(run)
    return kinds, by_family


def read_parts(aggregate_dir: Path) -> dict[str, Any]:
    path = Path(aggregate_dir) / PARTS_FILE
    if not path.is_file():
        raise InputError("aggregate", str(aggregate_dir), f"has no {PARTS_FILE}: run `nashpo analysis aggregate` first")
    return json.loads(path.read_text())


def write_parts(out_dir: Path, parts: dict[str, Any]) -> None:
    tmp = out_dir / f".{PARTS_FILE}.tmp{os.getpid()}"
    tmp.write_text(json.dumps(parts, indent=1) + "\n")
    os.replace(tmp, out_dir / PARTS_FILE)


def aggregate_study(
    run_dirs: Sequence[Path],
    out_dir: Path,
    data_dir: Path | None = None,
    missing: Sequence[str | Path] = (),
    log: TextIO = sys.stderr,
) -> dict[str, Any]:
    """Every group's aggregate tables; returns the parts written (also in ``parts.json``)."""
    from nashpo.analysis.aggregate import aggregate

    out_dir = Path(out_dir)
    kinds, by_family = runs_by_kind(run_dirs)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts: dict[str, Any] = {"nb201": bool(kinds[NB201]), "families": sorted(by_family), SUMMARY: False, MULTI_OBJECTIVE: False}
    nb201_finals = None
    if kinds[NB201]:
        aggregate(kinds[NB201], out_dir, data_dir, log, missing=missing)
        nb201_finals = read_table(out_dir, "per_run_final", "aggregate")
    elif missing:
        raise InputError("missing", [str(m) for m in missing], "are NB201 runs, but no NB201 single-objective run was given")
    for family, runs in by_family.items():
        tables = families.family_aggregate_tables(runs, log)
        write_tables(out_dir / family, tables, families.FAMILY_FORMATS)
    so_runs = kinds[NB201] + kinds[GRID]
    if so_runs:
        finals = families.summary_finals(families.grid_finals(kinds[GRID]) if kinds[GRID] else None, nb201_finals)
        write_tables(out_dir / SUMMARY, {"finals": finals})
        parts[SUMMARY] = True
    if kinds[MO]:
        tables = mo.mo_aggregate_tables(kinds[MO], so_runs, mo.BenchmarkTables(data_dir), log)
        formats = {k: mo.AGGREGATE_FORMATS.get(k, ("parquet",)) for k in tables}
        write_tables(out_dir / MULTI_OBJECTIVE, tables, formats)
        parts[MULTI_OBJECTIVE] = True
    if not any(kinds.values()):
        raise InputError("runs", [str(r) for r in run_dirs], "no runs given")
    write_parts(out_dir, parts)
    print(f"aggregate: parts {', '.join(k for k, v in parts.items() if v)}", file=log)
    return parts


def read_group(folder: Path, names: Sequence[str], producer: str) -> dict[str, pd.DataFrame]:
    return {n: read_table(folder, n, producer) for n in names}


def stats_study(aggregate_dir: Path, out_dir: Path, log: TextIO = sys.stderr) -> dict[str, Any]:
    """Every group's tests and tables from the aggregate stage's folder."""
    from nashpo.analysis import mo_figures
    from nashpo.analysis.stats import run_stats

    aggregate_dir, out_dir = Path(aggregate_dir), Path(out_dir)
    parts = read_parts(aggregate_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if parts["nb201"]:
        run_stats(aggregate_dir, out_dir, log)
    for family in parts["families"]:
        finals = read_table(aggregate_dir / family, "per_run_final", "aggregate")
        families.write_family_stats(family, families.family_stats_tables(finals), out_dir / family, log)
    if parts[SUMMARY]:
        finals = read_table(aggregate_dir / SUMMARY, "finals", "aggregate")
        table = families.write_summary_stats(finals, out_dir / SUMMARY)["summary_table"]
        print(table[["optimizer", "avg_rank"]].to_string(index=False), file=log)
    if parts[MULTI_OBJECTIVE]:
        data = read_group(aggregate_dir / MULTI_OBJECTIVE, mo.AGGREGATE_TABLES, "aggregate")
        tables = mo.mo_stats_tables(data)
        formats = {k: mo.TABLE_FORMATS[k] for k in tables}
        write_tables(out_dir / MULTI_OBJECTIVE, tables, formats, latex_captions=mo.LATEX_CAPTIONS)
        mo_figures.captions(data | tables, out_dir / MULTI_OBJECTIVE)
    write_parts(out_dir, parts)
    return parts


def figures_study(
    aggregate_dir: Path,
    stats_dir: Path,
    out_dir: Path,
    transfer_dir: Path | None = None,
    importance_dir: Path | None = None,
    log: TextIO = sys.stderr,
) -> dict[str, Any]:
    """Every group's figures (PNG + PDF + .rst caption each)."""
    from nashpo.analysis import mo_figures
    from nashpo.analysis.figures import make_figures
    from nashpo.analysis.io import add_caption_note, missing_note, read_missing_runs

    aggregate_dir, stats_dir, out_dir = Path(aggregate_dir), Path(stats_dir), Path(out_dir)
    parts = read_parts(aggregate_dir)
    if parts["nb201"] and (transfer_dir is None or importance_dir is None):
        raise InputError("figures", str(out_dir), "NB201's figures need --transfer and --importance")
    out_dir.mkdir(parents=True, exist_ok=True)
    if parts["nb201"]:
        make_figures(aggregate_dir, stats_dir, Path(transfer_dir), Path(importance_dir), out_dir, log=log)
        add_caption_note(out_dir, missing_note(read_missing_runs(aggregate_dir)))
    for family in parts["families"]:
        tables = read_group(aggregate_dir / family, ("per_run_final", "curves_time"), "aggregate")
        (out_dir / family).mkdir(parents=True, exist_ok=True)
        families.anytime_figure(tables["curves_time"], tables["per_run_final"], family, out_dir / family)
    if parts[SUMMARY]:
        tables = read_group(stats_dir / SUMMARY, ("friedman", "nemenyi"), "stats")
        (out_dir / SUMMARY).mkdir(parents=True, exist_ok=True)
        families.cd_figure(tables["friedman"], tables["nemenyi"], out_dir / SUMMARY)
    if parts[MULTI_OBJECTIVE]:
        data = read_group(aggregate_dir / MULTI_OBJECTIVE, mo.AGGREGATE_TABLES, "aggregate")
        data |= read_group(stats_dir / MULTI_OBJECTIVE, mo.STATS_TABLES, "stats")
        (out_dir / MULTI_OBJECTIVE).mkdir(parents=True, exist_ok=True)
        mo_figures.render(data, out_dir / MULTI_OBJECTIVE, log)
    write_parts(out_dir, parts)
    return parts
