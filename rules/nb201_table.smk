rule nb201_table:
    """NB201 paper's Table 5 layout from the cifar10 searches, beside the published rows."""
    output:
        report(f"{NB201_TABLE}/nb201_table.csv", caption=f"../{NB201_TABLE}/nb201_table.rst", category="Tables"),
        f"{NB201_TABLE}/nb201_table.md",
        f"{NB201_TABLE}/nb201_table.tex",
        f"{NB201_TABLE}/nb201_table.rst",
        f"{NB201_TABLE}/nb201_table_runs.csv",
    input:
        runs=analysed_runs(NB201_TABLE_RUNS, workers=1),  # the one-worker runs: the paper's protocol
        tables=[table_path(NB201, d) for d in NB201_DATASETS],
        code=NB201_TABLE_CODE,
    params:
        nashpo=NASHPO,
        data_dir=lambda w, input: os.path.dirname(input.tables[0]),
        out=lambda w, output: os.path.dirname(output[0]),
        rule=NB201_TABLE_RULE,
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/nb201_table.log",
    shell:
        "{params.nashpo} --data-dir {params.data_dir:q} analysis nb201-table --runs {input.runs:q} --out {params.out:q} --incumbent-rule {params.rule:q} > {log:q} 2>&1"
