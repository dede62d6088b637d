"""Analysis of finished searches (docs/analysis.md).

Modules, one per `nashpo analysis` subcommand and Snakemake rule: ``aggregate`` (incumbent trajectories
on common grids, regret against the benchmark oracle, bootstrap bands), ``stats`` (Wilcoxon/Holm per
task, Friedman/Nemenyi across tasks, rank over time), ``transfer`` (incumbents on every dataset, rank
correlations), ``importance`` (DeepCAVE fANOVA/LPI, parallel-coordinates data), ``figures`` (the paper
set); ``io`` holds the shared run-list and atomic-write helpers, ``cli`` the subcommands.
"""
