"""`nashpo analysis aggregate|stats|transfer|importance|figures|nb201-table|families|family|mo` (see docs/analysis.md).

aggregate -> stats -> figures are the study's stages over every task (``analysis.study``); ``families``,
``family`` and ``mo`` run one group's three stages in one call, into one folder.

Each subcommand overwrites its outputs atomically and prints progress to stderr.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_aggregate(args: argparse.Namespace) -> None:
    from nashpo.analysis.io import expand_runs, stage_outputs
    from nashpo.analysis.mo import parse_pairs
    from nashpo.analysis.study import aggregate_study

    pairs = parse_pairs(args.attainment_pair or ())
    with stage_outputs(Path(args.out)):
        aggregate_study(expand_runs(args.runs), Path(args.out), args.data_dir, missing=args.missing or (), jobs=args.jobs, pairs=pairs)


def cmd_stats(args: argparse.Namespace) -> None:
    from nashpo.analysis.io import stage_outputs
    from nashpo.analysis.study import stats_study

    with stage_outputs(Path(args.out)):
        stats_study(Path(args.aggregate), Path(args.out), jobs=args.jobs)


def cmd_transfer(args: argparse.Namespace) -> None:
    from nashpo.analysis.io import stage_outputs
    from nashpo.analysis.transfer import transfer

    with stage_outputs(Path(args.out)):
        transfer(Path(args.aggregate), Path(args.out), args.data_dir)


def cmd_importance(args: argparse.Namespace) -> None:
    from nashpo.analysis.importance import importance
    from nashpo.analysis.io import stage_outputs

    with stage_outputs(Path(args.out)):
        importance([Path(p) for p in args.deepcave], Path(args.out))


def cmd_figures(args: argparse.Namespace) -> None:
    from nashpo.analysis.io import stage_outputs
    from nashpo.analysis.study import figures_study

    out = Path(args.out)
    optional = {k: Path(getattr(args, k)) if getattr(args, k) else None for k in ("transfer", "importance")}
    with stage_outputs(out):
        figures_study(Path(args.aggregate), Path(args.stats), out, optional["transfer"], optional["importance"], jobs=args.jobs)


def cmd_nb201_table(args: argparse.Namespace) -> None:
    from nashpo.analysis.io import stage_outputs
    from nashpo.analysis.nb201_table import nb201_table

    with stage_outputs(Path(args.out)):
        nb201_table(args.runs, Path(args.out), args.data_dir, incumbent_rule=args.incumbent_rule)


def cmd_families(args: argparse.Namespace) -> None:
    from nashpo.analysis.families import summarise
    from nashpo.analysis.io import expand_runs, stage_outputs

    with stage_outputs(Path(args.out)):
        outputs = summarise(expand_runs(args.runs), Path(args.out), Path(args.nb201) if args.nb201 else None)
    table = outputs["summary_table"]
    print(table[["optimizer", "avg_rank"]].to_string(index=False))


def cmd_family(args: argparse.Namespace) -> None:
    from nashpo.analysis.families import analyse_family
    from nashpo.analysis.io import expand_runs, stage_outputs

    with stage_outputs(Path(args.out)):
        tables = analyse_family(expand_runs(args.runs), Path(args.out))
    print(tables["wilcoxon_counts"].to_string(index=False))


def cmd_mo(args: argparse.Namespace) -> None:
    from nashpo.analysis.io import expand_runs, stage_outputs
    from nashpo.analysis.mo import BenchmarkTables, analyse_mo, parse_pairs

    pairs = parse_pairs(args.attainment_pair or ())
    runs = expand_runs(args.runs)
    so_runs = expand_runs(args.so_runs) if args.so_runs else []
    with stage_outputs(Path(args.out)):
        analyse_mo(runs, Path(args.out), so_runs, BenchmarkTables(args.data_dir), pairs=pairs)


def jobs_count(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"--jobs={text!r}: must be a positive integer")
    return jobs


def add_pairs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--attainment-pair",
        nargs="*",
        metavar="TASK=A,B",
        help="a multi-objective task's two objectives for its attainment surface and Pareto panel, y then x "
        "(e.g. nb201/cifar10/valid_error+params+latency_pixel3=valid_error,latency:pixel3; default: its first two)",
    )


def add_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs", type=jobs_count, default=1, help="analyse up to this many groups of tasks at once (forked processes; default 1)"
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analysis", help="aggregate runs, statistics, transfer, importance, figures")
    asub = p.add_subparsers(dest="analysis_cmd", required=True)
    a = asub.add_parser("aggregate", help="every task: final and anytime regret (HV regret for several objectives), bootstrap bands")
    a.add_argument(
        "--runs", nargs="+", required=True, help="run folders of any task, run-chunk manifests, or @FILE with one run folder per line"
    )
    a.add_argument("--out", required=True, help="output folder (e.g. results/aggregate)")
    a.add_argument("--missing", nargs="*", help="run folders of the study that did not finish (listed in missing_runs, stats and captions)")
    add_pairs(a)
    add_jobs(a)
    a.set_defaults(func=cmd_aggregate)
    fam = asub.add_parser("families", help="final regret per task for every family, average ranks over all tasks (Friedman/Nemenyi)")
    fam.add_argument("--runs", nargs="+", required=True, help="FCNet/MLP run folders or run-chunk manifests")
    fam.add_argument("--nb201", help="per_run_final.parquet of `analysis aggregate` (adds the NB201 tasks, test regret)")
    fam.add_argument("--out", required=True)
    fam.set_defaults(func=cmd_families)
    one = asub.add_parser("family", help="one family without fidelities: anytime validation-regret curves, Wilcoxon/Holm per task")
    one.add_argument("--runs", nargs="+", required=True, help="run folders or run-chunk manifests of one family (hpolib or hpobench)")
    one.add_argument("--out", required=True, help="output folder (e.g. results/families/analysis/hpolib)")
    one.set_defaults(func=cmd_family)
    mo = asub.add_parser("mo", help="multi-objective runs: HV regret curves, Wilcoxon/Friedman, Pareto fronts (EAF), latency saved")
    mo.add_argument("--runs", nargs="+", required=True, help="multi-objective run folders, run-chunk manifests or @FILE")
    mo.add_argument("--so-runs", nargs="*", help="single-objective runs of the same tasks (incumbents for contrast, latency saved)")
    mo.add_argument("--out", required=True, help="output folder (e.g. results/mo/analysis)")
    add_pairs(mo)
    mo.set_defaults(func=cmd_mo)
    s = asub.add_parser("stats", help="every task: Wilcoxon/Holm per task, Friedman/Nemenyi across tasks, rank over time")
    s.add_argument("--aggregate", required=True, help="folder written by `nashpo analysis aggregate`")
    s.add_argument("--out", required=True)
    add_jobs(s)
    s.set_defaults(func=cmd_stats)
    t = asub.add_parser("transfer", help="final incumbents evaluated on every dataset; rank correlation of all architectures")
    t.add_argument("--aggregate", required=True, help="folder written by `nashpo analysis aggregate`")
    t.add_argument("--out", required=True)
    t.set_defaults(func=cmd_transfer)
    i = asub.add_parser("importance", help="DeepCAVE fANOVA/LPI edge importance and parallel-coordinates data")
    i.add_argument("--deepcave", nargs="+", required=True, help="DeepCAVE run folders written by `nashpo to-deepcave`")
    i.add_argument("--out", required=True)
    i.set_defaults(func=cmd_importance)
    f = asub.add_parser("figures", help="every task's figures, NB201's paper set among them (PNG + PDF + .rst caption each)")
    for name in ("aggregate", "stats", "transfer", "importance"):
        needed = name in ("aggregate", "stats")
        f.add_argument(
            f"--{name}", required=needed, help=f"folder written by `nashpo analysis {name}`" + ("" if needed else " (NB201 runs)")
        )
    f.add_argument("--out", required=True)
    add_jobs(f)
    f.set_defaults(func=cmd_figures)
    n = asub.add_parser("nb201-table", help="NB201 paper's Table 5 layout: ours beside the published RS/REA/REINFORCE/BOHB rows")
    n.add_argument("--runs", nargs="+", required=True, help="run folders, @FILE or chunk manifests (cifar10 proxy searches are used)")
    n.add_argument("--out", required=True)
    n.add_argument(
        "--incumbent-rule",
        default="budget",
        help="budget (default: the incumbent over the trials that fit), paper (reinforce also weighs the trial that crossed "
        "the budget, as AutoDL-Projects' reinforce.py) or crossing (every optimizer does)",
    )
    n.set_defaults(func=cmd_nb201_table)
