"""``nashpo run-chunk``: several seeds of one search in one process, one run folder per seed.

Chunks and their manifests: ``nashpo.manifests``. The task's table is opened once for every seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from nashpo.arguments import add_objectives_argument, add_workers_argument, fidelities_arg, hyperparameters_arg, objectives_arg, workers_arg
from nashpo.errors import InputError
from nashpo.manifests import clear_stale, parse_seeds, write_manifest
from nashpo.runner.budget import Budget


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
    workers: int = 1,
) -> dict[str, Any]:
    """Search every seed into ``runs_dir/<seed>`` (overwriting), then write the manifest."""
    from nashpo.benchmarks import get_family  # the search's libraries load when a chunk runs, not with the CLI
    from nashpo.optimizers import check_name, get_optimizer_class, resolve
    from nashpo.runner.loop import check_fidelity_support, check_parallel_support, run_search
    from nashpo.runner.workers import check_workers

    t0 = time.perf_counter()
    resolve(optimizer, hyperparameters)  # registers a plug-in; fails before any seed runs
    check_name(optimizer)
    workers = check_workers(workers)
    if not seeds:
        raise InputError("seeds", list(seeds), "no seeds given")
    if objectives is not None:  # bad objectives fail before any table is opened or seed runs
        from nashpo.objectives import parse_objectives

        parse_objectives(benchmark, objectives)
    family = get_family(benchmark)
    cls = get_optimizer_class(optimizer)
    check_fidelity_support(family, optimizer, cls)  # one clear line before any seed runs
    check_parallel_support(optimizer, cls, workers)
    table = family.load(dataset, data_dir)
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
            bench=table,
            benchmark=benchmark,
            objectives=objectives,
            workers=workers,
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
    write_manifest(record, Path(manifest))
    return record | {"wall_seconds_in_process": time.perf_counter() - t0}


def cmd_run_chunk(args: argparse.Namespace) -> None:
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
        workers=workers_arg(args.workers),
    )
    print(f"{len(record['runs'])} runs in {record['wall_seconds_in_process']:.2f} s; manifest {args.manifest}")


def add_commands(sub: argparse._SubParsersAction) -> None:
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
    add_workers_argument(p)
    p.set_defaults(func=cmd_run_chunk)
