# nashpo: off-the-shelf HPO optimizers as NAS methods on tabular benchmarks, one pipeline over tasks.
# A task is (family, task, objective set, budget, protocol where the family has one); config `tasks:`.
# Every task: data -> search (chunks of seeds) -> export (DeepCAVE) -> aggregate -> stats -> figures -> report,
# one rule per stage (rules/*.smk). NB201 adds the transfer and importance analyses and the NB201 table.


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/search.smk"
include: "rules/export.smk"


if ANALYSED:

    include: "rules/aggregate.smk"
    include: "rules/stats.smk"
    include: "rules/figures.smk"
    include: "rules/report.smk"


if NB201_TABLE_RUNS:

    include: "rules/nb201_table.smk"


rule all:
    input:
        all_export_manifests(),
        analysis_files(),
        nb201_table_files(),


onerror:
    print_failure_summary(log)
