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
        rules.stats.output,
        rules.transfer.output,
        rules.importance.output,
        code=SRC / "analysis" / "figures.py",
    log:
        f"{RESULTS}/logs/figures.log",
    shell:
        "{NASHPO} analysis figures --aggregate {AGGREGATE} --stats {STATS} --transfer {TRANSFER}"
        " --importance {IMPORTANCE} --out {FIGURES} > {log} 2>&1"
