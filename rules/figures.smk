rule figures:
    """Every task's figures: NB201's paper set, an anytime figure per family, the cross-task CD diagram, the multi-objective figures."""
    output:
        figure_files(),
        parallel_files("figures"),
    input:
        rules.aggregate.output,
        stats=rules.stats.output,
        transfer=rules.transfer.output if NB201_RUNS else [],
        importance=rules.importance.output if NB201_RUNS else [],
        code=FIGURES_CODE,
    params:
        nashpo=NASHPO,
        aggregate=lambda w, input: os.path.dirname(input[0]),
        stats=lambda w, input: os.path.dirname(input.stats[0]),
        nb201=lambda w, input: ["--transfer", os.path.dirname(input.transfer[0]), "--importance", os.path.dirname(input.importance[0])] if input.transfer else [],
        out=lambda w, output: os.path.dirname(output[0]),
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/figures.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/figures.tsv"
    threads: ANALYSIS_THREADS
    shell:
        "{params.nashpo} analysis figures --aggregate {params.aggregate:q} --stats {params.stats:q} {params.nb201:q}"
        " --out {params.out:q} --jobs {threads} > {log:q} 2>&1"
