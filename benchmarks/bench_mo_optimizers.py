"""Wall time of the multi-objective adapters, side by side in one process.

Usage: python benchmarks/bench_mo_optimizers.py [--data-dir DIR] [--seeds 3] [--max-evals 100]
       [--adapters linas,parego] [--hp '{"predictor": "svr"}']   (hyperparameters for every adapter given)

Every adapter (and ``mo_rs`` for reference) searches NB201 cifar10 with objectives
valid_error + latency:pixel3 (proxy protocol; ``mo_smac_mf`` on 12 and 200 epochs) for
``--max-evals`` trials, once per seed, through ``nashpo.runner.run_search``. Prints, per adapter,
the median over seeds of the run's wall seconds (setup + loop + close, as ``run.json`` records
them), of the optimizer's own ask+tell seconds (``opt_time``), and the mean final HV regret; and
LINAS's predictor cost: median fit+predict wall seconds per LINAS iteration (one fit per objective,
then ``n_generations`` inner NSGA-II generations of predictions), its fit and its prediction cost per
inner generation. Missing NB201 tables are prepared first (not timed).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.prepare import default_data_dir
from nashpo.runner import Budget, run_search

ADAPTERS = ("mo_rs", "nsga2", "linas", "motpe", "parego", "mo_smac_mf")
OBJECTIVES = ["valid_error", "latency:pixel3"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-evals", type=int, default=100)
    parser.add_argument("--adapters", default=",".join(ADAPTERS), help="comma-separated (default: all)")
    parser.add_argument("--hp", default="{}", help="JSON hyperparameters passed to every adapter run")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    data = Path(args.data_dir or default_data_dir())
    bench = NB201Benchmark("cifar10", data)  # prepares the table if missing
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(f"NB201 cifar10, {','.join(OBJECTIVES)}, max_evals {args.max_evals}, seeds 0..{args.seeds - 1}, hp {args.hp}; medians over seeds")
    print(f"{'adapter':<11} {'wall s':>8} {'ask+tell s':>11} {'hv_regret':>10}")
    linas: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="nashpo-bench-mo-opt-") as tmp:
        for name in args.adapters.split(","):
            walls, opt, regret = [], [], []
            for seed in range(args.seeds):
                out = Path(tmp) / f"{name}_{seed}"
                rec = run_search(
                    name,
                    "cifar10",
                    seed,
                    Budget(max_evals=args.max_evals),
                    out,
                    hyperparameters=json.loads(args.hp),
                    data_dir=data,
                    progress=None,
                    bench=bench,
                    objectives=OBJECTIVES,
                )
                walls.append(rec["wall_seconds"])
                opt.append(float(pd.read_parquet(out / "trials.parquet")["opt_time"].sum()))
                regret.append(rec["hv_regret"])
                if name == "linas":
                    linas.append(json.loads((out / "optimizer" / "linas_predictor.json").read_text()))
            print(f"{name:<11} {statistics.median(walls):>8.2f} {statistics.median(opt):>11.2f} {np.mean(regret):>10.4f}")
    if not linas:
        return
    its = [it for record in linas for it in record["iterations"]]
    fit_predict = statistics.median(it["fit_predict_seconds"] for it in its)
    fit = statistics.median(it["fit_seconds"] for it in its)
    per_gen = statistics.median(r["median_predict_seconds_per_generation"] for r in linas)
    print(
        f"linas predictor ({linas[0]['predictor']}), {len(its)} iterations over {len(linas)} runs: "
        f"median fit+predict {fit_predict * 1000:.2f} ms per iteration (fit {fit * 1000:.2f} ms), "
        f"prediction {per_gen * 1000:.3f} ms per inner generation"
    )


if __name__ == "__main__":
    main()
