"""Seeds at the cost of their search: one process per seed (`nashpo run`) vs one process per chunk
(`nashpo run-chunk`), side by side in one run, and each optimizer's overhead in a batched job.

Usage: python benchmarks/bench_batch.py [--data-dir DIR] [--seeds 10] [--repeats 3] [--optimizers rs,re,...]

1. Per-search wall time of rs on cifar10 (12,000 simulated seconds), old (a `nashpo run` process
   per seed) and new (one `nashpo run-chunk` process for all seeds, wall / seeds), repeats
   interleaved; medians and their ratio.
2. For each optimizer, one `run-chunk` process of ``--seeds`` seeds (smac: at most 3): the job's wall
   time, the optimizers' own ask+tell time (the trial logs' ``opt_time``), and the share of the job
   beyond it (target <= 10 %), split into start-up (Python + imports, process wall minus in-process
   wall) and the runner's own work (lookups, bookkeeping, writing the run folders).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nashpo.triallog import read_trials

BUDGET = ["--max-sim-seconds", "12000"]


def nashpo(args: list[str], data_dir: Path | None, cwd: Path) -> tuple[float, str]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    base = [sys.executable, "-m", "nashpo"] + (["--data-dir", str(data_dir)] if data_dir else [])
    t0 = time.perf_counter()
    res = subprocess.run([*base, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, res.stdout


def old_way(optimizer: str, seeds: int, data_dir: Path | None, tmp: Path) -> list[float]:
    walls = []
    for s in range(seeds):
        walls.append(
            nashpo(
                ["run", "--optimizer", optimizer, "--dataset", "cifar10", "--seed", str(s), *BUDGET, "--out", f"old{s}", "--force"],
                data_dir,
                tmp,
            )[0]
        )
    return walls


def new_way(optimizer: str, seeds: int, data_dir: Path | None, tmp: Path) -> tuple[float, dict]:
    manifest = tmp / "new" / f"seeds_0-{seeds - 1}.json"
    args = ["run-chunk", "--optimizer", optimizer, "--dataset", "cifar10", "--seeds", f"0-{seeds - 1}", *BUDGET]
    wall, out = nashpo([*args, "--runs-dir", str(tmp / "new"), "--manifest", str(manifest)], data_dir, tmp)
    in_process = float(re.search(r"runs in ([0-9.]+) s", out)[1])  # printed by run-chunk
    return wall, json.loads(manifest.read_text()) | {"wall_seconds_in_process": in_process}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--optimizers", default="rs,re,re_autodl,reinforce,tpe,dehb,smac_hb,smac")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        nashpo(["run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "0", "--max-evals", "5", "--out", "warm"], args.data_dir, tmp)
        old, new = [], []
        for _ in range(args.repeats):
            old += old_way("rs", args.seeds, args.data_dir, tmp)
            wall, _ = new_way("rs", args.seeds, args.data_dir, tmp)
            new.append(wall / args.seeds)
        o, n = statistics.median(old), statistics.median(new)
        print(
            f"rs per search, {args.seeds} seeds x {args.repeats} repeats: one process per seed {o:.3f} s (median), one process per chunk {n:.3f} s (median): {o / n:.1f}x faster"
        )

        print("\nbatched job per optimizer (cifar10, 12,000 simulated s):")
        print(f"{'optimizer':<10} {'seeds':>5} {'job s':>8} {'opt_time s':>10} {'beyond':>7} {'start-up':>9} {'runner':>7}")
        pooled_job = pooled_opt = 0.0
        for opt in args.optimizers.split(","):
            seeds = min(args.seeds, 3) if opt == "smac" else args.seeds
            wall, manifest = new_way(opt, seeds, args.data_dir, tmp)
            opt_time = sum(float(read_trials(Path(r["run"]))["opt_time"].sum()) for r in manifest["runs"])
            startup = wall - manifest["wall_seconds_in_process"]
            beyond = wall - opt_time
            pooled_job, pooled_opt = pooled_job + wall, pooled_opt + opt_time
            print(
                f"{opt:<10} {seeds:>5} {wall:>8.2f} {opt_time:>10.2f} {100 * beyond / wall:>6.1f}% {100 * startup / wall:>8.1f}% {100 * (beyond - startup) / wall:>6.1f}%"
            )
        print(
            f"{'all':<10} {'':>5} {pooled_job:>8.2f} {pooled_opt:>10.2f} {100 * (pooled_job - pooled_opt) / pooled_job:>6.1f}%   (target <= 10 %)"
        )


if __name__ == "__main__":
    main()
