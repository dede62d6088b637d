rule search:
    """One optimizer x dataset x chunk of seeds in one process, one atomic run folder per seed
    (chunk rule: src/nashpo/manifests.py); the adapter file is an input."""
    output:
        f"{RESULTS}/runs/{{dataset}}/{{optimizer}}/seeds_{{chunk}}.json",
    input:
        table=f"{DATA_DIR}/nb201_{{dataset}}.parquet",
        adapter=lambda w: adapter_file(w.optimizer),
        shared=[SRC / "runner" / "loop.py", SRC / "runner" / "budget.py", SRC / "runner" / "chunk.py", SRC / "benchmarks" / "nb201.py", SRC / "optimizers" / "base.py", SRC / "triallog.py", SRC / "manifests.py"],
    params:
        nashpo=NASHPO,
        data_dir=lambda w, input: os.path.dirname(input.table),
        seeds=lambda w: chunk_seeds(w.optimizer, w.chunk),
        runs_dir=lambda w, output: os.path.dirname(output[0]),
        hp=lambda w: hyperparameters(w.optimizer),
        budget=lambda w: budget_args(w.dataset),
        protocol=config["protocol"],
        noise=config.get("noise", "mean"),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/search/{{dataset}}/{{optimizer}}/seeds_{{chunk}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/search/{{dataset}}/{{optimizer}}/seeds_{{chunk}}.tsv"
    resources:
        mem_mb=800,
        runtime=60,
    group:
        "search"
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} run-chunk --optimizer {wildcards.optimizer:q} --dataset {wildcards.dataset:q}"
        " --seeds {params.seeds:q} {params.budget} --protocol {params.protocol:q} --noise {params.noise:q} --hp {params.hp:q}"
        " --runs-dir {params.runs_dir:q} --manifest {output:q} > {log:q} 2>&1"
