"""Budget used per optimizer: simulated seconds counted under the budget rule, and where the search
would have ended had the crossing trial been kept (the rule before: ``run.json`` ``stop.would_end_at``).

Usage: python benchmarks/budget_figures.py RUN_OR_MANIFEST [...]   (e.g. results/runs/workers_1/nb201/cifar10/valid_error/*/seeds_*.json)
"""

from __future__ import annotations

import sys

import pandas as pd

from nashpo.analysis.io import expand_runs
from nashpo.triallog import read_record


def main(argv: list[str]) -> None:
    rows = []
    for run in expand_runs(argv):
        rec = read_record(run)
        stop = rec.get("stop") or {}
        rows.append(
            {
                "dataset": rec["dataset"],
                "optimizer": rec["optimizer"],
                "budget": rec["budget"].get("max_sim_seconds"),
                "counted": rec["sim_time"],
                "crossing_kept": stop.get("would_end_at", rec["sim_time"]),
                "crossing_epochs": stop.get("epochs"),
            }
        )
    frame = pd.DataFrame(rows)
    table = frame.groupby(["dataset", "optimizer"]).agg(
        runs=("counted", "size"),
        budget=("budget", "max"),
        counted_mean=("counted", "mean"),
        counted_max=("counted", "max"),
        old_rule_mean=("crossing_kept", "mean"),
        old_rule_max=("crossing_kept", "max"),
        crossing_200_epochs=("crossing_epochs", lambda e: float((e == 200).mean())),
    )
    with pd.option_context("display.width", 200, "display.float_format", "{:,.0f}".format):
        print(table.to_string())


if __name__ == "__main__":
    main(sys.argv[1:])
