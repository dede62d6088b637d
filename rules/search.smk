rule search:
    """One optimizer x K workers x task x objective set x chunk of seeds in one process, one atomic run
    folder per seed (chunk rule: src/nashpo/manifests.py); the adapter and the family's files are inputs."""
    output:
        f"{RESULTS}/runs/{CHUNK_PATH}.json",
    input:
        table=lambda w: table_path(w.family, w.task),
        adapter=lambda w: adapter_file(w.optimizer),
        code=search_code,
    params:
        nashpo=NASHPO,
        data_dir=lambda w, input: os.path.dirname(input.table),
        seeds=chunk_seeds,
        runs_dir=lambda w, output: os.path.dirname(output[0]),
        hp=lambda w: hyperparameters(w.optimizer),
        budget=budget_args,
        protocol=protocol_args,
        objectives=objectives_args,
        noise=NOISE,
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/search/{CHUNK_PATH}.log",
    benchmark:
        f"{RESULTS}/benchmarks/search/{CHUNK_PATH}.tsv"
    resources:
        mem_mb=800,
        runtime=60,
    group:
        "search"
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} run-chunk --benchmark {wildcards.family:q} --task {wildcards.task:q}"
        " --optimizer {wildcards.optimizer:q} --workers {wildcards.workers:q} --seeds {params.seeds:q} {params.budget:q} {params.protocol:q} --noise {params.noise:q}"
        " --hp {params.hp:q} {params.objectives:q} --runs-dir {params.runs_dir:q} --manifest {output:q} > {log:q} 2>&1"
