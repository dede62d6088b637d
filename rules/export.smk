rule to_deepcave:
    """Every run of one search chunk as a DeepCAVE run (every objective), one folder per seed, in one process."""
    output:
        f"{RESULTS}/deepcave/{CHUNK_PATH}.json",
    input:
        runs=f"{RESULTS}/runs/{CHUNK_PATH}.json",
        code=EXPORT_CODE,
    params:
        nashpo=NASHPO,
        out_dir=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/deepcave/{CHUNK_PATH}.log",
    benchmark:
        f"{RESULTS}/benchmarks/deepcave/{CHUNK_PATH}.tsv"
    group:
        "search"
    shell:
        "{params.nashpo} to-deepcave-chunk --runs {input.runs:q} --out-dir {params.out_dir:q} --manifest {output:q} > {log:q} 2>&1"
