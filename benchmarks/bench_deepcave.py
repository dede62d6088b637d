"""DeepCAVE plugins on a 200-trial export: seconds per plugin, Footprint capped and uncapped.

Usage: python benchmarks/bench_deepcave.py [--data-dir DIR] [--optimizer rs] [--trials 200]
       [--caps 100 250] [--uncapped]

Runs one search (cifar10, seed 0), exports it with ``nashpo to-deepcave``'s code and calls every
DeepCAVE plugin headless (``process`` + ``load_outputs``, as the dashboard does). Footprint runs
with the border/random configurations capped per kind (``nashpo deepcave``'s default 250; target:
<= 60 s), and with ``--uncapped`` also as DeepCAVE ships it (up to 4,000 points: minutes).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("PYTHONHASHSEED", "0")

from nashpo.data.prepare import default_data_dir
from nashpo.export.deepcave import load_export, trials_to_deepcave
from nashpo.export.plugins import FOOTPRINT_SUPPORT, PLUGINS, bounded_footprint, run_plugin
from nashpo.runner import Budget, run_search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--optimizer", default="rs")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--caps", type=int, nargs="*", default=[100, FOOTPRINT_SUPPORT])
    parser.add_argument("--uncapped", action="store_true", help="also run DeepCAVE's own Footprint (minutes)")
    args = parser.parse_args()
    print(
        f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        run_search(
            args.optimizer,
            "cifar10",
            0,
            Budget(max_evals=args.trials),
            run_dir,
            data_dir=args.data_dir or default_data_dir(),
            progress=None,
        )
        run = load_export(trials_to_deepcave(run_dir, Path(tmp) / "dc"))
        n_top = len(run.get_configs(budget=run.get_budgets(include_combined=False)[-1]))
        print(f"# {args.optimizer}, {args.trials} trials, {n_top} configurations at the top budget")
        print(f"{'plugin':<34}{'seconds':>10}")
        for name in PLUGINS:
            if name == "footprint":
                continue
            print(f"{name:<34}{run_plugin(name, run).seconds:>10.2f}", flush=True)
        for cap in [*args.caps, *([None] if args.uncapped else [])]:
            with bounded_footprint(cap):
                result = run_plugin("footprint", run)
            points = (
                len(result.outputs["config_points"][2]) + len(result.outputs["border_points"][2]) + len(result.outputs["support_points"][2])
            )
            label = f"footprint ({'DeepCAVE, uncapped' if cap is None else f'cap {cap} per kind'}; {points} points)"
            print(f"{label:<34}{result.seconds:>10.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
