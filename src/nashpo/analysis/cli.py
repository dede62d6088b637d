"""`nashpo analysis aggregate|stats|transfer|importance|figures`."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd(args: argparse.Namespace) -> None:
    from nashpo.analysis.io import expand_runs

    if args.analysis_cmd == "aggregate":
        from nashpo.analysis.aggregate import aggregate

        aggregate(expand_runs(args.runs), Path(args.out), args.data_dir)
    elif args.analysis_cmd == "stats":
        from nashpo.analysis.stats import run_stats

        run_stats(Path(args.aggregate), Path(args.out))
    elif args.analysis_cmd == "transfer":
        from nashpo.analysis.transfer import transfer

        transfer(Path(args.aggregate), Path(args.out), args.data_dir)
    elif args.analysis_cmd == "importance":
        from nashpo.analysis.importance import importance

        importance([Path(p) for p in args.deepcave], Path(args.out))
    else:
        from nashpo.analysis.figures import make_figures

        make_figures(Path(args.aggregate), Path(args.stats), Path(args.transfer), Path(args.importance), Path(args.out))


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analysis", help="aggregate runs, statistics, transfer, importance, figures")
    asub = p.add_subparsers(dest="analysis_cmd", required=True)
    a = asub.add_parser("aggregate", help="trajectories on common grids, regret, bootstrap bands")
    a.add_argument("--runs", nargs="+", required=True, help="run folders, or @FILE with one per line")
    a.add_argument("--out", required=True)
    s = asub.add_parser("stats", help="Wilcoxon/Holm per dataset, Friedman/Nemenyi across tasks")
    s.add_argument("--aggregate", required=True)
    s.add_argument("--out", required=True)
    t = asub.add_parser("transfer", help="incumbents evaluated on every dataset; rank correlations")
    t.add_argument("--aggregate", required=True)
    t.add_argument("--out", required=True)
    i = asub.add_parser("importance", help="DeepCAVE fANOVA/LPI edge importance from exported runs")
    i.add_argument("--deepcave", nargs="+", required=True)
    i.add_argument("--out", required=True)
    f = asub.add_parser("figures", help="the paper figure set with captions")
    for name in ("aggregate", "stats", "transfer", "importance", "out"):
        f.add_argument(f"--{name}", required=True)
    for q in (a, s, t, i, f):
        q.set_defaults(func=cmd)
