"""`nashpo to-deepcave`: export a nashpo run or a DEHB output folder to DeepCAVE."""

from __future__ import annotations

import argparse
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


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("to-deepcave", help="export a run to DeepCAVE's native format")
    p.add_argument("--from", dest="source", required=True, help="trial-log (a nashpo run folder) or dehb (DEHB's output folder)")
    p.add_argument("path", help="the run folder to convert")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_to_deepcave)
