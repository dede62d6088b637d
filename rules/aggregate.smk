AGGREGATE = f"{RESULTS}/aggregate"
AGGREGATE_FILES = [f"{AGGREGATE}/{s}.parquet" for s in ("per_run_final", "per_run_trajectories", "curves_time", "curves_evals", "summary", "oracle")]


rule aggregate:
    output:
        AGGREGATE_FILES,
    input:
        runs=run_dirs(),
        code=SRC / "analysis" / "aggregate.py",
    log:
        f"{RESULTS}/logs/aggregate.log",
    shell:
        "{NASHPO} --data-dir {DATA_DIR} analysis aggregate --runs {input.runs} --out {AGGREGATE} > {log} 2>&1"
