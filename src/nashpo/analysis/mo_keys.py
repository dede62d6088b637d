"""Keys and headline metric of the multi-objective analysis, shared by its tables (``mo``) and figures (``mo_figures``)."""

from __future__ import annotations

TASK_KEY = ["benchmark", "task", "objectives"]
RUN_KEY = [*TASK_KEY, "optimizer", "seed"]
METRIC = "hv_regret_final"
EAF_PERCENTILE = 50
