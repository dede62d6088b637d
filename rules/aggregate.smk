include: "parallel.smk"  # the parallel group's outputs (parallel_files)


rule aggregate:
    """Every task: final and anytime regret per run (HV regret for several objectives), bootstrap curves, the NB201 oracle."""
    output:
        aggregate_files(),
        parallel_files("aggregate"),
    input:
        runs=stage_runs(),  # chunk manifests (--runs expands them); NB201's finished run folders with allow_missing_runs
        tables=mo_tables(),
        code=AGGREGATE_CODE,
    params:
        nashpo=NASHPO,
        data_dir=lambda w, input: os.path.dirname(input.tables[0]) if input.tables else DATA_DIR,
        out=lambda w, output: os.path.dirname(output[0]),
        missing=lambda w: ["--missing", *missing_runs(NB201_RUNS)] if missing_runs(NB201_RUNS) else [],
        pairs=attainment_pair_args(),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/aggregate.tsv"
    threads: ANALYSIS_THREADS
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} analysis aggregate --runs {input.runs:q} {params.missing:q} {params.pairs:q} --out {params.out:q} --jobs {threads} > {log:q} 2>&1"
