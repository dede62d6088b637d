"""Chunks of seeds in one process: ``nashpo run-chunk`` and ``nashpo to-deepcave-chunk``.

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

import argparse
import json
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

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


def run_chunk(
    optimizer: str,
    dataset: str,
    seeds: Sequence[int],
    budget: Any,
    runs_dir: Path,
    manifest: Path,
    protocol: str | None = None,
    hyperparameters: dict[str, Any] | None = None,
    fidelities: list[int] | None = None,
    noise: str = "mean",
    data_dir: Path | None = None,
    progress: TextIO | None = sys.stderr,
    benchmark: str = "nb201",
    objectives: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Search every seed into ``runs_dir/<seed>`` (overwriting), then write the manifest."""
    from nashpo.benchmark import NB201Benchmark
    from nashpo.optimizers import check_name, get_optimizer_class
    from nashpo.runner import run_search

    t0 = time.perf_counter()
    from nashpo.optimizers import resolve

    resolve(optimizer, hyperparameters)  # registers a plug-in; fails before any seed runs
    check_name(optimizer)
    if not seeds:
        raise InputError("seeds", list(seeds), "no seeds given")
    if objectives is not None:  # bad objectives fail before any table is opened or seed runs
        from nashpo.objectives import parse_objectives

        parse_objectives(benchmark, objectives)
    if benchmark == "nb201":
        bench: Any = NB201Benchmark(dataset, data_dir)
    else:
        from nashpo.benchmarks import get_family

        family = get_family(benchmark)
        cls = get_optimizer_class(optimizer)
        if cls.multi_fidelity:  # one clear line before any seed runs
            from nashpo.runner import single_fidelity_only

            raise InputError("optimizer", optimizer, single_fidelity_only(family, cls))
        bench = family.open(family.check_task(dataset), data_dir)
    runs_dir = Path(runs_dir)
    runs = []
    for seed in seeds:
        clear_stale(runs_dir, seed)
        rec = run_search(
            optimizer,
            dataset,
            seed,
            budget,
            runs_dir / str(seed),
            protocol=protocol,
            hyperparameters=hyperparameters,
            fidelities=fidelities,
            noise=noise,
            data_dir=data_dir,
            force=True,
            progress=progress,
            bench=bench,
            benchmark=benchmark,
            objectives=objectives,
        )
        runs.append(
            {
                "seed": seed,
                "run": str(runs_dir / str(seed)),
                "n_trials": rec["n_trials"],
                "sim_time": rec["sim_time"],
            }
        )
    record = {
        "kind": "runs",
        "benchmark": benchmark,
        "optimizer": optimizer,
        "dataset": dataset,
        "seeds": list(seeds),
        "runs": runs,
    }  # no timings: a rerun writes the same bytes (timings are in each run.json)
    Path(manifest).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(record, Path(manifest))
    return record | {"wall_seconds_in_process": time.perf_counter() - t0}


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
    Path(manifest).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(record, Path(manifest))
    return record | {"wall_seconds_in_process": time.perf_counter() - t0}


# ------------------------------------------------------------------ CLI


def cmd_run_chunk(args: argparse.Namespace) -> None:
    from nashpo.cli import fidelities_arg, hyperparameters_arg, objectives_arg
    from nashpo.runner import Budget

    hp, fids = hyperparameters_arg(args.hp), fidelities_arg(args.fidelities)
    record = run_chunk(
        args.optimizer,
        args.dataset,
        parse_seeds(args.seeds),
        Budget(args.max_sim_seconds, args.max_evals),
        Path(args.runs_dir),
        Path(args.manifest),
        protocol=args.protocol,
        hyperparameters=hp,
        fidelities=fids,
        noise=args.noise,
        data_dir=args.data_dir,
        benchmark=args.benchmark,
        objectives=objectives_arg(args.objectives),
    )
    print(f"{len(record['runs'])} runs in {record['wall_seconds_in_process']:.2f} s; manifest {args.manifest}")


def cmd_export_chunk(args: argparse.Namespace) -> None:
    record = export_chunk(Path(args.runs), Path(args.out_dir), Path(args.manifest))
    print(f"{len(record['runs'])} DeepCAVE runs in {record['wall_seconds_in_process']:.2f} s; manifest {args.manifest}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    from nashpo.cli import add_objectives_argument

    p = sub.add_parser("run-chunk", help="run several seeds of one search in one process (one run folder per seed)")
    p.add_argument("--optimizer", required=True)
    p.add_argument("--benchmark", default="nb201", help="benchmark family: nb201|hpolib|hpobench (default: nb201)")
    p.add_argument("--dataset", "--task", dest="dataset", required=True, help="NB201 dataset or the family's task")
    p.add_argument("--seeds", required=True, help="e.g. 0-9 or 0,3,5")
    p.add_argument("--max-sim-seconds", type=float)
    p.add_argument("--max-evals", type=int)
    p.add_argument("--protocol", help="NB201: proxy (default) or full; other families: final values only")
    p.add_argument("--hp", help="optimizer hyperparameters as a JSON object")
    p.add_argument("--fidelities", help="comma-separated epochs for multi-fidelity optimizers")
    p.add_argument("--noise", default="mean")
    p.add_argument("--runs-dir", required=True, help="folder that receives one run folder per seed (overwritten)")
    p.add_argument("--manifest", required=True, help="chunk manifest to write last (JSON)")
    add_objectives_argument(p)
    p.set_defaults(func=cmd_run_chunk)

    p = sub.add_parser("to-deepcave-chunk", help="export every run of a run-chunk manifest to DeepCAVE")
    p.add_argument("--runs", required=True, help="manifest written by `nashpo run-chunk`")
    p.add_argument("--out-dir", required=True, help="folder that receives one DeepCAVE run per seed (overwritten)")
    p.add_argument("--manifest", required=True, help="export manifest to write last (JSON)")
    p.set_defaults(func=cmd_export_chunk)
