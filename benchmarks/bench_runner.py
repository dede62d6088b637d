"""Runner speed: rs with 10,000 evaluations, and the runner's own overhead per trial vs SMAC's.

Usage: python benchmarks/bench_runner.py [--data-dir DIR] [--repeats 5] [--smac-evals 100]

Overhead per trial: for rs, (whole run - rs ask+tell) / trials, which includes table load and the
final parquet/JSON write; for SMAC, (search loop - SMAC ask+tell) / trials, i.e. lookups, incumbent
bookkeeping and trial-log buffering (SMAC's facade construction is excluded). Medians over repeats.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from nashpo.runner import Budget, run_search
from nashpo.triallog import read_trials


def one_run(optimizer: str, evals: int, seed: int, data_dir: Path | None) -> tuple[float, float, int, float]:
    """(whole run wall s, optimizer ask+tell s, trials, search-loop wall s)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rec = run_search(optimizer, "cifar10", seed, Budget(max_evals=evals), Path(tmp) / "run", data_dir=data_dir, progress=None)
        wall = time.perf_counter() - t0
        opt_time = float(read_trials(Path(tmp) / "run")["opt_time"].sum())
    return wall, opt_time, evals, rec["timing"]["loop_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smac-evals", type=int, default=100)
    args = parser.parse_args()

    one_run("rs", 100, 0, args.data_dir)  # warm caches (table load, imports)
    rs = [one_run("rs", 10_000, s, args.data_dir) for s in range(args.repeats)]
    rs_wall = statistics.median(w for w, _, _, _ in rs)
    rs_over = statistics.median((w - o) / n for w, o, n, _ in rs)
    print(f"rs, 10,000 evaluations incl. trial log: median {rs_wall:.3f} s over {args.repeats} runs (target <= 1 s)")
    print(f"runner overhead per trial (rs): median {rs_over * 1e6:.1f} us")

    smac = [one_run("smac", args.smac_evals, s, args.data_dir) for s in range(max(1, args.repeats // 2))]
    smac_per_trial = statistics.median(o / n for _, o, n, _ in smac)
    # loop time minus SMAC's own ask+tell, plus the trial-log/record write (whole run minus loop minus SMAC setup is excluded)
    smac_over = statistics.median((loop - o) / n for _, o, n, loop in smac)
    print(f"SMAC ask+tell per trial ({args.smac_evals} evals): median {smac_per_trial * 1e3:.2f} ms")
    print(
        f"runner overhead per trial (SMAC run): median {smac_over * 1e3:.3f} ms = {100 * smac_over / smac_per_trial:.2f}% of SMAC's time (target <= 5%)"
    )


if __name__ == "__main__":
    main()
