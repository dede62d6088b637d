"""True-front size and exact hypervolume time by number of objectives (NB201, 15,625 architectures).

    python benchmarks/hv_dimensions.py [--dataset cifar10] [--repeats 5]

For m = 2..6 objectives (valid_error first, then params, NB201's latency and HELP device latencies)
it prints the true front's size, its HV (normalised, reference 1.1) and the median milliseconds of
moocore's exact HV of the front and of the front's computation from the whole table.
"""

from __future__ import annotations

import argparse
import statistics
import time

import moocore
import numpy as np

from nashpo.objectives import objective_matrix, open_task, parse_objectives
from nashpo.pareto import REF, front_from_matrix

SETS = [
    "valid_error,latency:pixel3",
    "valid_error,params,latency:pixel3",
    "valid_error,latency:pixel3,latency:titan_rtx_1,latency:raspi4",
    "valid_error,params,latency:pixel3,latency:titan_rtx_1,latency:raspi4",
    "valid_error,params,latency,latency:pixel3,latency:titan_rtx_1,latency:raspi4",
]


def median_seconds(fn, arg, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def exact_hv(z: np.ndarray) -> float:
    return float(moocore.hypervolume(z, ref=np.full(z.shape[1], REF)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    table = open_task("nb201", args.dataset)
    print("| m | objectives | front size | HV | exact HV of the front (ms) | front from the table (ms) |")
    print("|---|---|---|---|---|---|")
    for spec in SETS:
        objs = parse_objectives("nb201", spec)
        values = objective_matrix("nb201", table, objs)
        front = front_from_matrix(values)
        z = front.normalise(front.points)
        hv_s = median_seconds(exact_hv, z, args.repeats)
        front_s = median_seconds(front_from_matrix, values, args.repeats)
        print(f"| {len(objs)} | {spec} | {len(front.codes)} | {front.hv:.6f} | {hv_s * 1e3:.2f} | {front_s * 1e3:.1f} |")


if __name__ == "__main__":
    main()
