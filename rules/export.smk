rule to_deepcave:
    """Every run of one search chunk as a DeepCAVE run, one folder per seed, in one process."""
    output:
        f"{RESULTS}/deepcave/{{dataset}}/{{optimizer}}/seeds_{{chunk}}.json",
    input:
        runs=f"{RESULTS}/runs/{{dataset}}/{{optimizer}}/seeds_{{chunk}}.json",
        code=SRC / "export" / "deepcave.py",
    params:
        nashpo=NASHPO,
        out_dir=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/deepcave/{{dataset}}/{{optimizer}}/seeds_{{chunk}}.log",
    group:
        "search"
    shell:
        "{params.nashpo} to-deepcave-chunk --runs {input.runs:q} --out-dir {params.out_dir:q} --manifest {output:q} > {log:q} 2>&1"
