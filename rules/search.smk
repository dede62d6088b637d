rule search:
    """One optimizer x dataset x seed on the simulated clock (the adapter file is an input)."""
    output:
        directory(f"{RESULTS}/runs/{{dataset}}/{{optimizer}}/{{seed}}"),
    input:
        table=f"{DATA_DIR}/nb201_{{dataset}}.parquet",
        adapter=lambda w: adapter_file(w.optimizer),
        shared=[SRC / "runner.py", SRC / "benchmark.py", SRC / "optimizers" / "base.py", SRC / "triallog.py"],
    params:
        nashpo=NASHPO,
        data_dir=lambda w, input: os.path.dirname(input.table),
        hp=lambda w: hyperparameters(w.optimizer),
        budget=lambda w: budget_args(w.dataset),
        protocol=config["protocol"],
        noise=config.get("noise", "mean"),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/search/{{dataset}}/{{optimizer}}/{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/search/{{dataset}}/{{optimizer}}/{{seed}}.tsv"
    resources:
        mem_mb=800,
        runtime=30,
    group:
        "search"
    shell:
        "{params.nashpo} --data-dir {params.data_dir} run --optimizer {wildcards.optimizer} --dataset {wildcards.dataset} --seed {wildcards.seed}"
        " {params.budget} --protocol {params.protocol} --noise {params.noise} --hp '{params.hp}' --out {output} --force > {log} 2>&1"
