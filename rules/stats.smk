STATS = f"{RESULTS}/stats"
TRANSFER = f"{RESULTS}/transfer"
IMPORTANCE = f"{RESULTS}/importance"


rule stats:
    output:
        [f"{STATS}/{s}.parquet" for s in ("wilcoxon", "friedman", "nemenyi", "ranks_over_time", "summary_table")],
        [f"{STATS}/{s}.tex" for s in ("wilcoxon", "friedman", "summary_table")],
    input:
        AGGREGATE_FILES,
        code=SRC / "analysis" / "stats.py",
    log:
        f"{RESULTS}/logs/stats.log",
    shell:
        "{NASHPO} analysis stats --aggregate {AGGREGATE} --out {STATS} > {log} 2>&1"


rule transfer:
    output:
        f"{TRANSFER}/transfer.parquet",
        f"{TRANSFER}/rank_correlation.parquet",
    input:
        AGGREGATE_FILES,
        code=SRC / "analysis" / "transfer.py",
    log:
        f"{RESULTS}/logs/transfer.log",
    shell:
        "{NASHPO} --data-dir {DATA_DIR} analysis transfer --aggregate {AGGREGATE} --out {TRANSFER} > {log} 2>&1"


rule importance:
    """DeepCAVE fANOVA/LPI on the first `importance_seeds` seeds of every optimizer and dataset."""
    output:
        f"{IMPORTANCE}/importance.parquet",
        f"{IMPORTANCE}/parallel_coordinates.parquet",
    input:
        runs=deepcave_dirs(SEEDS[: config.get("importance_seeds", 3)]),
        code=SRC / "analysis" / "importance.py",
    log:
        f"{RESULTS}/logs/importance.log",
    shell:
        "{NASHPO} analysis importance --deepcave {input.runs} --out {IMPORTANCE} > {log} 2>&1"
