rule prepare_data:
    """One task's table: `nashpo data prepare --benchmark {family} --task {task}` (NB201 reads the mirror)."""
    output:
        f"{DATA_DIR}/{{family}}_{{task}}.parquet",
    input:
        lambda w: data_sources(w.family),
    params:
        nashpo=NASHPO,
        data_dir=lambda w, output: os.path.dirname(output[0]),
        sources=lambda w: nb201_sources() if w.family == NB201 else [],
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/data/{{family}}_{{task}}.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} data prepare --benchmark {wildcards.family:q} --task {wildcards.task:q} {params.sources:q} > {log:q} 2>&1"
