FIGURES = f"{RESULTS}/figures"


rule figures:
    output:
        [
            report(f"{FIGURES}/{stem}.png", caption=f"../{FIGURES}/{stem}.rst", category="Figures")
            for stem in PAPER_FIGURES
        ],
        [f"{FIGURES}/{stem}.{ext}" for stem in PAPER_FIGURES for ext in ("pdf", "rst")],
    input:
        AGGREGATE_FILES,
        stats=rules.stats.output,
        transfer=rules.transfer.output,
        importance=rules.importance.output,
        code=FIGURES_CODE,
    params:
        nashpo=NASHPO,
        aggregate=lambda w, input: os.path.dirname(input[0]),
        stats=lambda w, input: os.path.dirname(input.stats[0]),
        transfer=lambda w, input: os.path.dirname(input.transfer[0]),
        importance=lambda w, input: os.path.dirname(input.importance[0]),
        out=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/figures.log",
    shell:
        "{params.nashpo} analysis figures --aggregate {params.aggregate:q} --stats {params.stats:q} --transfer {params.transfer:q}"
        " --importance {params.importance:q} --out {params.out:q} > {log:q} 2>&1"
