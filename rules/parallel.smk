# The parallel group (results/{aggregate,stats,figures}/parallel/, nashpo.analysis.parallel): declared when
# some search of the study has K > 1 simulated workers (a search record's `workers`: one K or a list of them).
PARALLEL_REPORT = "Parallel workers"


def search_workers(s):
    workers = s.get("workers", 1)
    return list(workers) if isinstance(workers, (list, tuple)) else [workers]


PARALLEL_ANALYSED = any(int(k) > 1 for s in SEARCHES.values() for k in search_workers(s))


def parallel_files(stage):
    """The parallel group's outputs of one stage (none in a one-worker study)."""
    if not PARALLEL_ANALYSED:
        return []
    if stage == "aggregate":
        return [f"{AGGREGATE}/parallel/{s}.{e}" for s in ("per_run_final", "curves_time", "targets") for e in ("parquet", "csv")]
    if stage == "stats":
        files = [f"{STATS}/parallel/{s}.{e}" for s in ("speedup", "wilcoxon", "friedman", "ranks", "rank_correlation") for e in ("parquet", "csv")]
        return [reported(f, PARALLEL_REPORT) if f.endswith(("speedup.csv", "wilcoxon.csv", "rank_correlation.csv")) else f for f in files] + [
            f"{STATS}/parallel/{s}.rst" for s in ("speedup", "wilcoxon", "rank_correlation")
        ]
    stems = ("anytime_time", "speedup")
    return [reported(f"{FIGURES}/parallel/{s}.png", PARALLEL_REPORT) for s in stems] + [f"{FIGURES}/parallel/{s}.{e}" for s in stems for e in ("pdf", "rst")]
