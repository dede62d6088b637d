"""Figure helpers: palette, CD cliques and diagrams, notes instead of failures, no partial output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nashpo.analysis import figures, stats
from nashpo.errors import DataError

OPTIMIZERS = ["rs", "re", "smac", "smac_hb", "dehb", "tpe"]


def test_palette_is_fixed_with_deterministic_fallback() -> None:
    pal = figures.colours(["tpe", "rs", "zeta", "alpha"])
    assert pal["rs"] == figures.PALETTE["rs"] and pal["tpe"] == figures.PALETTE["tpe"]
    assert pal["alpha"] == figures.FALLBACK[0] and pal["zeta"] == figures.FALLBACK[1]
    assert len(set(figures.PALETTE.values()) | set(figures.FALLBACK)) == len(figures.PALETTE) + len(figures.FALLBACK)
    assert figures.optimizer_order(["zeta", "tpe", "rs", "alpha"]) == ["rs", "tpe", "alpha", "zeta"]
    assert figures.dataset_order(["ImageNet16-120", "cifar10"]) == ["cifar10", "ImageNet16-120"]


def test_cliques_join_optimizers_no_test_separates() -> None:
    ranks = pd.Series({"a": 1.0, "b": 1.5, "c": 2.5, "d": 4.0})
    p = pd.DataFrame(1.0, index=ranks.index, columns=ranks.index)
    for x, y in (("a", "c"), ("a", "d"), ("b", "d")):
        p.loc[x, y] = p.loc[y, x] = 0.01  # significant
    assert figures.cliques(ranks, p, 0.05) == [(1.0, 1.5), (1.5, 2.5), (2.5, 4.0)]
    assert figures.cliques(ranks, pd.DataFrame(1.0, index=ranks.index, columns=ranks.index), 0.05) == [(1.0, 4.0)]


def six_optimizer_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Friedman/Nemenyi tables from hand-made regrets of six optimizers on six tasks."""
    base = {"rs": 3.0, "re": 1.0, "smac": 1.2, "smac_hb": 1.6, "dehb": 1.1, "tpe": 2.0}
    rows = [
        {"protocol": "proxy", "dataset": f"task{t}", "optimizer": o, "seed": 0, "test_regret": v + 0.3 * ((t * (i + 1)) % 4)}
        for t in range(6)
        for i, (o, v) in enumerate(base.items())
    ]
    return stats.friedman_nemenyi(pd.DataFrame(rows))


def test_cd_diagram_six_optimizers(tmp_path: Path) -> None:
    friedman, nemenyi = six_optimizer_tables()
    figures.cd_diagram(friedman, nemenyi, tmp_path)
    assert (tmp_path / "cd_diagram.png").stat().st_size > 5_000 and (tmp_path / "cd_diagram.pdf").stat().st_size > 1_000
    caption = (tmp_path / "cd_diagram.rst").read_text()
    assert f"{friedman['statistic'].iloc[0]:.2f}" in caption and "Nemenyi" in caption and "6 tasks" in caption


def test_cd_diagram_note_when_not_tested(tmp_path: Path) -> None:
    finals = pd.DataFrame({"protocol": "proxy", "dataset": "cifar10", "optimizer": ["rs", "re"], "seed": 0, "test_regret": [2.0, 1.0]})
    friedman, nemenyi = stats.friedman_nemenyi(finals)
    figures.cd_diagram(friedman, nemenyi, tmp_path)
    caption = (tmp_path / "cd_diagram.rst").read_text()
    assert "not drawn" in caption and "re 1.00, rs 2.00" in caption
    assert (tmp_path / "cd_diagram.png").stat().st_size > 1_000


def test_empty_importance_gives_a_note_figure(tmp_path: Path) -> None:
    figures.edge_importance(pd.DataFrame(), tmp_path)
    assert "no dataset had enough trials" in (tmp_path / "edge_importance.rst").read_text()
    assert (tmp_path / "edge_importance.png").stat().st_size > 1_000


def test_missing_inputs_leave_no_partial_output(tmp_path: Path) -> None:
    out = tmp_path / "figures"
    with pytest.raises(DataError, match="curves_time.parquet"):
        figures.make_figures(tmp_path, tmp_path, tmp_path, tmp_path, out, log=open("/dev/null", "w"))
    assert list(out.iterdir()) == []


def test_final_regret_jitter_is_seeded_and_leaves_numpy_alone(tmp_path: Path) -> None:
    finals = pd.DataFrame(
        {
            "protocol": "proxy",
            "dataset": "cifar10",
            "optimizer": ["rs"] * 5 + ["re"] * 5,
            "seed": list(range(5)) * 2,
            "test_regret": [3.1, 2.4, 4.0, 2.9, 3.3, 1.2, 0.8, 1.9, 1.1, 0.5],
        }
    )
    files = []
    for i, global_seed in enumerate((1, 2)):
        out = tmp_path / str(i)
        out.mkdir()
        np.random.seed(global_seed)  # a different global RNG state before each render
        figures.final_regret(finals, out)
        files.append({ext: (out / f"final_regret.{ext}").read_bytes() for ext in ("png", "pdf")})
    assert files[0] == files[1]
    assert b"CreationDate" not in files[0]["pdf"]
    np.random.seed(7)
    expected = np.random.random_sample()
    np.random.seed(7)
    with figures.seeded_numpy(figures.JITTER_SEED):
        np.random.random_sample()
    assert np.random.random_sample() == expected  # the caller's global RNG state is restored
