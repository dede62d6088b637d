rule paper_figures:
    """Regenerate exactly the paper figure set."""
    input:
        paper_figure_files(),
