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
        shared=[SRC / "runner.py", SRC / "optimizers" / "base.py", SRC / "optimizers" / "finite.py", SRC / "triallog.py", SRC / "batch.py"],
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
        f"{FAMILY_DIR}/summary/summary_table.csv",
        f"{FAMILY_DIR}/summary/friedman.parquet",
        f"{FAMILY_DIR}/summary/cd_diagram.png",
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
