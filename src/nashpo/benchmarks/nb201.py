"""NAS-Bench-201 as a family: ``NB201Benchmark`` (look up metrics, never train), the family
interface over it, its objectives and the runner's view of an NB201 search.

Only prepared parquet tables are read here (see ``nashpo.data``). Family queries go straight to
``NB201Benchmark`` (same code path, same speed); the task is the dataset, the code is the arch
code, and the fidelity is the number of epochs.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from nashpo.benchmarks.base import Metric, Objective, Param, Value, check_in, find_metric
from nashpo.benchmarks.grid import oracle_frame
from nashpo.data.prepare import default_data_dir, prepare
from nashpo.data.sources import check_dataset
from nashpo.data.tables import FULL_EPOCHS, BenchTable, table_path
from nashpo.errors import InputError
from nashpo.space import (
    EDGE_NAMES,
    N_ARCHS,
    OPS,
    IndexMap,
    arch_str,
    build_configspace,
    code_to_dict,
    code_to_ops,
    config_to_code,
    parse_arch_str,
)

if TYPE_CHECKING:  # pandas, pyarrow and ConfigSpace are imported only where needed (fast cold start)
    import pandas as pd
    import pyarrow as pa
    from ConfigSpace import Configuration, ConfigurationSpace

    from nashpo.triallog import TrialLog

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")  # = nashpo.data.sources.DATASETS (tested)
PROTOCOLS = {
    "proxy": 12,  # NB201 paper: search on the 12-epoch schedule, report 200-epoch test
    "full": FULL_EPOCHS,  # search on 200-epoch validation
}
# HELP (Lee et al. 2021) latency tables of the NB201 space, one per device setting (the mirror's help-latency/).
HELP_DEVICES = (
    "1080ti_1", "1080ti_32", "1080ti_256", "2080ti_1", "2080ti_32", "2080ti_256",
    "titanx_1", "titanx_32", "titanx_256", "titanxp_1", "titanxp_32", "titanxp_256",
    "titan_rtx_1", "titan_rtx_32", "titan_rtx_256",
    "gold_6226", "gold_6240", "silver_4114", "silver_4210r",
    "pixel2", "pixel3", "essential_ph_1", "samsung_a50", "samsung_s7",
    "raspi4", "eyeriss", "fpga",
)  # fmt: skip

PER_FIDELITY = ("valid_acc", "test_acc", "train_acc", "cost")
STATIC = ("params_mb", "latency_s")

Arch: TypeAlias = "str | Configuration | Mapping[str, Any]"


class NB201Benchmark:
    """Query NB201 on one dataset by arch string, NB201 index, or ConfigSpace config."""

    family = "nb201"

    def __init__(self, dataset: str, data_dir: str | Path | None = None, auto_prepare: bool = True) -> None:
        self.dataset = check_dataset(dataset)
        path = table_path(Path(data_dir or default_data_dir()), dataset)
        if not path.is_file() and auto_prepare:
            print(f"nashpo: {path} not prepared yet; preparing it now", file=sys.stderr)
            prepare(path.parent, [dataset])
        self.table = BenchTable.load(path, self.dataset)
        self.fidelities: list[int] = list(self.table.fidelities)
        self.max_fidelity = max(self.fidelities)
        self.min_fidelity = min(self.fidelities)
        cols = self.table.columns
        self._index_map = IndexMap(np.argsort(cols["nb201_index"])) if "nb201_index" in cols else None
        self.devices = sorted(c.split(":", 1)[1] for c in cols if c.startswith("latency_ms:"))
        self._rows: dict[int, list[dict[str, float]]] = {}

    # ------------------------------------------------------------ identity
    @property
    def provenance(self) -> dict[str, Any]:
        return self.table.meta["provenance"]

    @property
    def has_index(self) -> bool:
        return self._index_map is not None

    def space(self, seed: int | None = None) -> ConfigurationSpace:
        return build_configspace(seed)

    def code_of(self, arch: Arch) -> int:
        if isinstance(arch, str):
            return parse_arch_str(arch)
        if isinstance(arch, Mapping):  # Configuration is a Mapping too
            return config_to_code(arch)
        raise InputError("arch", arch, "must be an arch string, a Configuration or a dict")

    def code_of_index(self, index: int) -> int:
        if self._index_map is None:
            raise InputError("index", index, "NB201 indices need the mirror's index map; run `nashpo data prepare --mirror PATH`")
        return self._index_map.code(index)

    def index_of(self, code: int) -> int | None:
        return None if self._index_map is None else self._index_map.index(code)

    def check_fidelity(self, epochs: int | None) -> int:
        if epochs is None:
            return self.max_fidelity
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or int(epochs) not in self.fidelities:
            raise InputError("epochs", epochs, f"unavailable for {self.dataset}; the data has {self.fidelities}")
        return int(epochs)

    def metrics_at(self, epochs: int) -> list[str]:
        e = self.check_fidelity(epochs)
        return [m for m in PER_FIDELITY if f"{m}@{e}" in self.table.columns] + [m for m in STATIC if m in self.table.columns]

    # ------------------------------------------------------------ queries
    def _rows_at(self, e: int) -> list[dict[str, float]]:
        rows = self._rows.get(e)
        if rows is None:
            cols = self.table.columns
            names = self.metrics_at(e)
            arrays = [cols[f"{m}@{e}"] if m in PER_FIDELITY else cols[m] for m in names]
            rows = [dict(zip(names, vals, strict=True)) for vals in zip(*(a.tolist() for a in arrays), strict=True)]
            self._rows[e] = rows
        return rows

    def query_code(self, code: int, epochs: int | None = None, rng: np.random.Generator | None = None) -> dict[str, float]:
        """Metrics of one architecture at a fidelity: the seed mean, or one seed drawn from ``rng``."""
        e = self.max_fidelity if epochs is None else self.check_fidelity(epochs)
        if not 0 <= code < N_ARCHS:
            raise InputError("arch_code", code, f"must be in 0..{N_ARCHS - 1}")
        out = dict(self._rows_at(e)[code])
        if rng is not None:
            seeds = self.table.columns.get(f"valid_acc@{e}#seeds")
            if seeds is not None:
                vals = seeds[code][~np.isnan(seeds[code])]
                pick = int(rng.integers(len(vals)))
                out["valid_acc"] = float(vals[pick])
                out["seed"] = pick
        return out

    def query(self, arch: Arch, epochs: int | None = None, rng: np.random.Generator | None = None, devices: bool = False) -> dict[str, Any]:
        code = self.code_of(arch)
        return self._describe(code, epochs, rng, devices)

    def query_index(
        self, index: int, epochs: int | None = None, rng: np.random.Generator | None = None, devices: bool = False
    ) -> dict[str, Any]:
        return self._describe(self.code_of_index(index), epochs, rng, devices)

    def _describe(self, code: int, epochs: int | None, rng: np.random.Generator | None, devices: bool) -> dict[str, Any]:
        e = self.check_fidelity(epochs)
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "arch": arch_str(code),
            "arch_code": code,
            "nb201_index": self.index_of(code),
            "epochs": e,
        }
        out.update(self.query_code(code, e, rng))
        if devices:
            out["latency_ms"] = {d: float(self.table.columns[f"latency_ms:{d}"][code]) for d in self.devices}
        return out

    def query_many(self, codes: np.ndarray, epochs: int | None = None) -> dict[str, np.ndarray]:
        """Vectorised seed-mean metrics for many arch codes."""
        e = self.check_fidelity(epochs)
        codes = np.asarray(codes, dtype=np.int64)
        if codes.size and (codes.min() < 0 or codes.max() >= N_ARCHS):
            bad = codes[(codes < 0) | (codes >= N_ARCHS)][0]
            raise InputError("arch_code", int(bad), f"must be in 0..{N_ARCHS - 1}")
        cols = self.table.columns
        return {m: (cols[f"{m}@{e}"] if m in PER_FIDELITY else cols[m])[codes] for m in self.metrics_at(e)}

    def final_test_acc(self, code: int) -> float:
        """The quantity papers report: test accuracy after the full 200-epoch schedule."""
        col = self.table.columns.get(f"test_acc@{FULL_EPOCHS}")
        return float("nan") if col is None else float(col[code])

    # ------------------------------------------------------------ oracle
    def oracle(self) -> pd.DataFrame:
        """Best validation and test accuracy per fidelity, computed from the data."""
        import pandas as pd

        rows = []
        cols = self.table.columns
        for e in self.fidelities:
            val = cols[f"valid_acc@{e}"]
            best = int(np.nanargmax(val))
            test = cols.get(f"test_acc@{e}")
            rows.append(
                {
                    "dataset": self.dataset,
                    "epochs": e,
                    "best_valid_acc": float(val[best]),
                    "best_valid_arch": arch_str(best),
                    "test_acc_of_best_valid": float(test[best]) if test is not None else float("nan"),
                    "best_test_acc": float(np.nanmax(test)) if test is not None else float("nan"),
                    "min_cost": float(np.min(cols[f"cost@{e}"])),
                    "max_cost": float(np.max(cols[f"cost@{e}"])),
                }
            )
        return pd.DataFrame(rows)


def nb201_objective(spec: str) -> Objective | None:
    """An NB201 objective spec: ``valid_error``, ``latency``, ``params`` or ``latency:<HELP device>``."""
    if spec == "valid_error":
        return Objective(spec, "valid_error", "valid_acc", "%", "validation error (%)", 100.0, -1.0, True)
    if spec == "latency":
        return Objective(spec, "latency", "latency_s", "ms", "latency (ms, NB201)", 0.0, 1000.0)
    if spec == "params":
        return Objective(spec, "params", "params_mb", "MB", "parameters (MB)")
    if spec.startswith("latency:") and spec.split(":", 1)[1] in HELP_DEVICES:
        device = spec.split(":", 1)[1]
        return Objective(spec, f"latency_{device}", f"latency_ms:{device}", "ms", f"latency on {device} (ms)")
    return None


def search_fidelities(bench: NB201Benchmark, protocol: str, multi_fidelity: bool, fidelities: list[int] | None) -> list[int]:
    """Fidelities the optimizer may query.

    Single-fidelity optimizers get the protocol's search fidelity. Multi-fidelity ones get
    every fidelity the data has (or the configured subset), up to 200 epochs.
    """
    if protocol not in PROTOCOLS:
        raise InputError("protocol", protocol, f"unknown; choose from {', '.join(PROTOCOLS)}")
    target = PROTOCOLS[protocol]
    if target not in bench.fidelities:
        raise InputError(
            "protocol",
            protocol,
            f"needs fidelity {target} epochs, but the {bench.dataset} data has {bench.fidelities} (prepare the data with the NB201 mirror)",
        )
    if not multi_fidelity:
        if fidelities:
            raise InputError("fidelities", fidelities, "only multi-fidelity optimizers take fidelities")
        return [target]
    chosen = sorted(set(fidelities)) if fidelities else list(bench.fidelities)
    for f in chosen:
        bench.check_fidelity(f)
    if len(chosen) < 2:
        raise InputError("fidelities", chosen, "a multi-fidelity optimizer needs at least two fidelities")
    return chosen


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
        datasets = [self.check_task(t) for t in tasks] if tasks else list(self.tasks)
        return prepare(Path(data_dir) if data_dir else None, datasets, log=sys.stderr if log is None else log)

    def open(self, task: str, data_dir: str | Path | None = None, auto_prepare: bool = True) -> NB201Task:
        return NB201Task(NB201Benchmark(self.check_task(task), data_dir, auto_prepare=auto_prepare))

    # ------------------------------------------------------------ searches and objectives
    error_objective = "valid_error"
    default_fidelity: int | None = PROTOCOLS["proxy"]  # fronts and objective values: the proxy protocol's search fidelity

    def load(self, task: Any, data_dir: str | Path | None = None, opened: Any = None) -> NB201Benchmark:
        """The NB201Benchmark a search and the objectives read (an NB201Task is unwrapped)."""
        if not isinstance(task, str):
            return getattr(task, "bench", task)
        opened = getattr(opened, "bench", opened)
        if opened is not None and getattr(opened, "dataset", None) == task:
            return opened
        return NB201Benchmark(task, data_dir)

    def view(
        self,
        task: str,
        optimizer: str,
        seed: int,
        protocol: str | None,
        fidelities: list[int] | None,
        multi_fidelity: bool,
        data_dir: str | Path | None = None,
        opened: Any = None,
    ) -> NB201View:
        """The search's NB201 view: protocol ``proxy`` (default) or ``full``, and the fidelities."""
        protocol = "proxy" if protocol is None else protocol
        bench = self.load(task, data_dir, opened)
        fids = search_fidelities(bench, protocol, multi_fidelity, fidelities)
        return NB201View(bench, optimizer, seed, protocol, fids)

    def objective_specs(self) -> list[str]:
        return ["valid_error", "latency", "params", *(f"latency:{d}" for d in HELP_DEVICES)]

    def find_objective(self, spec: str) -> Objective | None:
        return nb201_objective(spec)

    def objective_values(self, table: Any, objective: Objective, fidelity: int | None) -> np.ndarray:
        bench = self.load(table)
        name = f"{objective.metric}@{bench.check_fidelity(fidelity)}" if objective.per_fidelity else objective.metric
        values = bench.table.columns.get(name)
        if values is None:
            raise InputError(
                "objectives",
                objective.spec,
                f"needs {name}, which the {bench.dataset} table lacks (prepare the data with the NB201 mirror)",
            )
        return values


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


