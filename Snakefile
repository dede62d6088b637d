# nashpo: off-the-shelf HPO optimizers as NAS methods on tabular benchmarks, one pipeline over tasks.
# A task is (family, task, objective set, budget, protocol where the family has one); config `tasks:`.
# Every task: data -> search (chunks of seeds) -> export (DeepCAVE).
# NB201 single-objective tasks: aggregate -> stats/transfer/importance -> figures, NB201 table -> report;
# every single-objective task: the cross-task summary, one analysis per family; several objectives:
# the multi-objective analysis (HV regret, Pareto fronts).


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/search.smk"
include: "rules/export.smk"


if NB201_RUNS:

    include: "rules/aggregate.smk"
    include: "rules/stats.smk"
    include: "rules/figures.smk"
    include: "rules/report.smk"


if NB201_TABLE_RUNS:

    include: "rules/nb201_table.smk"


include: "rules/summary.smk"


rule all:
    input:
        all_export_manifests(),
        paper_figure_files(),
        nb201_table_files(),
        summary_files(),
        family_analysis_files(),
        mo_analysis_files(),


onerror:
    print_failure_summary(log)
