rule to_deepcave:
    """Every run of one search chunk as a DeepCAVE run (every objective), one folder per seed, in one process."""
    output:
        f"{RESULTS}/deepcave/{{family}}/{{task}}/{{objectives}}/{{optimizer}}/seeds_{{chunk}}.json",
    input:
        runs=f"{RESULTS}/runs/{{family}}/{{task}}/{{objectives}}/{{optimizer}}/seeds_{{chunk}}.json",
        code=EXPORT_CODE,
    params:
        nashpo=NASHPO,
        out_dir=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/deepcave/{{family}}/{{task}}/{{objectives}}/{{optimizer}}/seeds_{{chunk}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/deepcave/{{family}}/{{task}}/{{objectives}}/{{optimizer}}/seeds_{{chunk}}.tsv"
    group:
        "search"
    shell:
        "{params.nashpo} to-deepcave-chunk --runs {input.runs:q} --out-dir {params.out_dir:q} --manifest {output:q} > {log:q} 2>&1"
