"""Runner overhead per trial with K simulated workers (target: K = 16 within 1.2x of K = 1).

Usage: python benchmarks/parallel_overhead.py [--trials 5000] [--repeats 5] [--workers 1 4 16] [--data-dir DIR]

rs on NB201 cifar10 (proxy protocol, mean train time ~110 s per trial). Each K gets the budget
``trials * mean cost / K`` simulated seconds, so every K runs about the same number of trials.
Overhead per trial = (search loop wall - the optimizer's own ask + tell) / trials, where the loop is
``run.json``'s ``timing.loop_seconds`` (asks, table lookups, the event heap, incumbent bookkeeping,
trial-log rows; without the optimizer's setup and the parquet/JSON write) and ask + tell is the sum
of the log's ``opt_time``. Also shown: the whole ``run_search`` call per trial (with the write).
Medians over repeats (seeds 0..repeats-1); the table is opened once and shared.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.runner import Budget, run_search
from nashpo.triallog import read_trials

TASK = "cifar10"


def one_run(workers: int, budget: float, seed: int, bench: Any, data_dir: Path | None, tmp: Path) -> dict[str, float]:
    out = tmp / f"k{workers}-{seed}"
    t0 = time.perf_counter()
    rec = run_search("rs", TASK, seed, Budget(budget), out, data_dir=data_dir, progress=None, bench=bench, workers=workers, force=True)
    wall = time.perf_counter() - t0
    n = int(rec["n_trials"])
    opt = float(read_trials(out)["opt_time"].sum())
    loop = float(rec["timing"]["loop_seconds"])
    return {"trials": n, "overhead": (loop - opt) / n, "whole": wall / n, "opt": opt / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--trials", type=int, default=5000, help="about this many trials per search, whatever K")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    bench = NB201Benchmark(TASK, args.data_dir)
    mean_cost = float(bench.table.columns["cost@12"].mean())
    results: dict[int, list[dict[str, float]]] = {k: [] for k in args.workers}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        one_run(1, 6000.0, 0, bench, args.data_dir, tmp)  # warm caches
        for seed in range(args.repeats):
            for k in args.workers:  # interleaved, so drifts of a shared machine hit every K alike
                results[k].append(one_run(k, args.trials * mean_cost / k, seed, bench, args.data_dir, tmp))
    base = statistics.median(r["overhead"] for r in results[args.workers[0]])
    print(f"rs on NB201 {TASK}, about {args.trials} trials per search, medians over {args.repeats} seeds")
    print(f"{'K':>4} {'trials':>7} {'overhead us/trial':>18} {'ratio':>6} {'ask+tell us/trial':>18} {'whole run us/trial':>19}")
    for k in args.workers:
        rows = results[k]
        over = statistics.median(r["overhead"] for r in rows)
        print(
            f"{k:>4} {statistics.median(r['trials'] for r in rows):>7.0f} {over * 1e6:>18.1f} {over / base:>6.2f} "
            f"{statistics.median(r['opt'] for r in rows) * 1e6:>18.1f} {statistics.median(r['whole'] for r in rows) * 1e6:>19.1f}"
        )
    print(f"target: K = 16 within 1.2x of K = {args.workers[0]}")


if __name__ == "__main__":
    main()
