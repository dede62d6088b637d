"""The study's analysis stages over every task: ``aggregate`` -> ``stats`` -> ``figures``.

One call per stage covers every run of the study, whatever its task. Runs are grouped by what their
tasks share, each group in a folder of the stage's output:

- ``.`` (the folder itself): NB201's single-objective tasks, the paper's analysis (regret of the
  200-epoch test accuracy, both protocols; ``aggregate``/``stats``/``figures``);
- ``<family>/``: a family without fidelities (``hpolib``, ``hpobench``), validation regret per task;
- ``summary/``: every single-objective task together, average ranks over tasks (Friedman/Nemenyi);
- ``multi_objective/``: every task with several objectives, hypervolume regret and Pareto fronts;
- ``parallel/`` (only when some run has K > 1 simulated workers): every run of each task with a K > 1
  run, at every K: anytime regret on the simulated wall clock per K, time to a regret target and the
  speed-up over K = 1, tests and ranks per K (``analysis.parallel``).

Every group but ``parallel`` takes the one-worker runs (K = 1) only, so a study's K > 1 runs leave their
tables as they are without them.

The groups of a stage are independent: with ``jobs`` > 1 they run in that many forked processes at once
(the stage's tables are the same either way). The aggregate stage writes ``parts.json`` (which groups it found); the later stages read it, so a group
that left the study is not analysed from a stale folder.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from nashpo.analysis import families, mo, parallel
from nashpo.analysis.io import read_table, write_tables
from nashpo.analysis.runs import GRID, MO, NB201, run_kind, task_of, workers_of
from nashpo.errors import InputError, NashpoError
from nashpo.triallog import read_record

PARTS_FILE = "parts.json"
SUMMARY, MULTI_OBJECTIVE, PARALLEL = "summary", "multi_objective", parallel.PARALLEL


def study_runs(run_dirs: Sequence[Path]) -> tuple[dict[str, list[Path]], dict[str, list[Path]], list[Path]]:
    """(the one-worker runs of each kind, the one-worker grid runs of each family, every run of the tasks
    with a run at K > 1 workers), every list in the given order; each run record read once."""
    kinds: dict[str, list[Path]] = {NB201: [], GRID: [], MO: []}
    by_family: dict[str, list[Path]] = {}
    tasks: list[tuple[Path, tuple[str, ...]]] = []
    parallel_tasks = set()
    for run in map(Path, run_dirs):
        record = read_record(run)
        tasks.append((run, task_of(record)))
        if workers_of(record) > 1:
            parallel_tasks.add(tasks[-1][1])
            continue
        kind = run_kind(record)
        kinds[kind].append(run)
        if kind == GRID:
            by_family.setdefault(record["benchmark"]["family"], []).append(run)
    return kinds, by_family, [run for run, task in tasks if task in parallel_tasks]


def runs_by_kind(run_dirs: Sequence[Path]) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """(the one-worker runs of each kind, the one-worker grid runs of each family) (``study_runs``)."""
    kinds, by_family, _ = study_runs(run_dirs)
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


class GroupFailed(NashpoError):
    """A group's call failed in a worker process: its one-line message, as the CLI prints it."""


Call = tuple[Callable[..., Any], tuple[Any, ...]]


