rule prepare_data:
    output:
        f"{DATA_DIR}/nb201_{{dataset}}.parquet",
    input:
        SRC / "data" / "sources.py",
        SRC / "data" / "tables.py",
    params:
        nashpo=NASHPO,
        data_dir=lambda w, output: os.path.dirname(output[0]),
        mirror=f"--mirror {config['mirror']}" if config.get("mirror") else "",
        naslib=f"--naslib-dir {config['naslib_dir']}" if config.get("naslib_dir") else "",
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir} data prepare --dataset {wildcards.dataset} {params.mirror} {params.naslib} > {log} 2>&1"
