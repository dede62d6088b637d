"""Speed of the multi-objective core: hypervolume, exact NB201 fronts, and the MO loop against the SO loop.

Usage: python benchmarks/bench_mo.py [--data-dir DIR] [--repeats 7]

Prints medians:
- HV of a 2-objective front of 1,000 points (target <= 1 ms): ``nashpo.pareto.hypervolume``
  (normalisation + moocore), moocore alone, and pymoo's ``HV`` indicator side by side, with ratios;
- every NB201 true front at the search fidelity (27 HELP devices x 3 datasets, 12 epochs; tables
  opened before timing, front cache cleared before each repeat; target <= 2 s in total), and the
  same at 200 epochs;
- per-trial wall time of a 1,000-evaluation cifar10 search: ``mo_rs`` with two objectives (HV
  regret after every trial) against ``rs`` (single objective), same samples.
Missing NB201 tables are prepared first (not timed).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import moocore
import numpy as np

from nashpo.benchmarks.nb201 import HELP_DEVICES, NB201Benchmark
from nashpo.data.prepare import default_data_dir
from nashpo.data.sources import DATASETS
from nashpo.objectives import parse_objectives
from nashpo.pareto import REF, _cached_front, front_from_matrix, hypervolume, true_front


def median_seconds(fn: Callable[[], object], repeats: int, inner: int = 1) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t) / inner)
    return statistics.median(times)


def front_of(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` mutually non-dominated points on a convex curve, with noise along it."""
    x = np.sort(rng.uniform(0, 1, n))
    return np.column_stack([x, (1 - np.sqrt(x)) * 10])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    data_dir = args.data_dir or default_data_dir()
    print(f"nashpo bench_mo, {datetime.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")

    # ---- HV of a 1,000-point front
    points = front_of(1000, np.random.default_rng(0))
    assert moocore.is_nondominated(points).all()
    front = front_from_matrix(points)
    z = front.normalise(points)
    ref = np.full(2, REF)
    ours = median_seconds(lambda: hypervolume(points, front), args.repeats, inner=50)
    alone = median_seconds(lambda: moocore.hypervolume(z, ref=ref), args.repeats, inner=50)
    line = f"HV of a 1,000-point 2-objective front: nashpo {ours * 1e3:.3f} ms, moocore alone {alone * 1e3:.3f} ms"
    try:
        from pymoo.indicators.hv import HV

        indicator = HV(ref_point=ref)
        theirs = median_seconds(lambda: indicator(z), args.repeats, inner=5)
        assert abs(float(indicator(z)) - hypervolume(points, front)) < 1e-9
        line += f", pymoo HV {theirs * 1e3:.3f} ms ({theirs / ours:.1f}x nashpo)"
    except ImportError:
        line += ", pymoo not installed"
    print(line + "   (target <= 1 ms)")

    # ---- every NB201 true front
    tables = {d: NB201Benchmark(d, data_dir) for d in DATASETS}
    sets = [parse_objectives("nb201", ["valid_error", f"latency:{dev}"]) for dev in HELP_DEVICES]
    for fidelity in (12, 200):

        def all_fronts(fidelity: int = fidelity) -> int:
            _cached_front.cache_clear()
            return sum(len(true_front("nb201", t, objs, fidelity).codes) for t in tables.values() for objs in sets)

        total = median_seconds(all_fronts, args.repeats)
        sizes = all_fronts()
        target = "   (target <= 2 s)" if fidelity == 12 else ""
        print(
            f"all {len(sets) * len(tables)} NB201 true fronts @{fidelity} epochs (27 devices x 3 datasets): {total:.3f} s in total, "
            f"{total / (len(sets) * len(tables)) * 1e3:.2f} ms each, {sizes / (len(sets) * len(tables)):.1f} configurations per front{target}"
        )

    # ---- MO loop vs SO loop, per trial
    from nashpo.runner import Budget, run_search

    per_trial = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, objectives in (("rs", None), ("mo_rs", ["valid_error", "latency:pixel3"])):

            def search(name: str = name, objectives: list[str] | None = objectives) -> None:
                run_search(
                    name,
                    "cifar10",
                    0,
                    Budget(max_evals=1000),
                    Path(tmp) / name,
                    data_dir=data_dir,
                    progress=None,
                    force=True,
                    objectives=objectives,
                )

            per_trial[name] = median_seconds(search, max(3, args.repeats // 2)) / 1000
    print(
        f"1,000-evaluation search, wall time per trial: rs {per_trial['rs'] * 1e6:.1f} us, mo_rs (2 objectives, HV regret after every trial) "
        f"{per_trial['mo_rs'] * 1e6:.1f} us ({per_trial['mo_rs'] / per_trial['rs']:.2f}x)"
    )


if __name__ == "__main__":
    main()
