import json
import os
import re
import shlex
import sys
from pathlib import Path

from snakemake.utils import validate


# The default profile (profiles/default) passes --configfile config.yaml; another --configfile replaces it.
if not config:
    raise ValueError("no config: run with --configfile config.yaml (the default profile does this)")
validate(config, "../schemas/config.schema.yaml")

# Every value from the config reaches a shell quoted ({x:q}) or as JSON in a quoted argument.
NASHPO = f"PYTHONHASHSEED=0 {shlex.quote(sys.executable)} -m nashpo"
SRC = Path(os.path.relpath(Path(workflow.basedir) / "src" / "nashpo"))  # relative: a moved checkout keeps its state
RESULTS = config["results_dir"]
DATA_DIR = config.get("data_dir") or f"{RESULTS}/data"
SEEDS = list(range(config["seeds"]["start"], config["seeds"]["start"] + config["seeds"]["count"]))
OPTIMIZERS = list(config["optimizers"])
DATASETS = list(config["datasets"])
PAPER_FIGURES = ["anytime_time", "anytime_evals", "final_regret", "rank_over_time", "cd_diagram", "transfer_heatmap", "edge_importance"]

ALLOW_MISSING = bool(config.get("allow_missing_runs", False))


def check_config():
    """Checks the schema cannot express, with the package's own validators: a bad value stops
    `snakemake -n` with one line naming the field, before any job runs. Returns each optimizer's
    traits (cached by nashpo.config_cache: a no-op rerun skips these imports)."""
    from nashpo.errors import InputError
    from nashpo.optimizers import resolve
    from nashpo.runner import MAX_SEED, Budget

    traits = {}

    for d in DATASETS:
        if d not in config["budget"]:
            sys.exit(f"config: budget.{d} is missing (every dataset needs a budget)")
    try:
        for d in DATASETS:
            try:
                Budget(**config["budget"][d])
            except InputError as exc:
                raise InputError(f"budget.{d}.{exc.field}", exc.value, exc.problem) from None
        if SEEDS[-1] > MAX_SEED:
            raise InputError("seeds", config["seeds"], f"the last seed {SEEDS[-1]} exceeds {MAX_SEED} (seeds are 32-bit)")
        for name, hp in config["optimizers"].items():
            try:
                cls, _ = resolve(name, hp)  # imports a plug-in class and checks its hyperparameters
                traits[name] = {"multi_fidelity": bool(cls.multi_fidelity), "adapter": adapter_path(name)}
            except InputError as exc:
                field = exc.field if exc.field.startswith("optimizers.") else f"optimizers.{name}"
                field += f".{exc.field.split('.', 1)[1]}" if "." in exc.field and not exc.field.startswith("optimizers.") else ""
                raise InputError(field, exc.value, exc.problem) from None
        check_families()
    except InputError as exc:
        sys.exit(f"config: {exc}")
    return traits


def adapter_path(optimizer):
    """The optimizer's adapter source in this checkout (relative)."""
    from nashpo.optimizers import BUILT_IN, adapter_source

    if optimizer not in BUILT_IN:  # a plug-in: the user's module file
        return os.path.relpath(adapter_source(optimizer))
    return str(SRC / "optimizers" / adapter_source(optimizer).name)


def check_families():
    from nashpo.benchmarks import get_family
    from nashpo.errors import InputError
    from nashpo.runner import Budget

    for name, spec in FAMILIES_CFG.items():
        family = get_family(name)
        for task in spec["tasks"]:
            try:
                family.check_task(task)
            except InputError as exc:
                raise InputError(f"families.{name}.tasks", task, exc.problem) from None
            if task not in spec["budget"]:
                raise InputError(f"families.{name}.budget.{task}", None, "is missing (every task needs a budget)")
            try:
                Budget(**spec["budget"][task])
            except InputError as exc:
                raise InputError(f"families.{name}.budget.{task}.{exc.field}", exc.value, exc.problem) from None


def family_optimizers():
    """The study's single-fidelity optimizers (multi-fidelity ones need NB201's epochs)."""
    return [o for o in OPTIMIZERS if not TRAITS["optimizers"][o]["multi_fidelity"]]


