"""Where a finished study spent its CPU: searches, exports, analysis, and process start-up.

    python benchmarks/study_cpu.py results

Reads Snakemake's per-job benchmark files (``results/benchmarks/**.tsv``: wall ``s`` and ``cpu_time``
of the whole job process) and, where run records hold it, each search's own CPU time
(``cpu_seconds`` in ``run.json``). A search job's CPU minus its searches' CPU is what the job spent
outside the searches: interpreter start-up, imports, opening the table, writing the manifest.
Under ``--cores 8`` on fewer cores wall times overlap, so only CPU seconds add up.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path


def stage_of(tsv: Path, root: Path) -> str:
    parts = tsv.relative_to(root).parts
    if "search" in parts:
        return "search"
    if "deepcave" in parts:
        return "export"
    return "analysis"


def job_times(results: Path) -> dict[str, dict[str, float]]:
    root = results / "benchmarks"
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "wall": 0.0, "cpu": 0.0})
    for tsv in sorted(root.rglob("*.tsv")):
        with open(tsv, newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        stage = out[stage_of(tsv, root)]
        for row in rows:
            stage["jobs"] += 1
            stage["wall"] += float(row["s"])
            stage["cpu"] += float(row["cpu_time"]) if row["cpu_time"] not in ("", "NA") else 0.0
    return out


def search_times(results: Path) -> dict[str, float]:
    n = wall = cpu = 0.0
    with_cpu = 0
    for record in results.rglob("run.json"):
        if "deepcave" in record.relative_to(results).parts:
            continue
        rec = json.loads(record.read_text())
        n += 1
        wall += float(rec.get("wall_seconds", 0.0))
        if "cpu_seconds" in rec:
            with_cpu += 1
            cpu += float(rec["cpu_seconds"])
    return {"runs": n, "wall": wall, "cpu": cpu, "with_cpu": with_cpu}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", type=Path)
    args = p.parse_args()
    jobs = job_times(args.results)
    runs = search_times(args.results)
    print(f"{'stage':<10}{'jobs':>6}{'job CPU s':>12}{'job wall s':>12}")
    for stage in ("search", "export", "analysis"):
        t = jobs.get(stage, {"jobs": 0, "wall": 0.0, "cpu": 0.0})
        print(f"{stage:<10}{int(t['jobs']):>6}{t['cpu']:>12.1f}{t['wall']:>12.1f}")
    total = sum(t["cpu"] for t in jobs.values())
    print(f"{'all jobs':<10}{int(sum(t['jobs'] for t in jobs.values())):>6}{total:>12.1f}")
    print(f"runs: {int(runs['runs'])}, summed run wall_seconds {runs['wall']:.1f} s", end="")
    if runs["with_cpu"]:
        outside = jobs["search"]["cpu"] - runs["cpu"]
        print(f", summed run cpu_seconds {runs['cpu']:.1f} s ({int(runs['with_cpu'])} runs);")
        print(f"search jobs outside their searches (start-up, imports, tables): {outside:.1f} CPU s")
    else:
        print("; the run records hold no cpu_seconds")


if __name__ == "__main__":
    main()
