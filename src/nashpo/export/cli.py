"""`nashpo to-deepcave`: export a nashpo run or a DEHB output folder to DeepCAVE."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from nashpo.errors import InputError

SOURCES = ("trial-log", "dehb")


def cmd_to_deepcave(args: argparse.Namespace) -> None:
    if args.source not in SOURCES:
        raise InputError("from", args.source, f"unknown; choose from {', '.join(SOURCES)}")
    if args.source == "trial-log":
        from nashpo.export.deepcave import trials_to_deepcave

        out = trials_to_deepcave(Path(args.path), Path(args.out), force=args.force)
    else:
        from nashpo.export.dehb_native import dehb_to_deepcave

        out = dehb_to_deepcave(Path(args.path), Path(args.out), force=args.force)
    print(f"DeepCAVE run written to {out}")


def cmd_deepcave(args: argparse.Namespace) -> None:
    import sys

    from nashpo.export.dashboard import open_dashboard

    try:
        code = open_dashboard(
            Path(args.study_dir),
            port=args.port,
            workers=args.workers,
            cache=args.cache,
            log=args.log,
            footprint_support=args.footprint_support,
        )
    except (RuntimeError, OSError) as exc:
        print(f"nashpo: error: deepcave: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if code:
        raise SystemExit(code)


def cmd_deepcave_check(args: argparse.Namespace) -> None:
    from nashpo.export.deepcave import load_nashpo_run
    from nashpo.export.plugins import MO_PLUGINS, PLUGINS, bounded_footprint, run_plugin, summary

    if args.footprint_support < 0:
        raise InputError("footprint_support", args.footprint_support, "must be a non-negative integer (0: DeepCAVE's own, uncapped)")
    skip = set(args.skip or [])
    unknown = skip - set(PLUGINS) - set(MO_PLUGINS)
    if unknown:
        raise InputError("skip", sorted(unknown)[0], f"unknown plugin; choose from {', '.join(PLUGINS + MO_PLUGINS)}")
    runs = [(path, load_nashpo_run(Path(path))) for path in args.runs]  # as `nashpo deepcave` loads them; every folder checked first
    for path, run in runs:
        print(f"{path} ({run.meta.get('optimizer', '?')}, seed {run.meta.get('seed', '?')})")
        for name in PLUGINS:
            if name in skip or (name == "budget_correlation" and len(run.get_budgets(include_combined=False)) < 2):
                continue
            with bounded_footprint(args.footprint_support or None):
                result = run_plugin(name, run)
            print(f"  {name:<22} {result.seconds:7.2f} s  {summary(result, run)}", flush=True)
        if not run.meta.get("multi_objective"):
            continue
        for objective_id, objective in enumerate(run.get_objectives()[1:], start=1):  # the other objectives
            result = run_plugin("cost_over_time", run, objective_id=objective_id)
            print(f"  {'cost_over_time':<22} {result.seconds:7.2f} s  {objective.name}: {summary(result, run)}", flush=True)
        pairs = list(itertools.combinations(range(len(run.get_objectives())), 2))  # Pareto Front: every pair of objectives
        for name in MO_PLUGINS:
            if name in skip:
                continue
            for first, second in pairs:
                result = run_plugin(name, run, objective_id_1=first, objective_id_2=second)
                print(f"  {name:<22} {result.seconds:7.2f} s  {summary(result, run)}", flush=True)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("to-deepcave", help="export a run as a DeepCAVE run (DeepCAVE's DataFrame format)")
    p.add_argument("--from", dest="source", required=True, help="trial-log (a nashpo run folder) or dehb (DEHB's output folder)")
    p.add_argument("path", help="the run folder to convert")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_to_deepcave)
    d = sub.add_parser("deepcave", help="open DeepCAVE's dashboard on a study's exported runs (starts redis + workers on 127.0.0.1)")
    d.add_argument("study_dir", nargs="?", default="results", help="study results folder (its deepcave/ is opened) or a folder of runs")
    d.add_argument("--port", type=int, default=None, help="dashboard port (default 8050, else a free one)")
    d.add_argument("--workers", type=int, default=1, help="rq workers for the plugins' Process buttons")
    d.add_argument("--cache", type=Path, default=None, help="DeepCAVE cache (default $XDG_CACHE_HOME/nashpo/deepcave/<study>)")
    d.add_argument("--log", type=Path, default=None, help="append the children's output to this file")
    d.add_argument(
        "--footprint-support",
        type=int,
        default=250,
        help="cap on Footprint's border and random configurations per kind (0: DeepCAVE's own, minutes)",
    )
    d.set_defaults(func=cmd_deepcave)
    c = sub.add_parser("deepcave-check", help="run DeepCAVE's plugins headless on exported runs; one line per plugin")
    c.add_argument("runs", nargs="+", help="folders written by `nashpo to-deepcave`")
    c.add_argument("--skip", nargs="*", help="plugins to leave out")
    c.add_argument(
        "--footprint-support", type=int, default=250, help="cap on Footprint's border and random configurations per kind (0: uncapped)"
    )
    c.set_defaults(func=cmd_deepcave_check)
