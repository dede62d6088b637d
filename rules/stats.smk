rule stats:
    """Every task: Wilcoxon/Holm per task; Friedman/Nemenyi over NB201's tasks, over every single-objective task, over the multi-objective tasks."""
    output:
        stats_files(),
        parallel_files("stats"),
    input:
        rules.aggregate.output,
        code=STATS_CODE,
    params:
        nashpo=NASHPO,
        aggregate=lambda w, input: os.path.dirname(input[0]),
        out=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/stats.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/stats.tsv"
    threads: ANALYSIS_THREADS
    shell:
        "{params.nashpo} analysis stats --aggregate {params.aggregate:q} --out {params.out:q} --jobs {threads} > {log:q} 2>&1"


if NB201_RUNS:

    rule transfer:
        """NB201: final incumbents evaluated on every dataset; rank correlation of all architectures."""
        output:
            f"{TRANSFER}/transfer.parquet",
            f"{TRANSFER}/rank_correlation.parquet",
        input:
            rules.aggregate.output,
            code=TRANSFER_CODE,
        params:
            nashpo=NASHPO,
            data_dir=DATA_DIR,
            aggregate=lambda w, input: os.path.dirname(input[0]),
            out=lambda w, output: os.path.dirname(output[0]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/transfer.log",
        benchmark:
            f"{RESULTS}/benchmarks/analysis/transfer.tsv"
        shell:
            "{params.nashpo} --data-dir {params.data_dir:q} analysis transfer --aggregate {params.aggregate:q} --out {params.out:q} > {log:q} 2>&1"

    rule importance:
        """NB201: DeepCAVE fANOVA/LPI on the first `importance_seeds` seeds of every optimizer and dataset."""
        output:
            f"{IMPORTANCE}/importance.parquet",
            f"{IMPORTANCE}/parallel_coordinates.parquet",
        input:
            runs=export_manifests(NB201_RUNS, importance_seeds(), workers=1),  # the one-worker runs
            code=IMPORTANCE_CODE,
        params:
            nashpo=NASHPO,
            runs=deepcave_dirs(NB201_RUNS, importance_seeds(), workers=1),
            out=lambda w, output: os.path.dirname(output[0]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/importance.log",
        benchmark:
            f"{RESULTS}/benchmarks/analysis/importance.tsv"
        shell:
            "{params.nashpo} analysis importance --deepcave {params.runs:q} --out {params.out:q} > {log:q} 2>&1"
