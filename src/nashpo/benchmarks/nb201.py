"""NAS-Bench-201 as a family: a thin wrapper over ``nashpo.benchmark`` and ``nashpo.space``.

Queries go straight to ``NB201Benchmark`` (same code path, same speed); the task is the dataset,
the code is the arch code, and the fidelity is the number of epochs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nashpo.benchmarks.base import Metric, Param, Value, check_in, find_metric
from nashpo.benchmarks.grid import oracle_frame
from nashpo.space import EDGE_NAMES, N_ARCHS, OPS, build_configspace, code_to_dict, config_to_code, parse_arch_str

if TYPE_CHECKING:
    import pandas as pd
    from ConfigSpace import Configuration, ConfigurationSpace

    from nashpo.benchmark import NB201Benchmark

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")  # = nashpo.data.sources.DATASETS (tested)


class NB201Family:
    name = "nb201"
    title = "NAS-Bench-201"
    tasks = DATASETS
    params = tuple(Param(e, OPS, "categorical") for e in EDGE_NAMES)
    metrics = (
        Metric("valid_acc", "maximize", "%", "validation accuracy at the fidelity"),
        Metric("test_acc", "maximize", "%", "test accuracy at the fidelity (mirror only)"),
        Metric("train_acc", "maximize", "%", "train accuracy at the fidelity (NASLib curves only)"),
        Metric("cost", "minimize", "s", "simulated training seconds to reach the fidelity"),
        Metric("params_mb", "minimize", "MB", "parameters"),
        Metric("latency_s", "minimize", "s", "NB201's own latency field"),
    )
    objective = "valid_acc"
    time_metric = "cost"
    fidelities: tuple[int, ...] | None = (12, 200)  # epochs; NASLib curves add every epoch 1..200
    n_seeds = 3
    n_configs = N_ARCHS

    def check_task(self, task: str) -> str:
        return check_in("task", task, self.tasks)

    def metric(self, name: str) -> Metric:
        return find_metric(self.metrics, name)

    def configspace(self, seed: int | None = None) -> ConfigurationSpace:
        return build_configspace(seed)

    def encode(self, config: Configuration | Mapping[str, Any] | str) -> int:
        """A Configuration, a mapping edge -> op, or an arch string, to the arch code."""
        return parse_arch_str(config) if isinstance(config, str) else config_to_code(config)

    def decode(self, code: int) -> dict[str, Value]:
        return dict(code_to_dict(code))

    def prepare(self, tasks: Sequence[str] | None = None, data_dir: str | Path | None = None, log: Any = None) -> list[Path]:
        import sys

        from nashpo.data.prepare import prepare

        datasets = [self.check_task(t) for t in tasks] if tasks else list(self.tasks)
        return prepare(Path(data_dir) if data_dir else None, datasets, log=sys.stderr if log is None else log)

    def open(self, task: str, data_dir: str | Path | None = None, auto_prepare: bool = True) -> NB201Task:
        from nashpo.benchmark import NB201Benchmark

        return NB201Task(NB201Benchmark(self.check_task(task), data_dir, auto_prepare=auto_prepare))


class NB201Task:
    """One NB201 dataset behind the family interface; queries are NB201Benchmark's own methods."""

    family = "nb201"

    def __init__(self, bench: NB201Benchmark) -> None:
        self.bench = bench
        self.task = bench.dataset
        self.n_configs = N_ARCHS
        self.fidelities: list[int] | None = list(bench.fidelities)
        # bound methods, not wrappers: the family path costs nothing over NB201Benchmark
        self.query_code = bench.query_code
        self.query_many = bench.query_many

    @property
    def provenance(self) -> dict[str, Any]:
        return self.bench.provenance

    def query(self, config: Configuration | Mapping[str, Any] | str, rng: np.random.Generator | None = None) -> dict[str, Any]:
        return self.bench.query(config, None, rng)

    def oracle(self) -> pd.DataFrame:
        """Per fidelity, best and worst of every metric the table has there."""
        import pandas as pd

        frames = [
            oracle_frame(
                self.family, self.task, e, NB201Family.metrics, self.bench.query_many(np.arange(N_ARCHS), e), code_to_dict, "valid_acc"
            )
            for e in self.bench.fidelities
        ]
        return pd.concat(frames, ignore_index=True)
