"""Final regret of every optimizer over many seeds (figures for the optimizer issue's note).

Usage: python benchmarks/study_regret.py --out /tmp/study [--dataset cifar10] [--seeds 20] [--evals 200] [--jobs 2]

Runs each optimizer via the CLI (PYTHONHASHSEED fixed) and prints mean ± std over seeds of the
final validation regret (oracle best 200-epoch validation accuracy minus the incumbent's) and
test regret (same with 200-epoch test accuracy), and of the search-fidelity validation regret.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.optimizers import REGISTRY
from nashpo.triallog import read_record


def run(out: Path, optimizer: str, dataset: str, seed: int, evals: int, protocol: str) -> Path:
    run_dir = out / dataset / protocol / optimizer / str(seed)
    if not (run_dir / "run.json").exists():
        cmd = [sys.executable, "-m", "nashpo", "run", "--optimizer", optimizer, "--dataset", dataset, "--seed", str(seed)]
        cmd += ["--max-evals", str(evals), "--protocol", protocol, "--out", str(run_dir), "--force"]
        subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONHASHSEED="0"), capture_output=True)
    return run_dir


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--evals", type=int, default=200)
    p.add_argument("--protocol", default="proxy")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--optimizers", default=",".join(REGISTRY))
    a = p.parse_args()
    optimizers = a.optimizers.split(",")
    jobs = [(o, s) for s in range(a.seeds) for o in optimizers]
    with ThreadPoolExecutor(a.jobs) as pool:
        dirs = list(pool.map(lambda job: run(a.out, job[0], a.dataset, job[1], a.evals, a.protocol), jobs))
    oracle = NB201Benchmark(a.dataset).oracle().set_index("epochs")
    search_e = 12 if a.protocol == "proxy" else 200
    rows = []
    for d in dirs:
        rec = read_record(d)
        inc = rec["incumbent"]
        rows.append(
            {
                "optimizer": rec["optimizer"],
                "seed": rec["seed"],
                "valid_regret_200": oracle.loc[200, "best_valid_acc"] - inc["valid_acc_200"],
                "test_regret_200": oracle.loc[200, "best_test_acc"] - inc["test_acc_200"],
                "search_valid_regret": oracle.loc[search_e if inc["epochs"] == search_e else inc["epochs"], "best_valid_acc"]
                - inc["valid_acc"],
                "sim_time": rec["sim_time"],
                "wall_s": rec["wall_seconds"],
            }
        )
    df = pd.DataFrame(rows)
    summary = df.groupby("optimizer").agg(["mean", "std"]).drop(columns="seed")
    pd.set_option("display.width", 200)
    print(f"{a.dataset}, protocol {a.protocol}, {a.evals} evaluations, {a.seeds} seeds (regret in percentage points)")
    print(summary.round(3).to_string())
    df.to_csv(a.out / f"final_{a.dataset}_{a.protocol}.csv", index=False)


if __name__ == "__main__":
    main()
