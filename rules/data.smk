rule prepare_data:
    output:
        f"{DATA_DIR}/nb201_{{dataset}}.parquet",
    input:
        SRC / "data" / "sources.py",
        SRC / "data" / "tables.py",
    params:
        nashpo=NASHPO,
        data_dir=lambda w, output: os.path.dirname(output[0]),
        mirror=["--mirror", config["mirror"]] if config.get("mirror") else [],
        naslib=["--naslib-dir", config["naslib_dir"]] if config.get("naslib_dir") else [],
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} data prepare --dataset {wildcards.dataset:q} {params.mirror:q} {params.naslib:q} > {log:q} 2>&1"
