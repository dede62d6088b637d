"""``--benchmark``/``--task`` for ``nashpo query``, ``oracle`` and ``data prepare``.

``nashpo.cli`` hands a command here when it names a family other than NB201, a task or a JSON
config; without those options today's NB201 commands run unchanged.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from nashpo.benchmarks import DEFAULT_FAMILY, FAMILIES, get_family
from nashpo.errors import InputError

NB201_ONLY = ("arch", "index", "epochs", "devices")


def add_family_arguments(p: argparse.ArgumentParser, *, config: bool = False, many_tasks: bool = False, all_families: bool = False) -> None:
    names = "|".join(FAMILIES) + ("|all" if all_families else "")
    p.add_argument("--benchmark", default=DEFAULT_FAMILY, help=f"benchmark family: {names} (default: {DEFAULT_FAMILY})")
    if many_tasks:
        p.add_argument("--task", action="append", help="task of the family (repeatable; default: all); for nb201 the dataset")
    else:
        p.add_argument("--task", help="task of the family; for nb201 the dataset")
    if config:
        p.add_argument("--config", help="configuration as a JSON object, e.g. '{\"n_units_1\": 64, ...}'")


def wants_family_path(args: argparse.Namespace) -> bool:
    """True when the command uses an option that today's NB201 path does not know."""
    return args.benchmark != DEFAULT_FAMILY or bool(args.task) or getattr(args, "config", None) is not None


def _family(name: str, all_ok: bool = False) -> list[str]:
    if all_ok and name == "all":
        return list(FAMILIES)
    get_family(name)  # validates the name
    return [name]


def _single_task(args: argparse.Namespace) -> str:
    family = get_family(args.benchmark)
    dataset = getattr(args, "dataset", None)
    if family.name != "nb201" and dataset:
        raise InputError("dataset", dataset, f"only for --benchmark nb201; use --task with {family.name}")
    if dataset and args.task and dataset != args.task:
        raise InputError("task", args.task, f"differs from --dataset {dataset}; give one of them")
    task = args.task or dataset
    if task is None:
        raise InputError("task", None, f"required for --benchmark {family.name}; choose from {', '.join(family.tasks)}")
    return family.check_task(task)


def parse_config(text: str) -> dict[str, Any]:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("config", text, f"not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(config, dict):
        raise InputError("config", text, "must be a JSON object of hyperparameter -> value")
    return config


def cmd_query(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    family = get_family(args.benchmark)
    task = _single_task(args)
    rng = np.random.default_rng(args.bench_seed) if args.bench_seed is not None else None
    if family.name != "nb201":
        for opt in NB201_ONLY:
            value = getattr(args, opt, None)
            if value is not None and value is not False:  # --index 0 counts
                raise InputError(opt, value, f"not available for {family.title} (NB201 only)")
        if args.config is None:
            raise InputError("config", None, f"required for {family.title}; a JSON object over {', '.join(p.name for p in family.params)}")
        config = parse_config(args.config)
        family.encode(config)  # bad hyperparameters fail before any table is opened
        return family.open(task, args.data_dir).query(config, rng)  # type: ignore[attr-defined]
    given = [n for n, v in (("arch", args.arch), ("index", args.index), ("config", args.config)) if v is not None]
    if len(given) != 1:
        raise InputError("arch/index/config", None, "give exactly one of --arch, --index or --config")
    from nashpo.benchmarks.nb201 import NB201Benchmark

    arch: Any = args.arch
    if args.config is not None:
        arch = parse_config(args.config)
        family.encode(arch)  # bad edges fail before any table is opened or prepared
    bench = NB201Benchmark(task, args.data_dir)
    if args.index is not None:
        return bench.query_index(args.index, args.epochs, rng, devices=args.devices)
    return bench.query(arch, args.epochs, rng, devices=args.devices)


def oracle_table(args: argparse.Namespace) -> Any:
    """Oracle rows of every requested task of one non-NB201 family."""
    import pandas as pd

    family = get_family(args.benchmark)
    tasks = [family.check_task(t) for t in args.task] if args.task else list(family.tasks)
    if getattr(args, "dataset", None):
        raise InputError("dataset", args.dataset[0], f"only for --benchmark nb201; use --task with {family.name}")
    return pd.concat([family.open(t, args.data_dir).oracle() for t in tasks], ignore_index=True)


def print_oracle(table: Any) -> None:
    import pandas as pd

    with pd.option_context("display.width", 250, "display.max_colwidth", 160, "display.float_format", "{:.6g}".format):
        for (fam, task), frame in table.groupby(["benchmark", "task"], sort=False):
            print(f"== {fam}/{task}")
            print(frame.drop(columns=["benchmark", "task", "fidelity"]).to_string(index=False))
            print()


def prepare(args: argparse.Namespace, mirror: Any) -> None:
    """``nashpo data prepare --benchmark NAME|all [--task T ...]``; checks all names before building anything."""
    names = _family(args.benchmark, all_ok=True)
    if args.task and len(names) > 1:
        raise InputError("task", args.task[0], "give --task with a single --benchmark")
    if args.dataset and names != [DEFAULT_FAMILY]:
        raise InputError("dataset", args.dataset[0], "only for --benchmark nb201; use --task")
    plan = []
    for name in names:
        family = get_family(name)
        chosen = (args.task or args.dataset) if name == DEFAULT_FAMILY else args.task
        plan.append((family, [family.check_task(t) for t in chosen] if chosen else list(family.tasks)))
    for family, tasks in plan:
        if family.name == DEFAULT_FAMILY:
            from nashpo.data.prepare import prepare as prepare_nb201

            prepare_nb201(args.data_dir, tasks, mirror=mirror, naslib_dir=args.naslib_dir)
        else:
            family.prepare(tasks, args.data_dir)


def check(args: argparse.Namespace) -> None:
    """``nashpo data check --benchmark NAME``: which tasks are prepared, from what; tables are opened and verified."""
    from nashpo.data.prepare import default_data_dir
    from nashpo.errors import DataError

    family = get_family(args.benchmark)
    data_dir = args.data_dir or default_data_dir()
    report: dict[str, Any] = {"data_dir": str(data_dir), "benchmark": family.name, "tasks": {}}
    for task in family.tasks:
        try:
            opened = family.open(task, data_dir, auto_prepare=False)
        except DataError as exc:
            report["tasks"][task] = {"prepared": False, "problem": str(exc)}
            continue
        sources = sorted({(p["source"], p["version"], p["path"], p["sha256"]) for p in opened.provenance.values()})
        report["tasks"][task] = {
            "prepared": True,
            "path": str(opened.path),  # type: ignore[attr-defined]
            "configurations": opened.n_configs,
            "seeds": opened.n_seeds,  # type: ignore[attr-defined]
            "fidelities": opened.fidelities,
            "sources": [dict(zip(("source", "version", "path", "sha256"), s)) for s in sources],
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"data dir: {report['data_dir']}")
    for task, info in report["tasks"].items():
        if not info["prepared"]:
            print(f"{family.name}/{task}: not usable: {info['problem']}")
            continue
        src = "; ".join(f"{s['source']} {s['version']} {s['path']} sha256 {s['sha256'][:12]}" for s in info["sources"])
        print(f"{family.name}/{task}: {info['configurations']} configurations, {info['seeds']} seeds, no fidelities; {src}")
