STATS = f"{RESULTS}/stats"
TRANSFER = f"{RESULTS}/transfer"
IMPORTANCE = f"{RESULTS}/importance"


rule stats:
    output:
        [f"{STATS}/{s}.parquet" for s in ("wilcoxon", "friedman", "nemenyi", "ranks_over_time", "summary_table")],
        [f"{STATS}/{s}.tex" for s in ("wilcoxon", "friedman", "summary_table")],
    input:
        AGGREGATE_FILES,
        code=STATS_CODE,
    params:
        nashpo=NASHPO,
        aggregate=lambda w, input: os.path.dirname(input[0]),
        out=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/stats.log",
    shell:
        "{params.nashpo} analysis stats --aggregate {params.aggregate:q} --out {params.out:q} > {log:q} 2>&1"


rule transfer:
    output:
        f"{TRANSFER}/transfer.parquet",
        f"{TRANSFER}/rank_correlation.parquet",
    input:
        AGGREGATE_FILES,
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
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} analysis transfer --aggregate {params.aggregate:q} --out {params.out:q} > {log:q} 2>&1"


rule importance:
    """DeepCAVE fANOVA/LPI on the first `importance_seeds` seeds of every optimizer and dataset."""
    output:
        f"{IMPORTANCE}/importance.parquet",
        f"{IMPORTANCE}/parallel_coordinates.parquet",
    input:
        runs=export_manifests(NB201_RUNS, importance_seeds()),
        code=IMPORTANCE_CODE,
    params:
        nashpo=NASHPO,
        runs=deepcave_dirs(NB201_RUNS, importance_seeds()),
        out=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/importance.log",
    shell:
        "{params.nashpo} analysis importance --deepcave {params.runs:q} --out {params.out:q} > {log:q} 2>&1"
