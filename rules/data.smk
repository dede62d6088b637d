rule prepare_data:
    output:
        f"{DATA_DIR}/nb201_{{dataset}}.parquet",
    input:
        SRC / "data" / "sources.py",
        SRC / "data" / "tables.py",
    params:
        mirror=f"--mirror {config['mirror']}" if config.get("mirror") else "",
        naslib=f"--naslib-dir {config['naslib_dir']}" if config.get("naslib_dir") else "",
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    shell:
        "{NASHPO} --data-dir {DATA_DIR} data prepare --dataset {wildcards.dataset} {params.mirror} {params.naslib} > {log} 2>&1"
