AGGREGATE = f"{RESULTS}/aggregate"
AGGREGATE_FILES = [f"{AGGREGATE}/{s}.parquet" for s in ("per_run_final", "per_run_trajectories", "curves_time", "curves_evals", "summary", "oracle")]


rule aggregate:
    output:
        AGGREGATE_FILES,
    input:
        runs=analysed_runs(),  # chunk manifests (--runs expands them), or finished run folders with allow_missing_runs
        code=SRC / "analysis" / "aggregate.py",
    params:
        nashpo=NASHPO,
        data_dir=DATA_DIR,
        out=lambda w, output: os.path.dirname(output[0]),
        missing=lambda w: ["--missing", *missing_runs()] if missing_runs() else [],
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/aggregate.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} analysis aggregate --runs {input.runs:q} {params.missing:q} --out {params.out:q} > {log:q} 2>&1"
