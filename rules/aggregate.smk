AGGREGATE = f"{RESULTS}/aggregate"
AGGREGATE_FILES = [f"{AGGREGATE}/{s}.parquet" for s in ("per_run_final", "per_run_trajectories", "curves_time", "curves_evals", "summary", "oracle")]


rule aggregate:
    """The NB201 single-objective runs: final and anytime regret per run, curves, the oracle."""
    output:
        AGGREGATE_FILES,
    input:
        runs=analysed_runs(NB201_RUNS),  # chunk manifests (--runs expands them), or finished run folders with allow_missing_runs
        code=AGGREGATE_CODE,
    params:
        nashpo=NASHPO,
        data_dir=DATA_DIR,
        out=lambda w, output: os.path.dirname(output[0]),
        missing=lambda w: ["--missing", *missing_runs(NB201_RUNS)] if missing_runs(NB201_RUNS) else [],
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/aggregate.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} analysis aggregate --runs {input.runs:q} {params.missing:q} --out {params.out:q} > {log:q} 2>&1"
