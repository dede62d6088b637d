# Multi-objective searches (`multi_objective:` in the config; docs/multi_objective_analysis.md): fan-out over
# benchmark x task x objective set x optimizer x chunk of seeds, DeepCAVE exports, `nashpo analysis mo`.


wildcard_constraints:
    mo_benchmark="nb201|hpolib|hpobench",
    mo_task=r"[A-Za-z0-9_-]+",
    objset=r"[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)+",
    mo_optimizer=r"[a-z][a-z0-9_]*",


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
                    "runner/loop.py",
                    "runner/budget.py",
                    "runner/fronts.py",
                    "runner/chunk.py",
                    "benchmarks/nb201.py",
                    "benchmarks/grid.py",
                    "objectives.py",
                    "pareto.py",
                    "triallog.py",
                    "manifests.py",
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
            data_dir=lambda w, input: os.path.dirname(input.tables[0]),
            so_runs=lambda w, input: ["--so-runs", *input.so_runs] if input.so_runs else [],
            out=lambda w, output: os.path.dirname(output[0]),
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
