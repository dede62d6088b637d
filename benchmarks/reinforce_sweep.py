"""REINFORCE's learning rate and incumbent rule against the NB201 paper's REINFORCE row (Table 5).

AutoDL-Projects runs ``exps/algos/reinforce.py`` with ``--learning_rate 0.001``
(``scripts-search/algos/REINFORCE.sh``); ``scripts-search/.../hps/GRID-RL.sh`` sweeps the learning
rate over 0.01..0.5. This script searches cifar10 with the paper's protocol (12-epoch proxy,
12,000 simulated seconds, seed-mean rewards: the 12-epoch data holds no per-seed values, so
``noise: seed`` is refused there) for every learning rate, and reads every search under each
incumbent rule of ``nashpo.analysis.nb201_table`` (``budget``: the incumbent over the trials that
fit; ``crossing``: the best of those and the trial that crossed the budget, as the paper's
``reinforce.py`` reports). The rules change what a run reports, not the search, so one search serves
both. ``--others rs,re_autodl`` adds those optimizers (paper.yaml's settings) against their
published rows. It prints the reported architecture's 200-epoch accuracy, mean ± standard error, on
the six columns of Table 5, with the difference to the published row in standard errors of the
difference, and how many runs report the crossing trial.

    python benchmarks/reinforce_sweep.py --seeds 500 [--data-dir DIR] [--rates 0.001,0.01,...]
        [--rules budget,crossing] [--others rs,re_autodl]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from nashpo.analysis.nb201_table import COUNTERPART, METRICS, PUBLISHED, PUBLISHED_N, col, incumbents, lookups
from nashpo.runner import Budget
from nashpo.runner.chunk import run_chunk

RATES = (0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
RULES = ("budget", "crossing")
OTHERS: dict[str, dict[str, Any]] = {
    "rs": {},
    "re_autodl": {"population_size": 10, "sample_size": 3},
    "re": {"population_size": 10, "sample_size": 3},
}
SHORT = {"cifar10": "C10", "cifar100": "C100", "ImageNet16-120": "IN16"}


def rows_of(runs: Path, optimizer: str, label: str, rules: list[str], cpu: float, data_dir: Path | None) -> None:
    """Print one line per incumbent rule for the searches in ``runs``."""
    published = PUBLISHED[COUNTERPART[optimizer]]
    folders = sorted(p for p in runs.iterdir() if p.is_dir())
    for rule in rules:
        per_run = lookups(incumbents(folders, rule), data_dir)
        cells, worst = [], 0.0
        for d, s in METRICS:
            v = per_run[col(d, s, "acc")].to_numpy(float)
            mean, std = float(v.mean()), float(v.std(ddof=1))
            pm, ps = published[(d, s)]
            dse = (mean - pm) / math.sqrt(std**2 / len(v) + ps**2 / PUBLISHED_N)
            worst = max(worst, abs(dse))
            cells.append(f"{mean:.2f}±{std / math.sqrt(len(v)):.2f} ({dse:+.1f})")
        crossed = int(per_run["crossing_trial"].sum())
        print(f"{optimizer} | {label} | {rule} | {len(per_run)} | {crossed} | {' | '.join(cells)} | {worst:.1f} | {cpu:.0f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--rates", default=",".join(map(str, RATES)), help="reinforce learning rates ('' for none)")
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--others", default="", help=f"other optimizers, from {', '.join(OTHERS)}")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r]
    rules = args.rules.split(",")
    others = [o for o in args.others.split(",") if o]
    seeds = list(range(args.seeds))
    header = ["optimizer", "lr", "rule", "n", "crossing", *(f"{SHORT[d]} {s}" for d, s in METRICS), "max|dSE|", "cpu s"]
    print(" | ".join(header))
    for name in ("REINFORCE", *sorted({COUNTERPART[o] for o in others})):
        published = " | ".join(f"{m:.2f}±{sd / math.sqrt(PUBLISHED_N):.2f}" for m, sd in PUBLISHED[name].values())
        print(f"paper {name} | -- | -- | {PUBLISHED_N} | -- | {published} | |")
    searches = [("reinforce", f"{lr:g}", {"learning_rate": lr, "ema_momentum": 0.9}) for lr in rates]
    searches += [(o, "--", OTHERS[o]) for o in others]
    with tempfile.TemporaryDirectory(prefix="nashpo-reinforce-sweep-") as tmp:
        for optimizer, label, hp in searches:
            runs = Path(tmp) / f"{optimizer}_{label}"
            t0 = time.process_time()
            budget = Budget(max_sim_seconds=12000)
            run_chunk(
                optimizer, "cifar10", seeds, budget, runs, runs / "seeds.json", hyperparameters=hp, data_dir=args.data_dir, progress=None
            )
            rows_of(runs, optimizer, label, rules, time.process_time() - t0, args.data_dir)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
