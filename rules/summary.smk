# Analysis over tasks beyond NB201's own: the cross-task summary of every single-objective task, one
# analysis per family, and the multi-objective analysis of every task with several objectives.

if FAMILY_RUNS:

    rule summary:
        """Final regret per task (a column per task), average ranks over every single-objective task, Friedman/Nemenyi."""
        output:
            report(f"{SUMMARY}/summary_table.csv", caption=f"../{SUMMARY}/summary_table.rst", category=FAMILY_REPORT, subcategory="All tasks"),
            f"{SUMMARY}/friedman.parquet",
            report(f"{SUMMARY}/cd_diagram.png", caption=f"../{SUMMARY}/cd_diagram.rst", category=FAMILY_REPORT, subcategory="All tasks"),
            f"{SUMMARY}/summary_table.rst",
            f"{SUMMARY}/cd_diagram.rst",
        input:
            runs=search_manifests(FAMILY_RUNS),
            nb201=[f"{RESULTS}/aggregate/per_run_final.parquet"] if NB201_RUNS else [],
            code=SUMMARY_CODE,
        params:
            nashpo=NASHPO,
            nb201=lambda w, input: ["--nb201", *input.nb201] if input.nb201 else [],
            out=lambda w, output: os.path.dirname(output[0]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/summary.log",
        shell:
            "{params.nashpo} analysis families --runs {input.runs:q} {params.nb201:q} --out {params.out:q} > {log:q} 2>&1"


# One rule per family (not a wildcard): the Snakemake report reads each caption from a fixed path.
for _family in ANALYSED_FAMILIES:

    rule:
        """One family: anytime validation-regret curves per task (one figure), Wilcoxon/Holm per task."""
        name:
            f"family_analysis_{_family}"
        output:
            report(f"{ANALYSIS}/{_family}/anytime_time.png", caption=f"../{ANALYSIS}/{_family}/anytime_time.rst", category=FAMILY_REPORT, subcategory=_family),
            report(f"{ANALYSIS}/{_family}/wilcoxon.csv", caption=f"../{ANALYSIS}/{_family}/wilcoxon.rst", category=FAMILY_REPORT, subcategory=_family),
            [f"{ANALYSIS}/{_family}/{name}" for name in FAMILY_ANALYSIS_FILES],
        input:
            runs=search_manifests(searches(_family, so=True)),
            code=FAMILY_ANALYSIS_CODE,
        params:
            nashpo=NASHPO,
            out=lambda w, output: os.path.dirname(output[0]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/analysis/{_family}.log",
        benchmark:
            f"{RESULTS}/benchmarks/analysis/{_family}.tsv"
        shell:
            "{params.nashpo} analysis family --runs {input.runs:q} --out {params.out:q} > {log:q} 2>&1"


if MO_RUNS:

    rule mo_analysis:
        """HV-regret curves, Wilcoxon/Holm per task, Friedman/Nemenyi + CD, Pareto fronts (EAF), latency saved."""
        output:
            [report(f, caption=f"../{os.path.splitext(f)[0]}.rst", category="Multi-objective") for f in mo_reported()],
            mo_unreported(),
        input:
            runs=search_manifests(MO_RUNS),
            so_runs=mo_so_runs(),
            tables=mo_tables(),
            code=MO_ANALYSIS_CODE,
        params:
            nashpo=NASHPO,
            data_dir=lambda w, input: os.path.dirname(input.tables[0]),
            so_runs=lambda w, input: ["--so-runs", *input.so_runs] if input.so_runs else [],
            out=lambda w, output: os.path.dirname(output[0]),
        conda:
            "../envs/environment.yml"
        log:
            f"{RESULTS}/logs/analysis/multi_objective.log",
        benchmark:
            f"{RESULTS}/benchmarks/analysis/multi_objective.tsv"
        shell:
            "{params.nashpo} --data-dir {params.data_dir:q} analysis mo --runs {input.runs:q} {params.so_runs:q} --out {params.out:q} > {log:q} 2>&1"

    rule mo_all:
        """The multi-objective tasks only: `snakemake --cores 8 mo_all`."""
        input:
            mo_files(),
