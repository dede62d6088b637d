# Multi-objective searches (`multi_objective:` in the config; docs/multi_objective_analysis.md): fan-out over
# benchmark x task x objective set x optimizer x chunk of seeds, DeepCAVE exports, `nashpo analysis mo`.
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
    from nashpo.batch import chunks

    n = (MO_CFG.get("seeds_by_optimizer") or {}).get(optimizer, MO_CFG.get("seeds", 10))
    return chunks(range(n), SEEDS_PER_JOB)


def check_multi_objective():
    """DAG-time checks of `multi_objective:`: one line naming the field, before any job."""
    from nashpo.benchmarks import get_family
    from nashpo.errors import InputError
    from nashpo.objectives import parse_objectives
    from nashpo.optimizers import REGISTRY, get_optimizer_class, resolve
    from nashpo.runner import MAX_SEED, Budget

    try:
        for name, hp in MO_CFG["optimizers"].items():
            try:
                cls, _ = resolve(name, hp)
            except InputError as exc:
                raise InputError(f"multi_objective.optimizers.{name}", exc.value, exc.problem) from None
            if not cls.multi_objective:
                mo = [o for o in REGISTRY if get_optimizer_class(o).multi_objective]
                raise InputError(f"multi_objective.optimizers.{name}", hp, f"is single-objective; choose from {', '.join(mo)}")
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
                    raise InputError(where, None, f"is missing (multi-objective task {benchmark}/{task} needs a budget)")
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


if MO_CFG:
    check_multi_objective()
MO_SETS = mo_objective_sets() if MO_CFG else {}
MO_OPTIMIZERS = list(MO_CFG.get("optimizers") or {})


wildcard_constraints:
    mo_benchmark="nb201|hpolib|hpobench",
    mo_task=r"[A-Za-z0-9_-]+",
    objset=r"[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)+",
    mo_optimizer=r"[a-z][a-z0-9_]*",


def mo_chunk_paths(root):
    """`root`/{benchmark}/{task}/{objset}/{optimizer}/seeds_{chunk}.json of every chunk of the study."""
    return [
        f"{root}/{b}/{t}/{s}/{o}/seeds_{c}.json"
        for b, sets in MO_SETS.items()
        for t in mo_task_names(b)
        for s in sets
        for o in MO_OPTIMIZERS
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
        runs += [m for m in family_manifests() if m.split("/")[-3] in tasks and f"/runs/{family}/" in m]
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


if MO_SETS:

    rule mo_search:
        """One MO optimizer x benchmark task x objective set x chunk of seeds in one process."""
        output:
            f"{MO_DIR}/runs/{{mo_benchmark}}/{{mo_task}}/{{objset}}/{{mo_optimizer}}/seeds_{{chunk}}.json",
        input:
            table=lambda w: mo_table_path(w.mo_benchmark, w.mo_task),
            adapter=lambda w: adapter_file(w.mo_optimizer),
            shared=[
                SRC / f
                for f in (
                    "runner.py",
                    "runner_mo.py",
                    "objectives.py",
                    "pareto.py",
                    "benchmark.py",
                    "triallog.py",
                    "batch.py",
                    "optimizers/base.py",
                    "optimizers/finite.py",
                )
            ],
        params:
            nashpo=NASHPO,
            data_dir=lambda w, input: os.path.dirname(input.table),
            seeds=mo_chunk_seeds,
            runs_dir=lambda w, output: os.path.dirname(output[0]),
            hp=lambda w: json.dumps(MO_CFG["optimizers"][w.mo_optimizer] or {}, sort_keys=True),
            budget=mo_budget_args,
            protocol=lambda w: ["--protocol", config["protocol"]] if w.mo_benchmark == "nb201" else [],
            noise=config.get("noise", "mean"),
            objectives=lambda w: ",".join(MO_SETS[w.mo_benchmark][w.objset]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/mo/search/{{mo_benchmark}}/{{mo_task}}/{{objset}}/{{mo_optimizer}}/seeds_{{chunk}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/mo/search/{{mo_benchmark}}/{{mo_task}}/{{objset}}/{{mo_optimizer}}/seeds_{{chunk}}.tsv"
        resources:
            mem_mb=800,
            runtime=60,
        group:
            "search"
        shell:
            "{params.nashpo} --data-dir {params.data_dir:q} run-chunk --benchmark {wildcards.mo_benchmark:q} --task {wildcards.mo_task:q}"
            " --optimizer {wildcards.mo_optimizer:q} --seeds {params.seeds:q} {params.budget:q} {params.protocol:q} --noise {params.noise:q}"
            " --hp {params.hp:q} --objectives {params.objectives:q} --runs-dir {params.runs_dir:q} --manifest {output:q} > {log:q} 2>&1"


    rule mo_to_deepcave:
        """Every run of one MO search chunk as a DeepCAVE run (every objective), one folder per seed."""
        output:
            f"{MO_DIR}/deepcave/{{mo_benchmark}}/{{mo_task}}/{{objset}}/{{mo_optimizer}}/seeds_{{chunk}}.json",
        input:
            runs=f"{MO_DIR}/runs/{{mo_benchmark}}/{{mo_task}}/{{objset}}/{{mo_optimizer}}/seeds_{{chunk}}.json",
            code=SRC / "export" / "deepcave.py",
        params:
            nashpo=NASHPO,
            out_dir=lambda w, output: os.path.dirname(output[0]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/mo/deepcave/{{mo_benchmark}}/{{mo_task}}/{{objset}}/{{mo_optimizer}}/seeds_{{chunk}}.log",
        group:
            "search"
        shell:
            "{params.nashpo} to-deepcave-chunk --runs {input.runs:q} --out-dir {params.out_dir:q} --manifest {output:q} > {log:q} 2>&1"


    rule mo_analysis:
        """HV-regret curves, Wilcoxon/Holm per task, Friedman/Nemenyi + CD, Pareto fronts (EAF), latency saved."""
        output:
            [report(f, caption=f"../{os.path.splitext(f)[0]}.rst", category="Multi-objective") for f in mo_reported()],
            mo_unreported(),
        input:
            runs=mo_search_manifests(),
            so_runs=mo_so_runs(),
            tables=mo_tables(),
            code=[SRC / "analysis" / f for f in ("mo.py", "mo_figures.py", "stats.py", "figures.py", "aggregate.py")],
        params:
            nashpo=NASHPO,
            data_dir=DATA_DIR,
            so_runs=lambda w, input: ["--so-runs", *input.so_runs] if input.so_runs else [],
            out=MO_ANALYSIS,
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/mo/analysis.log",
        shell:
            "{params.nashpo} --data-dir {params.data_dir:q} analysis mo --runs {input.runs:q} {params.so_runs:q} --out {params.out:q} > {log:q} 2>&1"


    rule mo_all:
        """The multi-objective part only: `snakemake --cores 8 mo_all`."""
        input:
            mo_files(),
