wildcard_constraints:
    family="hpolib|hpobench",
    task=r"[a-z0-9_]+",


rule family_table:
    output:
        f"{DATA_DIR}/{{family}}_{{task}}.parquet",
    input:
        SRC / "data" / "shb.py",
    params:
        nashpo=NASHPO,
        data_dir=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/data/{{family}}_{{task}}.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} data prepare --benchmark {wildcards.family:q} --task {wildcards.task:q} > {log:q} 2>&1"


rule family_search:
    """One single-fidelity optimizer x FCNet/MLP task x chunk of seeds in one process (validation regret)."""
    output:
        f"{FAMILY_DIR}/runs/{{family}}/{{task}}/{{optimizer}}/seeds_{{chunk}}.json",
    input:
        table=f"{DATA_DIR}/{{family}}_{{task}}.parquet",
        adapter=lambda w: adapter_file(w.optimizer),
        shared=[SRC / "runner" / "loop.py", SRC / "runner" / "budget.py", SRC / "runner" / "chunk.py", SRC / "benchmarks" / "grid.py", SRC / "optimizers" / "base.py", SRC / "optimizers" / "finite.py", SRC / "triallog.py", SRC / "manifests.py"],
    params:
        nashpo=NASHPO,
        data_dir=lambda w, input: os.path.dirname(input.table),
        seeds=lambda w: w.chunk,
        runs_dir=lambda w, output: os.path.dirname(output[0]),
        hp=lambda w: hyperparameters(w.optimizer),
        budget=lambda w: family_budget_args(w.family, w.task),
        noise=config.get("noise", "mean"),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/families/{{family}}/{{task}}/{{optimizer}}/seeds_{{chunk}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/families/search/{{family}}/{{task}}/{{optimizer}}/seeds_{{chunk}}.tsv"
    resources:
        mem_mb=800,
        runtime=60,
    group:
        "search"
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} run-chunk --benchmark {wildcards.family:q} --task {wildcards.task:q}"
        " --optimizer {wildcards.optimizer:q} --seeds {params.seeds:q} {params.budget:q} --noise {params.noise:q} --hp {params.hp:q}"
        " --runs-dir {params.runs_dir:q} --manifest {output:q} > {log:q} 2>&1"


rule family_summary:
    """Final regret per task (a column per task), average ranks over every task, Friedman/Nemenyi."""
    output:
        report(f"{FAMILY_DIR}/summary/summary_table.csv", caption=f"../{FAMILY_DIR}/summary/summary_table.rst", category=FAMILY_REPORT, subcategory="All tasks"),
        f"{FAMILY_DIR}/summary/friedman.parquet",
        report(f"{FAMILY_DIR}/summary/cd_diagram.png", caption=f"../{FAMILY_DIR}/summary/cd_diagram.rst", category=FAMILY_REPORT, subcategory="All tasks"),
        f"{FAMILY_DIR}/summary/summary_table.rst",
        f"{FAMILY_DIR}/summary/cd_diagram.rst",
    input:
        runs=family_manifests(),
        nb201=f"{RESULTS}/aggregate/per_run_final.parquet",
        code=[SRC / "analysis" / "families.py", SRC / "analysis" / "stats.py", SRC / "analysis" / "figures.py"],
    params:
        nashpo=NASHPO,
        out=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/families/summary.log",
    shell:
        "{params.nashpo} analysis families --runs {input.runs:q} --nb201 {input.nb201:q} --out {params.out:q} > {log:q} 2>&1"


rule family_to_deepcave:
    """Every FCNet/MLP run of one search chunk as a DeepCAVE run, one folder per seed (`nashpo deepcave results/families`)."""
    output:
        f"{FAMILY_DIR}/deepcave/{{family}}/{{task}}/{{optimizer}}/seeds_{{chunk}}.json",
    input:
        runs=f"{FAMILY_DIR}/runs/{{family}}/{{task}}/{{optimizer}}/seeds_{{chunk}}.json",
        code=SRC / "export" / "deepcave.py",
    params:
        nashpo=NASHPO,
        out_dir=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/families/deepcave/{{family}}/{{task}}/{{optimizer}}/seeds_{{chunk}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/families/deepcave/{{family}}/{{task}}/{{optimizer}}/seeds_{{chunk}}.tsv"
    group:
        "search"
    shell:
        "{params.nashpo} to-deepcave-chunk --runs {input.runs:q} --out-dir {params.out_dir:q} --manifest {output:q} > {log:q} 2>&1"


# One rule per family (not a wildcard): the Snakemake report reads each caption from a fixed path.
for _family in FAMILIES_CFG:

    rule:
        """One family: anytime validation-regret curves per task (one figure), Wilcoxon/Holm per task."""
        name:
            f"family_analysis_{_family}"
        output:
            report(f"{FAMILY_DIR}/analysis/{_family}/anytime_time.png", caption=f"../{FAMILY_DIR}/analysis/{_family}/anytime_time.rst", category=FAMILY_REPORT, subcategory=_family),
            report(f"{FAMILY_DIR}/analysis/{_family}/wilcoxon.csv", caption=f"../{FAMILY_DIR}/analysis/{_family}/wilcoxon.rst", category=FAMILY_REPORT, subcategory=_family),
            [f"{FAMILY_DIR}/analysis/{_family}/{name}" for name in FAMILY_ANALYSIS_FILES],
        input:
            runs=family_manifests([_family]),
            code=[SRC / "analysis" / m for m in ("families.py", "aggregate.py", "stats.py", "figures.py", "io.py")],
        params:
            nashpo=NASHPO,
            out=lambda w, output: os.path.dirname(output[0]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/families/analysis_{_family}.log",
        benchmark:
            f"{RESULTS}/benchmarks/families/analysis_{_family}.tsv"
        shell:
            "{params.nashpo} analysis family --runs {input.runs:q} --out {params.out:q} > {log:q} 2>&1"
