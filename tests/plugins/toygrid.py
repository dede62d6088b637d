"""TEST FIXTURE, not a benchmark: a 24-configuration grid family whose values come from a formula.

The workflow test copies this file into a checkout as ``src/nashpo/benchmarks/toygrid.py`` and adds
one line to ``FAMILIES`` (a new family is one file plus its registration). No number here comes
from a real benchmark; the values are made up so that the best configuration is known.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from nashpo.benchmarks.base import Metric, Objective, Param
from nashpo.benchmarks.grid import GridFamily

PROVENANCE = {"source": "nashpo test fixture (made-up values, not a benchmark)", "formula": "toygrid.ToyGridFamily.read_values"}


class ToyGridFamily(GridFamily):
    name = "toygrid"
    title = "Toy grid (test fixture)"
    tasks = ("bowl", "ridge")
    params = (
        Param("width", (4, 8, 16, 32), "ordinal"),
        Param("depth", (1, 2, 3), "ordinal"),
        Param("activation", ("relu", "tanh"), "categorical"),
    )
    metrics = (
        Metric("val_error", "minimize", "%", "validation error (made up)"),
        Metric("train_time", "minimize", "s", "training time (made up)"),
        Metric("size", "minimize", "weights", "weights (made up)"),
    )
    objective = "val_error"
    time_metric = "train_time"
    n_seeds = 2
    error_objective = "valid_error"
    objectives: ClassVar[dict[str, Objective]] = {
        "valid_error": Objective("valid_error", "valid_error", "val_error", "%", "validation error (%)"),
        "size": Objective("size", "size", "size", "weights", "size (weights)"),
    }

    def read_values(self, task: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """bowl: best at width 16, depth 2, relu (error 10.0); ridge: best at width 32, depth 3, tanh."""
        task = self.check_task(task)
        values = {m.name: np.empty((self.n_configs, self.n_seeds)) for m in self.metrics}
        for code in range(self.n_configs):
            c = self.decode(code)
            w, d, tanh = math.log2(int(c["width"])), int(c["depth"]), c["activation"] == "tanh"
            if task == "bowl":
                error = 10.0 + 2.0 * (w - 4) ** 2 + 3.0 * (d - 2) ** 2 + 1.5 * tanh
            else:
                error = 30.0 - 3.0 * w - 2.0 * d - 1.0 * tanh
            for s in range(self.n_seeds):
                values["val_error"][code, s] = error + 0.25 * s
                values["train_time"][code, s] = 40.0 * d + 5.0 * w + 2.0 * s
                values["size"][code, s] = float(int(c["width"]) ** 2 * d)
        return values, dict(PROVENANCE, task=task)