def _child(fn: Callable[..., Any], args: tuple[Any, ...], send: Any) -> None:
    try:
        fn(*args)
        send.send(None)
    except NashpoError as exc:
        send.send(str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: its traceback on stderr, the failure to the parent
        traceback.print_exc()
        send.send(f"{getattr(fn, '__name__', fn)} failed with {type(exc).__name__}: {exc} (traceback above)")


def run_groups(calls: Sequence[Call], jobs: int = 1) -> None:
    """Each (function, arguments): in this process, or up to ``jobs`` at once in forked processes
    (which inherit the arguments, log streams included), in the given order; the first failure is
    raised here once every started call has ended."""
    if jobs <= 1 or len(calls) <= 1:
        for fn, args in calls:
            fn(*args)
        return
    fork = multiprocessing.get_context("fork")
    pending, running, failures = list(calls), {}, []
    while pending or running:
        while pending and len(running) < jobs:
            fn, args = pending.pop(0)
            receive, send = fork.Pipe(duplex=False)
            process = fork.Process(target=_child, args=(fn, args, send))
            process.start()
            send.close()
            running[receive] = (process, fn)
        for receive in wait(list(running)):
            process, fn = running.pop(receive)
            try:
                message = receive.recv()
            except EOFError:
                message = f"{fn.__name__} ended without a result"
            process.join()
            if message is not None:
                failures.append(message)
    if failures:
        raise GroupFailed(failures[0])


def _nb201_aggregate(runs: list[Path], out_dir: Path, data_dir: Path | None, missing: Sequence[str | Path], log: TextIO) -> None:
    from nashpo.analysis.aggregate import aggregate

    aggregate(runs, out_dir, data_dir, log, missing=missing)


def _family_aggregate(runs: list[Path], out: Path, log: TextIO) -> None:
    write_tables(out, families.family_aggregate_tables(runs, log), families.FAMILY_FORMATS)


def _mo_aggregate(
    runs: list[Path], so_runs: list[Path], data_dir: Path | None, out: Path, log: TextIO, pairs: Mapping[str, Sequence[str]]
) -> None:
    tables = mo.mo_aggregate_tables(runs, so_runs, mo.BenchmarkTables(data_dir), log, pairs)
    write_tables(out, tables, {k: mo.AGGREGATE_FORMATS.get(k, ("parquet",)) for k in tables})


def aggregate_study(
    run_dirs: Sequence[Path],
    out_dir: Path,
    data_dir: Path | None = None,
    missing: Sequence[str | Path] = (),
    log: TextIO = sys.stderr,
    jobs: int = 1,
    pairs: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Every group's aggregate tables; returns the parts written (also in ``parts.json``); ``pairs``:
    the multi-objective tasks' attainment pairs (``mo.attainment_pairs``)."""
    out_dir = Path(out_dir)
    kinds, by_family, parallel_runs = study_runs(run_dirs)
    if not any(kinds.values()) and not parallel_runs:
        raise InputError("runs", [str(r) for r in run_dirs], "no runs given")
    if missing and not kinds[NB201]:
        raise InputError("missing", [str(m) for m in missing], "are NB201 runs, but no NB201 single-objective run was given")
    out_dir.mkdir(parents=True, exist_ok=True)
    so_runs = kinds[NB201] + kinds[GRID]
    parts: dict[str, Any] = {
        "nb201": bool(kinds[NB201]),
        "families": sorted(by_family),
        SUMMARY: bool(so_runs),
        MULTI_OBJECTIVE: bool(kinds[MO]),
    }
    if parallel_runs:  # (a one-worker study's parts are the same as before workers existed)
        parts[PARALLEL] = True
    calls: list[Call] = []  # the multi-objective group first: it takes longest
    if kinds[MO]:
        calls.append((_mo_aggregate, (kinds[MO], so_runs, data_dir, out_dir / MULTI_OBJECTIVE, log, pairs or {})))
    elif pairs:
        raise InputError("attainment_pair", next(iter(pairs)), "is given, but no multi-objective run was")
    if kinds[NB201]:
        calls.append((_nb201_aggregate, (kinds[NB201], out_dir, data_dir, missing, log)))
    calls += [(_family_aggregate, (runs, out_dir / family, log)) for family, runs in by_family.items()]
    if parallel_runs:
        calls.append((parallel.write_parallel_aggregate, (parallel_runs, out_dir / PARALLEL, log)))
    run_groups(calls, jobs)
    if so_runs:
        nb201_finals = read_table(out_dir, "per_run_final", "aggregate") if kinds[NB201] else None
        finals = families.summary_finals(families.grid_finals(kinds[GRID]) if kinds[GRID] else None, nb201_finals)
        write_tables(out_dir / SUMMARY, {"finals": finals})
    write_parts(out_dir, parts)
    print(f"aggregate: parts {', '.join(k for k, v in parts.items() if v)}", file=log)
    return parts


def read_group(folder: Path, names: Sequence[str], producer: str) -> dict[str, pd.DataFrame]:
    return {n: read_table(folder, n, producer) for n in names}


def _nb201_stats(aggregate_dir: Path, out_dir: Path, log: TextIO) -> None:
    from nashpo.analysis.stats import run_stats

    run_stats(aggregate_dir, out_dir, log)


def _family_stats(family: str, aggregate_dir: Path, out: Path, log: TextIO) -> None:
    finals = read_table(aggregate_dir / family, "per_run_final", "aggregate")
    families.write_family_stats(family, families.family_stats_tables(finals), out, log)


def _summary_stats(aggregate_dir: Path, out: Path, log: TextIO) -> None:
    finals = read_table(aggregate_dir / SUMMARY, "finals", "aggregate")
    table = families.write_summary_stats(finals, out)["summary_table"]
    print(table[["optimizer", "avg_rank"]].to_string(index=False), file=log)


def _mo_stats(aggregate_dir: Path, out: Path, log: TextIO) -> None:
    from nashpo.analysis import mo_figures

    data = read_group(aggregate_dir / MULTI_OBJECTIVE, mo.AGGREGATE_TABLES, "aggregate")
    tables = mo.mo_stats_tables(data)
    write_tables(out, tables, {k: mo.TABLE_FORMATS[k] for k in tables}, latex_captions=mo.LATEX_CAPTIONS)
    mo_figures.captions(data | tables, out)


def stats_study(aggregate_dir: Path, out_dir: Path, log: TextIO = sys.stderr, jobs: int = 1) -> dict[str, Any]:
    """Every group's tests and tables from the aggregate stage's folder."""
    aggregate_dir, out_dir = Path(aggregate_dir), Path(out_dir)
    parts = read_parts(aggregate_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    calls: list[Call] = []
    if parts["nb201"]:
        calls.append((_nb201_stats, (aggregate_dir, out_dir, log)))
    calls += [(_family_stats, (family, aggregate_dir, out_dir / family, log)) for family in parts["families"]]
    if parts[SUMMARY]:
        calls.append((_summary_stats, (aggregate_dir, out_dir / SUMMARY, log)))
    if parts[MULTI_OBJECTIVE]:
        calls.append((_mo_stats, (aggregate_dir, out_dir / MULTI_OBJECTIVE, log)))
    if parts.get(PARALLEL):
        calls.append((parallel.write_parallel_stats, (aggregate_dir / PARALLEL, out_dir / PARALLEL, log)))
    run_groups(calls, jobs)
    write_parts(out_dir, parts)
    return parts


def _nb201_figures(aggregate_dir: Path, stats_dir: Path, transfer_dir: Path, importance_dir: Path, out_dir: Path, log: TextIO) -> None:
    from nashpo.analysis.figures import make_figures
    from nashpo.analysis.io import add_caption_note, missing_note, read_missing_runs

    make_figures(aggregate_dir, stats_dir, transfer_dir, importance_dir, out_dir, log=log)
    add_caption_note(out_dir, missing_note(read_missing_runs(aggregate_dir)))


def _family_figures(family: str, aggregate_dir: Path, out: Path) -> None:
    tables = read_group(aggregate_dir / family, ("per_run_final", "curves_time"), "aggregate")
    out.mkdir(parents=True, exist_ok=True)
    families.anytime_figure(tables["curves_time"], tables["per_run_final"], family, out)


def _summary_figures(stats_dir: Path, out: Path) -> None:
    tables = read_group(stats_dir / SUMMARY, ("friedman", "nemenyi"), "stats")
    out.mkdir(parents=True, exist_ok=True)
    families.cd_figure(tables["friedman"], tables["nemenyi"], out)


def _mo_figures(aggregate_dir: Path, stats_dir: Path, out: Path, log: TextIO) -> None:
    from nashpo.analysis import mo_figures

    data = read_group(aggregate_dir / MULTI_OBJECTIVE, mo.AGGREGATE_TABLES, "aggregate")
    data |= read_group(stats_dir / MULTI_OBJECTIVE, mo.STATS_TABLES, "stats")
    out.mkdir(parents=True, exist_ok=True)
    mo_figures.render(data, out, log)


def _parallel_figures(aggregate_dir: Path, stats_dir: Path, out: Path, log: TextIO) -> None:
    from nashpo.analysis import parallel_figures

    parallel_figures.render(aggregate_dir, stats_dir, out, log)


def figures_study(
    aggregate_dir: Path,
    stats_dir: Path,
    out_dir: Path,
    transfer_dir: Path | None = None,
    importance_dir: Path | None = None,
    log: TextIO = sys.stderr,
    jobs: int = 1,
) -> dict[str, Any]:
    """Every group's figures (PNG + PDF + .rst caption each)."""
    aggregate_dir, stats_dir, out_dir = Path(aggregate_dir), Path(stats_dir), Path(out_dir)
    parts = read_parts(aggregate_dir)
    if parts["nb201"] and (transfer_dir is None or importance_dir is None):
        raise InputError("figures", str(out_dir), "NB201's figures need --transfer and --importance")
    out_dir.mkdir(parents=True, exist_ok=True)
    calls: list[Call] = []
    if parts["nb201"]:
        calls.append((_nb201_figures, (aggregate_dir, stats_dir, Path(transfer_dir), Path(importance_dir), out_dir, log)))  # type: ignore[arg-type]
    calls += [(_family_figures, (family, aggregate_dir, out_dir / family)) for family in parts["families"]]
    if parts[SUMMARY]:
        calls.append((_summary_figures, (stats_dir, out_dir / SUMMARY)))
    if parts[MULTI_OBJECTIVE]:
        calls.append((_mo_figures, (aggregate_dir, stats_dir, out_dir / MULTI_OBJECTIVE, log)))
    if parts.get(PARALLEL):
        calls.append((_parallel_figures, (aggregate_dir / PARALLEL, stats_dir / PARALLEL, out_dir / PARALLEL, log)))
    run_groups(calls, jobs)
    write_parts(out_dir, parts)
    return parts
