# nashpo: off-the-shelf HPO optimizers as NAS methods on NAS-Bench-201.
# Stages: data -> search -> export (DeepCAVE) -> aggregate -> stats/transfer/importance -> figures -> report.


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/search.smk"
include: "rules/export.smk"
include: "rules/aggregate.smk"
include: "rules/stats.smk"
include: "rules/figures.smk"
include: "rules/report.smk"


rule all:
    input:
        deepcave_dirs(),
        paper_figure_files(),


onerror:
    print_failure_summary(log)