FAMILIES_CFG = config.get("families") or {}




# NB201 datasets searched only multi-objectively (rules/mo.smk) need their tables too.
MO_NB201_DATASETS = (((config.get("multi_objective") or {}).get("tasks") or {}).get("nb201") or {}).get("datasets") or []


wildcard_constraints:
    dataset="|".join(dict.fromkeys(DATASETS + MO_NB201_DATASETS)),
    optimizer="|".join(OPTIMIZERS),
    seed=r"\d+",
    chunk=r"\d+-\d+",


def adapter_file(optimizer):
    """The optimizer's adapter source in this checkout: editing it reruns only its searches."""
    found = TRAITS["optimizers"].get(optimizer) or TRAITS["mo_optimizers"][optimizer]
    return found["adapter"]


def hyperparameters(optimizer):
    return json.dumps(config["optimizers"][optimizer] or {}, sort_keys=True)


def budget_args(dataset):
    b = config["budget"][dataset]
    args = []
    if "max_sim_seconds" in b:
        args.append(f"--max-sim-seconds {shlex.quote(str(b['max_sim_seconds']))}")
    if "max_evals" in b:
        args.append(f"--max-evals {shlex.quote(str(b['max_evals']))}")
    return " ".join(args)


# Seeds in chunks: one search job (and one export job) per chunk of seeds (see src/nashpo/manifests.py).
SEEDS_PER_JOB = config.get("seeds_per_job", 10)


def optimizer_seeds(optimizer):
    """The study's seeds, or the first `seeds_by_optimizer[optimizer]` of them."""
    n = (config.get("seeds_by_optimizer") or {}).get(optimizer)
    return SEEDS[:n] if n else SEEDS


def seed_chunks(optimizer):
    from nashpo.manifests import chunks

    return chunks(optimizer_seeds(optimizer), SEEDS_PER_JOB)


def chunk_seeds(optimizer, chunk):
    found = seed_chunks(optimizer).get(chunk)
    if found is None:
        raise ValueError(f"config: seeds {chunk} are not a chunk of {optimizer} in this study")
    return ",".join(map(str, found))


def search_manifests(datasets=None):
    return [f"{RESULTS}/runs/{d}/{o}/seeds_{c}.json" for d in datasets or DATASETS for o in OPTIMIZERS for c in seed_chunks(o)]


def search_done(dataset, optimizer, chunk):
    return os.path.isfile(f"{RESULTS}/runs/{dataset}/{optimizer}/seeds_{chunk}.json")


def exported_chunks(seeds=None):
    """(dataset, optimizer, chunk, members) holding `seeds`; with allow_missing_runs only chunks whose search finished."""
    wanted = set(seeds if seeds is not None else SEEDS)
    return [
        (d, o, c, members)
        for d in DATASETS
        for o in OPTIMIZERS
        for c, members in seed_chunks(o).items()
        if wanted & set(members) and (not ALLOW_MISSING or search_done(d, o, c))
    ]


def export_manifests(seeds=None):
    """DeepCAVE export manifests of the chunks holding `seeds` (default: all)."""
    return [f"{RESULTS}/deepcave/{d}/{o}/seeds_{c}.json" for d, o, c, _ in exported_chunks(seeds)]


def run_dirs(datasets=None):
    """Per-seed run folders (written by the search chunks; not rule outputs themselves)."""
    return [f"{RESULTS}/runs/{d}/{o}/{s}" for d in datasets or DATASETS for o in OPTIMIZERS for s in optimizer_seeds(o)]


def finished(run):
    return os.path.isfile(os.path.join(run, "run.json"))


def analysed_runs(datasets=None):
    """Chunk manifests of the runs; with allow_missing_runs the run folders that finished (run.json written)."""
    if not ALLOW_MISSING:
        return search_manifests(datasets)
    done = [r for r in run_dirs(datasets) if finished(r)]
    if not done:
        sys.exit("config: allow_missing_runs=True: no run has finished yet; run the study first (snakemake --keep-going)")
    return done


def missing_runs():
    return [r for r in run_dirs() if not finished(r)] if ALLOW_MISSING else []


