"""REINFORCE's learning rate against the NB201 paper's REINFORCE row (Table 5).

AutoDL-Projects runs ``exps/algos/reinforce.py`` with ``--learning_rate 0.001``
(``scripts-search/algos/REINFORCE.sh``); ``scripts-search/.../hps/GRID-RL.sh`` sweeps the learning
rate over 0.01..0.5. This script searches cifar10 with the paper's protocol (12-epoch proxy,
12,000 simulated seconds) for every learning rate and reward noise (``mean``: the mean over
NB201's training seeds; ``seed``: one training seed per query, as the paper's
``get_more_info(..., is_random=True)``; the reported architecture is the best of the trace by that
reward), and prints the final incumbent's 200-epoch accuracy, mean ± standard error, on the six
columns of Table 5, with the difference to the published row in standard errors of the difference.

    python benchmarks/reinforce_sweep.py --seeds 500 [--data-dir DIR] [--rates 0.001,0.01,...]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nashpo.analysis.nb201_table import METRICS, PUBLISHED, PUBLISHED_N, col, incumbents, lookups
from nashpo.runner import Budget
from nashpo.runner.chunk import run_chunk

RATES = (0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
NOISES = ("mean", "seed")
SHORT = {"cifar10": "C10", "cifar100": "C100", "ImageNet16-120": "IN16"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--noises", default=",".join(NOISES))
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    noises = args.noises.split(",")
    seeds = list(range(args.seeds))
    header = ["lr", "noise", "n", *(f"{SHORT[d]} {s}" for d, s in METRICS), "max|dSE|", "cpu s"]
    print(" | ".join(header))
    published = " | ".join(f"{m:.2f}±{sd / math.sqrt(PUBLISHED_N):.2f}" for m, sd in PUBLISHED["REINFORCE"].values())
    print(f"paper | -- | {PUBLISHED_N} | {published} | |")
    with tempfile.TemporaryDirectory(prefix="nashpo-reinforce-sweep-") as tmp:
        for noise in noises:
            for lr in rates:
                runs = Path(tmp) / f"{noise}_{lr}"
                t0 = time.process_time()
                hp = {"learning_rate": lr, "ema_momentum": 0.9}
                budget = Budget(max_sim_seconds=12000)
                run_chunk(
                    "reinforce",
                    "cifar10",
                    seeds,
                    budget,
                    runs,
                    runs / "seeds.json",
                    hyperparameters=hp,
                    noise=noise,
                    data_dir=args.data_dir,
                    progress=None,
                )
                cpu = time.process_time() - t0
                per_run = lookups(incumbents(sorted(p for p in runs.iterdir() if p.is_dir())), args.data_dir)
                cells, worst = [], 0.0
                for d, s in METRICS:
                    v = per_run[col(d, s, "acc")].to_numpy(float)
                    mean, std = float(v.mean()), float(v.std(ddof=1))
                    pm, ps = PUBLISHED["REINFORCE"][(d, s)]
                    dse = (mean - pm) / math.sqrt(std**2 / len(v) + ps**2 / PUBLISHED_N)
                    worst = max(worst, abs(dse))
                    cells.append(f"{mean:.2f}±{std / math.sqrt(len(v)):.2f} ({dse:+.1f})")
                print(f"{lr:g} | {noise} | {len(seeds)} | {' | '.join(cells)} | {worst:.1f} | {cpu:.0f}", flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
