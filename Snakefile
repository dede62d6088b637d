# nashpo: off-the-shelf HPO optimizers as NAS methods on NAS-Bench-201.
# Stages: data -> search -> export (DeepCAVE) -> aggregate -> stats/transfer/importance -> figures, NB201 table -> report;
# families (FCNet, MLP): table -> search -> export (DeepCAVE), per-family analysis, summary over every task.
# multi-objective (rules/mo.smk): search -> export (DeepCAVE) -> HV-regret analysis, Pareto fronts.


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/search.smk"
include: "rules/export.smk"
include: "rules/aggregate.smk"
include: "rules/stats.smk"
include: "rules/figures.smk"
include: "rules/nb201_table.smk"
include: "rules/report.smk"
include: "rules/families.smk"
include: "rules/mo.smk"


rule all:
    input:
        export_manifests(),
        paper_figure_files(),
        nb201_table_files(),
        family_summary_files(),
        family_export_manifests(),
        family_analysis_files(),
        mo_files(),


onerror:
    print_failure_summary(log)
