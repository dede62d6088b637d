# Targets over the analysis; `snakemake --report report.html` gathers every output marked report().

if NB201_RUNS:

    rule paper_figures:
        """Regenerate exactly the paper figure set."""
        input:
            paper_figure_files(),

