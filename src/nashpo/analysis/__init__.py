"""Analysis of finished searches (docs/analysis.md). Reads trial logs and run records only.

One path for every task (family, task, objective set, protocol): ``runs`` loads run records and trial
logs into one per-run frame with each run's score trajectory (regret for one objective, hypervolume
regret for several), ``curves`` puts them on common grids with bootstrap bands, ``stats`` tests per
task (Wilcoxon/Holm) and across tasks (Friedman/Nemenyi), ``figures.anytime_panels`` draws anytime
curves one panel per task. The subcommands use it: ``aggregate`` + ``stats`` + ``figures`` (NB201),
``families`` (per family, and the cross-task summary over every single-objective task), ``mo`` +
``mo_figures`` (multi-objective tasks). NB201-only: ``nb201_table`` and ``transfer`` (they query the
other datasets' tables), ``importance`` (DeepCAVE fANOVA/LPI). ``io`` holds run lists, chunk
manifests and atomic writes, ``cli`` the subcommands.
"""