def deepcave_dirs(seeds=None):
    """Per-seed DeepCAVE runs (written by the export chunks; with allow_missing_runs only chunks whose search finished)."""
    wanted = set(seeds if seeds is not None else SEEDS)
    return [f"{RESULTS}/deepcave/{d}/{o}/{s}" for d, o, _, members in exported_chunks(seeds) for s in members if s in wanted]


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



def paper_figure_files():
    return expand(f"{RESULTS}/figures/{{stem}}.{{ext}}", stem=PAPER_FIGURES, ext=["png", "pdf"])


NB201_TABLE = f"{RESULTS}/nb201_table"


def nb201_table_files():
    """The NB201 Table 5 comparison when the study searches cifar10 with the paper's proxy protocol."""
    if "cifar10" not in DATASETS or config["protocol"] != "proxy":
        return []
    return [f"{NB201_TABLE}/nb201_table.{ext}" for ext in ("csv", "md", "tex", "rst")]


# ------------------------------------------------------------ families without fidelities (rules/families.smk)
FAMILY_DIR = f"{RESULTS}/families"


FAMILY_REPORT = "Joint NAS+HPO families"  # the Snakemake report's section
FAMILY_ANALYSIS_FILES = [  # beside anytime_time.png and wilcoxon.csv (in the report)
    "anytime_time.pdf", "anytime_time.rst", "wilcoxon.rst", "wilcoxon.tex", "wilcoxon.parquet",
    *[f"{stem}.{ext}" for stem in ("wilcoxon_counts", "curves_time", "per_run_final") for ext in ("csv", "parquet")],
]


def family_manifests(families=None):
    """One chunk manifest per family x task x single-fidelity optimizer x chunk of seeds."""
    from nashpo.manifests import chunks

    out = []
    for family, spec in FAMILIES_CFG.items():
        if families is not None and family not in families:
            continue
        for task in spec["tasks"]:
            for optimizer in family_optimizers():
                for chunk in chunks(range(spec.get("seeds", 10)), SEEDS_PER_JOB):
                    out.append(f"{FAMILY_DIR}/runs/{family}/{task}/{optimizer}/seeds_{chunk}.json")
    return out


def family_budget_args(family, task):
    b = FAMILIES_CFG[family]["budget"][task]
    args = []
    if b.get("max_sim_seconds") is not None:
        args += ["--max-sim-seconds", str(b["max_sim_seconds"])]
    if b.get("max_evals") is not None:
        args += ["--max-evals", str(b["max_evals"])]
    return args


def family_summary_files():
    return [f"{FAMILY_DIR}/summary/summary_table.csv"] if FAMILIES_CFG else []


def family_export_manifests():
    """DeepCAVE export manifest of every family search chunk (results/families/deepcave/...)."""
    return [m.replace(f"{FAMILY_DIR}/runs/", f"{FAMILY_DIR}/deepcave/", 1) for m in family_manifests()]


def family_analysis_files():
    """Per family: the anytime figure and the Wilcoxon tables."""
    return [f"{FAMILY_DIR}/analysis/{f}/{name}" for f in FAMILIES_CFG for name in ("anytime_time.png", "wilcoxon.csv")]


# ------------------------------------------------------------ multi-objective searches (rules/mo.smk)
MO_CFG = config.get("multi_objective") or {}
MO_DIR = f"{RESULTS}/mo"
MO_ANALYSIS = f"{MO_DIR}/analysis"
MO_TABLES = {
    "finals": ("parquet", "csv"),
    "curves": ("parquet", "csv"),
    "summary_table": ("parquet", "csv", "tex", "rst"),
    "wilcoxon": ("parquet", "csv", "tex", "rst"),
    "wilcoxon_at_time": ("parquet", "csv"),
    "friedman": ("parquet", "csv", "tex"),
    "nemenyi": ("parquet", "csv"),
    "device_classes": ("parquet", "csv", "tex", "rst"),
    "latency_saved": ("parquet", "csv", "tex", "rst"),
    "eaf": ("parquet", "csv"),
}
MO_REPORT_TABLES = ("summary_table", "device_classes", "latency_saved", "wilcoxon")


