AGGREGATE = f"{RESULTS}/aggregate"
AGGREGATE_FILES = [f"{AGGREGATE}/{s}.parquet" for s in ("per_run_final", "per_run_trajectories", "curves_time", "curves_evals", "summary", "oracle")]


rule aggregate:
    output:
        AGGREGATE_FILES,
    input:
        runs=search_manifests(),  # chunk manifests: --runs expands them to run folders
        code=SRC / "analysis" / "aggregate.py",
    params:
        nashpo=NASHPO,
        data_dir=DATA_DIR,
        out=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/aggregate.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir} analysis aggregate --runs {input.runs} --out {params.out} > {log} 2>&1"