class NB201View:
    """NB201: the cell space, fidelities in epochs, incumbent = best validation accuracy at the
    highest fidelity seen so far, with its 200-epoch validation and test accuracy."""

    family = "nb201"

    def __init__(self, bench: NB201Benchmark, optimizer: str, seed: int, protocol: str, fids: list[int]) -> None:
        self.bench = self.table = bench
        self.task = bench.dataset
        self.optimizer, self.protocol, self.fids = optimizer, protocol, fids
        self.label = f"{optimizer} {self.task} seed {seed}"
        self.reference_fidelity = max(fids)  # multi-objective runs: the fidelity whose trials form the front
        self.final_fidelity: int | None = FULL_EPOCHS
        self.base = {"optimizer": optimizer, "dataset": self.task, "seed": seed, "protocol": protocol, "status": "SUCCESS"}
        cols = bench.table.columns
        self.v200, self.t200 = cols[f"valid_acc@{FULL_EPOCHS}"], cols.get(f"test_acc@{FULL_EPOCHS}")
        self.inc: dict[str, Any] = {"trial": -1, "code": -1, "epochs": -1, "valid": -math.inf, "v200": math.nan, "t200": math.nan}
        self.seed_noise_fidelities: list[int] | None = None  # noise=seed: the fidelities a training seed is drawn at

    def schema(self) -> pa.Schema:
        from nashpo.triallog import SCHEMA  # the trial log's module imports pandas: searches only

        return SCHEMA

    def space(self, seed: int) -> Any:
        return self.bench.space(seed)

    def encode(self, config: Any) -> int:
        return config_to_code(config)

    def query(self, code: int, epochs: int, rng: np.random.Generator | None) -> tuple[dict[str, float], float]:
        if epochs not in self.fids:
            raise InputError("epochs", epochs, f"{self.optimizer} asked for a fidelity outside {self.fids}")
        res = self.bench.query_code(code, epochs, rng)
        return res, res["cost"]

    def objective(self, res: dict[str, float]) -> float:
        return 100.0 - res["valid_acc"]

    def check_noise(self, noise: str) -> None:
        """``noise: seed`` needs per-seed values at a search fidelity; the prepared tables hold them at
        200 epochs only (``nashpo.data.tables``), so a search that sees no 200-epoch trial would be a
        seed-mean search under another name and is refused. A multi-fidelity search draws seeds where
        the data has them (``seed_noise_fidelities`` in ``run.json``)."""
        if noise != "seed":
            return
        cols = self.bench.table.columns
        drawn = [f for f in self.fids if f"valid_acc@{f}#seeds" in cols]
        if not drawn:
            raise InputError(
                "noise",
                noise,
                f"the {self.task} data holds seed means only at {'/'.join(map(str, self.fids))} epochs "
                f"(protocol {self.protocol}): one training seed per query is not in the offline data; use noise mean or protocol full",
            )
        self.seed_noise_fidelities = drawn

    def stop(self, code: int, epochs: int, res: dict[str, float], cost: float, sim: float, candidate: bool = True) -> dict[str, Any]:
        """Why the search ended before a trial that would cross the budget, and that trial as queried
        (not charged, not logged; ``nashpo.analysis.nb201_table``'s ``paper`` incumbent rule reads it)."""
        return {
            "reason": "next trial would cross max_sim_seconds",
            "epochs": epochs,
            "cost": cost,
            "would_end_at": sim + cost,
            "arch_code": code,
            "valid_acc": res["valid_acc"],
            "bench_seed": res.get("seed", -1),
            "incumbent_candidate": candidate,
        }

    def row(self, n: int, code: int, epochs: int, res: dict[str, float], candidate: bool = True) -> dict[str, Any]:
        """The trial's columns (apart from the clock's); updates the incumbent first (a trial that is
        not a ``candidate`` leaves it as it is)."""
        inc = self.inc
        if candidate and (epochs > inc["epochs"] or (epochs == inc["epochs"] and res["valid_acc"] > inc["valid"])):
            inc.update(trial=n, code=code, epochs=epochs, valid=res["valid_acc"], v200=float(self.v200[code]))
            inc["t200"] = float(self.t200[code]) if self.t200 is not None else math.nan
        row = dict(self.base, trial=n, arch_str=None, arch_code=code, nb201_index=self.bench.index_of(code), epochs=epochs)
        row.update(bench_seed=res.get("seed", -1), objective=100.0 - res["valid_acc"], valid_acc=res["valid_acc"], cost=res["cost"])
        row.update(inc_trial=inc["trial"], inc_arch_code=inc["code"], inc_epochs=inc["epochs"], inc_valid_acc=inc["valid"])
        row.update(inc_valid_acc_200=inc["v200"], inc_test_acc_200=inc["t200"])
        for name, op in zip(EDGE_NAMES, code_to_ops(code), strict=True):
            row[name] = OPS[op]
        return row

    def status(self) -> str:
        return f"incumbent valid {self.inc['valid']:6.2f}%  test@200 {self.inc['t200']:6.2f}%"

    def check_budget(self, budget: Any, max_evaluations: int) -> None:
        if budget.max_evals is not None or budget.max_sim_seconds is None:
            return
        most = max(float(np.max(self.bench.table.columns[f"cost@{f}"])) for f in self.fids)
        if budget.max_sim_seconds > max_evaluations * most:
            raise InputError(
                "max_sim_seconds",
                budget.max_sim_seconds,
                f"needs more than the safety cap of {max_evaluations} evaluations ({most:.0f} s each at most); lower it or set max_evals",
            )

    def finish(self, log: TrialLog) -> None:
        log.columns["arch_str"] = [arch_str(c) for c in log.columns["arch_code"]]

    def describe(self, code: int) -> dict[str, Any]:
        return {"code": code, "arch_str": arch_str(code)}

    def record(self) -> dict[str, Any]:
        from nashpo.triallog import OBJECTIVES

        inc = self.inc
        return {
            "fidelities": self.fids,
            "benchmark": {
                "family": self.family,
                "dataset": self.task,
                "table": str(self.bench.table.path),
                "provenance": self.bench.provenance,
            },
            "dataset": self.task,
            "protocol": self.protocol,
            "search_fidelity": PROTOCOLS[self.protocol],
            "objectives": OBJECTIVES,
            "incumbent": {
                "trial": inc["trial"],
                "arch_code": inc["code"],
                "arch_str": arch_str(inc["code"]) if inc["code"] >= 0 else None,
                "epochs": inc["epochs"],
                "valid_acc": inc["valid"],
                "valid_acc_200": inc["v200"],
                "test_acc_200": inc["t200"],
            },
            "oracle": self.oracle(),
        } | ({} if self.seed_noise_fidelities is None else {"seed_noise_fidelities": self.seed_noise_fidelities})

    def oracle(self) -> dict[str, Any]:
        """Best 200-epoch validation and test accuracy over all architectures (seed means), for the
        analysis' regret: the incumbent's 200-epoch accuracy is measured against these."""
        best = int(np.nanargmax(self.v200))
        test = self.t200
        return {
            "epochs": FULL_EPOCHS,
            "best_valid_acc": float(self.v200[best]),
            "best_valid_arch": arch_str(best),
            "best_test_acc": float(np.nanmax(test)) if test is not None else math.nan,
            "test_acc_of_best_valid": float(test[best]) if test is not None else math.nan,
        }

    def bounds(self, objective: Objective) -> tuple[float, float]:
        """Bounds of a multi-objective run's objective for DeepCAVE."""
        if objective.per_fidelity:
            return 0.0, 100.0  # validation error in %
        values = objective.value(self.bench.table.columns[objective.metric])
        return float(np.min(values)), float(np.max(values))