def mo_objective_sets():
    """{benchmark: {objective-set name: [specs]}} (names from nashpo.objectives.objective_set_name)."""
    from nashpo.objectives import objective_set_name, parse_objectives

    return {
        b: {objective_set_name(parse_objectives(b, specs)): list(specs) for specs in spec["objectives"]}
        for b, spec in (MO_CFG.get("tasks") or {}).items()
    }


def mo_task_names(benchmark):
    spec = MO_CFG["tasks"][benchmark]
    return list(spec.get("datasets") or []) if benchmark == "nb201" else list(spec.get("tasks") or [])


def mo_budget(benchmark, task):
    """The task's budget: multi_objective.tasks.<benchmark>.budget, else the single-objective one."""
    own = (MO_CFG["tasks"][benchmark].get("budget") or {}).get(task)
    if own is not None:
        return own, f"multi_objective.tasks.{benchmark}.budget.{task}"
    if benchmark == "nb201":
        return config["budget"].get(task), f"budget.{task}"
    return (FAMILIES_CFG.get(benchmark, {}).get("budget") or {}).get(task), f"families.{benchmark}.budget.{task}"


def mo_seed_chunks(optimizer):
    from nashpo.manifests import chunks

    n = (MO_CFG.get("seeds_by_optimizer") or {}).get(optimizer, MO_CFG.get("seeds", 10))
    return chunks(range(n), SEEDS_PER_JOB)


def check_multi_objective():
    """DAG-time checks of `multi_objective:`: one line naming the field, before any job."""
    from nashpo.benchmarks import get_family
    from nashpo.errors import InputError
    from nashpo.objectives import parse_objectives
    from nashpo.optimizers import REGISTRY, get_optimizer_class, resolve
    from nashpo.runner import MAX_SEED, Budget

    traits = {}
    try:
        for name, hp in MO_CFG["optimizers"].items():
            try:
                cls, _ = resolve(name, hp)
            except InputError as exc:
                sub = exc.field.removeprefix("optimizers.")
                where = sub if sub.startswith(f"{name}.") else name
                raise InputError(f"multi_objective.optimizers.{where}", exc.value, exc.problem) from None
            if not cls.multi_objective:
                mo = [o for o in REGISTRY if get_optimizer_class(o).multi_objective]
                raise InputError(f"multi_objective.optimizers.{name}", hp, f"is single-objective; choose from {', '.join(mo)}")
            traits[name] = {"multi_fidelity": bool(cls.multi_fidelity), "adapter": adapter_path(name)}
        for optimizer in MO_CFG["optimizers"]:
            last = max(max(s) for s in mo_seed_chunks(optimizer).values())
            if last > MAX_SEED:
                raise InputError("multi_objective.seeds", last + 1, f"exceeds {MAX_SEED + 1} seeds")
        for benchmark, spec in MO_CFG["tasks"].items():
            field = f"multi_objective.tasks.{benchmark}"
            for task in mo_task_names(benchmark):
                if benchmark != "nb201":
                    try:
                        get_family(benchmark).check_task(task)
                    except InputError as exc:
                        raise InputError(f"{field}.tasks", task, exc.problem) from None
                budget, where = mo_budget(benchmark, task)
                if budget is None:
                    raise InputError(f"{field}.budget.{task}", None, f"is missing and so is {where} (every task needs a budget)")
                try:
                    Budget(**budget)
                except InputError as exc:
                    raise InputError(f"{where}.{exc.field}", exc.value, exc.problem) from None
            if not mo_task_names(benchmark):
                raise InputError(f"{field}.{'datasets' if benchmark == 'nb201' else 'tasks'}", None, "is missing or empty")
            for specs in spec["objectives"]:
                try:
                    parse_objectives(benchmark, specs)
                except InputError as exc:
                    raise InputError(f"{field}.objectives", exc.value, exc.problem) from None
    except InputError as exc:
        sys.exit(f"config: {exc}")
    return traits


def check_all():
    """Every DAG-time check; its result is cached by nashpo.config_cache (a no-op rerun skips the imports)."""
    return {
        "optimizers": check_config(),
        "mo_optimizers": check_multi_objective() if MO_CFG else {},
        "mo_sets": mo_objective_sets() if MO_CFG else {},
    }


