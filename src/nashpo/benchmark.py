"""NB201 as a tabular benchmark: look up metrics, never train.

Only prepared parquet tables are read here (see ``nashpo.data``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from nashpo.data.prepare import default_data_dir, prepare
from nashpo.data.sources import check_dataset
from nashpo.data.tables import FULL_EPOCHS, BenchTable, table_path
from nashpo.errors import InputError
from nashpo.space import N_ARCHS, IndexMap, arch_str, build_configspace, config_to_code, parse_arch_str

if TYPE_CHECKING:  # pandas and ConfigSpace are imported only where needed (fast cold start)
    import pandas as pd
    from ConfigSpace import Configuration, ConfigurationSpace

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