def checked_config():
    from nashpo.config_cache import checked

    return checked(config, SRC, check_all)


TRAITS = checked_config()
MO_SETS = TRAITS["mo_sets"]
MO_OPTIMIZERS = list(MO_CFG.get("optimizers") or {})


def mo_optimizers(benchmark):
    """The MO optimizers searching `benchmark`: multi-fidelity ones need NB201's epochs (as family_optimizers)."""
    if benchmark == "nb201":
        return MO_OPTIMIZERS
    return [o for o in MO_OPTIMIZERS if not TRAITS["mo_optimizers"][o]["multi_fidelity"]]


def mo_chunk_paths(root):
    """`root`/{benchmark}/{task}/{objset}/{optimizer}/seeds_{chunk}.json of every chunk of the study."""
    return [
        f"{root}/{b}/{t}/{s}/{o}/seeds_{c}.json"
        for b, sets in MO_SETS.items()
        for t in mo_task_names(b)
        for s in sets
        for o in mo_optimizers(b)
        for c in mo_seed_chunks(o)
    ]


def mo_search_manifests():
    return mo_chunk_paths(f"{MO_DIR}/runs")


def mo_export_manifests():
    return mo_chunk_paths(f"{MO_DIR}/deepcave")


def mo_table_path(benchmark, task):
    """The prepared table (rules/data.smk prepare_data for NB201, rules/families.smk family_table)."""
    return f"{DATA_DIR}/{benchmark}_{task}.parquet"


def mo_tables():
    return sorted({mo_table_path(b, t) for b in MO_SETS for t in mo_task_names(b)})


def mo_budget_args(w):
    budget, _ = mo_budget(w.mo_benchmark, w.mo_task)
    args = []
    if budget.get("max_sim_seconds") is not None:
        args += ["--max-sim-seconds", str(budget["max_sim_seconds"])]
    if budget.get("max_evals") is not None:
        args += ["--max-evals", str(budget["max_evals"])]
    return args


def mo_chunk_seeds(w):
    found = mo_seed_chunks(w.mo_optimizer).get(w.chunk)
    if found is None:
        raise ValueError(f"config: seeds {w.chunk} are not a chunk of multi-objective {w.mo_optimizer} in this study")
    return ",".join(map(str, found))


def mo_so_runs():
    """Single-objective searches of the MO tasks' datasets (their incumbents are drawn for contrast)."""
    nb201 = [d for d in mo_task_names("nb201") if d in DATASETS] if "nb201" in MO_SETS else []
    runs = analysed_runs(nb201) if nb201 else []
    for family in (b for b in MO_SETS if b != "nb201"):
        tasks = set(mo_task_names(family)) & set((FAMILIES_CFG.get(family) or {}).get("tasks") or [])
        runs += [m for m in family_manifests() if Path(m).parts[-4:-2] in {(family, t) for t in tasks}]
    return runs


def mo_analysis_files():
    if not MO_SETS:
        return []
    stems = ["hv_regret_curves", "final_hv_regret", "cd_diagram", *(f"pareto_{b}" for b in MO_SETS)]
    figures = [f"{MO_ANALYSIS}/{s}.{ext}" for s in stems for ext in ("png", "pdf", "rst")]
    return [f"{MO_ANALYSIS}/{t}.{ext}" for t, exts in MO_TABLES.items() for ext in exts] + figures


def mo_report_stems():
    return ["hv_regret_curves", "final_hv_regret", "cd_diagram", *(f"pareto_{b}" for b in MO_SETS)]


def mo_reported():
    """Analysis outputs shown in the Snakemake report (figures and the main tables), with their captions."""
    figures = [f"{MO_ANALYSIS}/{stem}.png" for stem in mo_report_stems()]
    return figures + [f"{MO_ANALYSIS}/{stem}.csv" for stem in MO_REPORT_TABLES]


def mo_unreported():
    reported = set(mo_reported())
    return [f for f in mo_analysis_files() if f not in reported]


def mo_files():
    """Everything of the multi-objective part (for `all`)."""
    return mo_export_manifests() + mo_analysis_files() if MO_SETS else []
