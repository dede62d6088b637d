"""Statistics on hand-made final regrets: Wilcoxon/Holm against direct scipy, ranks, Friedman, Nemenyi, CD."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs as sp
from scipy import stats as st

from nashpo.analysis import stats
from nashpo.analysis.io import write_tables
from nashpo.errors import DataError

# Final test regrets (pp) per optimizer over seeds 0..7 on one task; hand-made.
REGRETS = {
    "rs": [3.1, 2.4, 4.0, 3.3, 2.9, 3.8, 2.2, 3.5],
    "re": [1.0, 1.9, 0.7, 1.4, 2.6, 0.9, 1.2, 1.1],
    "smac_hb": [1.2, 1.7, 0.9, 1.3, 2.5, 1.4, 0.8, 1.0],
}


def finals_frame(
    regrets: dict[str, list[float]], dataset: str = "cifar10", protocol: str = "proxy", seeds: dict | None = None
) -> pd.DataFrame:
    rows = []
    for o, vals in regrets.items():
        for s, v in zip((seeds or {}).get(o, range(len(vals))), vals, strict=True):
            rows.append({"protocol": protocol, "dataset": dataset, "optimizer": o, "seed": s, "test_regret": v})
    return pd.DataFrame(rows)


def holm(p: list[float]) -> list[float]:
    """Holm step-down adjusted p-values, written out by hand."""
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        adj[j] = running
    return adj.tolist()


def test_wilcoxon_and_holm_match_direct_computation() -> None:
    table = stats.pairwise_wilcoxon(finals_frame(REGRETS))
    assert len(table) == 3
    pairs = list(itertools.combinations(sorted(REGRETS), 2))
    assert list(zip(table["optimizer_a"], table["optimizer_b"], strict=True)) == pairs
    direct = [st.wilcoxon(REGRETS[a], REGRETS[b]) for a, b in pairs]
    np.testing.assert_allclose(table["statistic"], [r.statistic for r in direct])
    np.testing.assert_allclose(table["p_value"], [r.pvalue for r in direct])
    np.testing.assert_allclose(table["p_adjusted"], holm([r.pvalue for r in direct]))
    assert table["significant"].tolist() == [p < 0.05 for p in holm([r.pvalue for r in direct])]
    # re vs rs: re lower on all 8 seeds -> exact p = 2/2^8, rank-biserial 1
    row = table[(table["optimizer_a"] == "re") & (table["optimizer_b"] == "rs")].iloc[0]
    assert row["p_value"] == pytest.approx(2 / 2**8) and row["effect_size"] == 1.0 and row["lower_regret"] == "re"
    assert (table["test"] == stats.WILCOXON).all() and table["correction"].str.startswith("Holm").all()
    assert (table["note"] == "").all()


def test_rank_biserial_by_hand() -> None:
    # d = b - a = [1, -2, 3]: ranks of |d| 1, 2, 3; R+ = 4, R- = 2 -> r = (4 - 2) / 6
    assert stats.rank_biserial(np.array([0.0, 2.0, 0.0]), np.array([1.0, 0.0, 3.0])) == pytest.approx(1 / 3)
    # ties in |d| get average ranks; zeros are dropped: d = [2, -2, 0, 1] -> ranks 2.5, 2.5, -, 1
    assert stats.rank_biserial(np.zeros(4), np.array([2.0, -2.0, 0.0, 1.0])) == pytest.approx((2.5 + 1 - 2.5) / 6)
    assert stats.rank_biserial(np.ones(3), np.ones(3)) == 0.0


def test_unmatched_seeds_test_only_common_ones_and_say_so() -> None:
    regrets = {"rs": REGRETS["rs"], "re": REGRETS["re"][:6]}
    table = stats.pairwise_wilcoxon(finals_frame(regrets, seeds={"re": [0, 1, 2, 3, 4, 9]}))
    row = table.iloc[0]
    assert row["n_pairs"] == 5
    assert "seeds differ" in row["note"] and "[5, 6, 7]" in row["note"] and "[9]" in row["note"]
    common = [0, 1, 2, 3, 4]
    assert row["p_value"] == pytest.approx(st.wilcoxon(REGRETS["re"][:5], [REGRETS["rs"][s] for s in common]).pvalue)


def test_untestable_pairs_are_left_out_of_the_correction() -> None:
    regrets = dict(REGRETS, tpe=list(REGRETS["re"]))  # tpe == re on every seed
    table = stats.pairwise_wilcoxon(finals_frame(regrets))
    same = table[(table["optimizer_a"] == "re") & (table["optimizer_b"] == "tpe")].iloc[0]
    assert np.isnan(same["p_value"]) and np.isnan(same["p_adjusted"]) and not same["significant"]
    assert "all paired differences are zero" in same["note"]
    tested = table.dropna(subset=["p_value"])
    assert len(tested) == 5 and (table["correction"] == "Holm (5 tests in the task)").all()
    np.testing.assert_allclose(tested["p_adjusted"], holm(tested["p_value"].tolist()))


def test_holm_is_per_task() -> None:
    two = pd.concat([finals_frame(REGRETS, "cifar10"), finals_frame({k: v[::-1] for k, v in REGRETS.items()}, "cifar100")])
    table = stats.pairwise_wilcoxon(two)
    for _, g in table.groupby("dataset"):
        np.testing.assert_allclose(g["p_adjusted"], holm(g["p_value"].tolist()))


# Mean final regret: tasks (rows) x optimizers (columns); task t3 has a tie between a and b.
MATRIX = pd.DataFrame(
    {"a": [1.0, 2.0, 3.0, 1.0, 0.5], "b": [2.0, 1.0, 3.0, 2.0, 1.5], "c": [3.0, 3.0, 4.0, 3.0, 2.5], "d": [4.0, 5.0, 1.0, 4.0, 3.5]},
    index=["t1", "t2", "t3", "t4", "t5"],
)
# Ranks by hand (1 = lowest): t1 1,2,3,4; t2 2,1,3,4; t3 2.5,2.5,4,1; t4 1,2,3,4; t5 1,2,3,4
HAND_RANKS = {"a": (1 + 2 + 2.5 + 1 + 1) / 5, "b": (2 + 1 + 2.5 + 2 + 2) / 5, "c": (3 + 3 + 4 + 3 + 3) / 5, "d": (4 + 4 + 1 + 4 + 4) / 5}


def matrix_finals() -> pd.DataFrame:
    rows = [
        {"protocol": "proxy", "dataset": t, "optimizer": o, "seed": 0, "test_regret": MATRIX.loc[t, o]}
        for t in MATRIX.index
        for o in MATRIX.columns
    ]
    return pd.DataFrame(rows)


def test_friedman_nemenyi_and_cd() -> None:
    friedman, nemenyi = stats.friedman_nemenyi(matrix_finals())
    ranks = friedman.set_index("optimizer")["avg_rank"]
    for o, r in HAND_RANKS.items():
        assert ranks[o] == pytest.approx(r)
    row = friedman.iloc[0]
    direct = st.friedmanchisquare(*[MATRIX[c] for c in MATRIX.columns])
    assert row["statistic"] == pytest.approx(direct.statistic) and row["p_value"] == pytest.approx(direct.pvalue)
    assert row["n_tasks"] == 5 and row["n_optimizers"] == 4 and row["note"] == ""
    # Demšar (2006) table: q_0.05 = 2.569 for k = 4
    assert row["q_alpha"] == pytest.approx(2.569, abs=1e-3)
    assert row["critical_difference"] == pytest.approx(2.569 * np.sqrt(4 * 5 / (6 * 5)), abs=1e-3)
    pmat = sp.posthoc_nemenyi_friedman(MATRIX.to_numpy())
    pmat.index = pmat.columns = MATRIX.columns
    for r in nemenyi.itertuples():
        assert r.p_value == pytest.approx(pmat.loc[r.optimizer_a, r.optimizer_b])
        assert r.rank_diff == pytest.approx(abs(HAND_RANKS[r.optimizer_a] - HAND_RANKS[r.optimizer_b]))
        assert r.significant == (r.rank_diff > r.critical_difference)  # Nemenyi p and the CD agree
    assert len(nemenyi) == 6


@pytest.mark.parametrize(("k", "q"), [(2, 1.960), (3, 2.343), (5, 2.728), (6, 2.850)])
def test_q_alpha_matches_demsar_table(k: int, q: float) -> None:
    assert stats.q_alpha(k) == pytest.approx(q, abs=1e-3)


def test_too_few_optimizers_or_tasks_write_a_note(tmp_path: Path) -> None:
    two = finals_frame({"rs": REGRETS["rs"], "re": REGRETS["re"]})
    friedman, nemenyi = stats.friedman_nemenyi(two)
    assert friedman["statistic"].isna().all() and "need >= 3 optimizers and >= 2 tasks (have 2 and 1)" in friedman["note"].iloc[0]
    assert list(friedman["optimizer"]) == ["re", "rs"] and list(friedman["avg_rank"]) == [1.0, 2.0]
    assert len(nemenyi) == 1 and "not tested" in nemenyi["note"].iloc[0]
    written = write_tables(tmp_path, {"friedman": friedman, "nemenyi": nemenyi}, {"friedman": ("csv", "tex"), "nemenyi": ("csv",)})
    assert all(p.stat().st_size > 0 for p in written)
    three_one_task = finals_frame(REGRETS)
    assert "have 3 and 1" in stats.friedman_nemenyi(three_one_task)[0]["note"].iloc[0]


def test_optimizer_missing_on_a_task_is_dropped_with_a_note() -> None:
    finals = matrix_finals()
    finals = finals[~((finals["optimizer"] == "d") & (finals["dataset"] == "t2"))]
    friedman, _ = stats.friedman_nemenyi(finals)
    assert set(friedman["optimizer"]) == {"a", "b", "c"} and "dropped (missing on some task): d" in friedman["note"].iloc[0]


def test_ranks_over_time_with_ties_and_missing_incumbents() -> None:
    # two seeds, three optimizers, two time points; NaN = no trial yet (ranks last)
    rows = []
    values = {
        (0, 10.0): {"a": 1.0, "b": 2.0, "c": np.nan},
        (0, 20.0): {"a": 1.0, "b": 1.0, "c": 0.5},
        (1, 10.0): {"a": np.nan, "b": np.nan, "c": 3.0},
        (1, 20.0): {"a": 2.0, "b": 1.0, "c": 3.0},
    }
    base = {"protocol": "proxy", "dataset": "cifar10", "axis": "sim_time"}
    for (seed, t), per_opt in values.items():
        for o, v in per_opt.items():
            rows.append(base | {"optimizer": o, "seed": seed, "x": t, "ended": False, "test_regret": v})
    # at t=30 one run has ended: that time point is left out
    for o, seed in itertools.product("abc", (0, 1)):
        ended = (o, seed) == ("a", 0)
        rows.append(base | {"optimizer": o, "seed": seed, "x": 30.0, "ended": ended, "test_regret": np.nan if ended else 1.0})
    ranks = stats.ranks_over_time(pd.DataFrame(rows)).set_index(["sim_time", "optimizer"])["avg_rank"]
    assert sorted(ranks.index.get_level_values("sim_time").unique()) == [10.0, 20.0]
    # t=10: seed0 a1 b2 c3; seed1 c1, a and b tie for 2-3 -> 2.5
    assert ranks[(10.0, "a")] == pytest.approx((1 + 2.5) / 2)
    assert ranks[(10.0, "b")] == pytest.approx((2 + 2.5) / 2)
    assert ranks[(10.0, "c")] == pytest.approx((3 + 1) / 2)
    # t=20: seed0 c1, a and b tie 2.5; seed1 b1 a2 c3
    assert ranks[(20.0, "a")] == pytest.approx((2.5 + 2) / 2)
    assert ranks[(20.0, "b")] == pytest.approx((2.5 + 1) / 2)
    assert ranks[(20.0, "c")] == pytest.approx((1 + 3) / 2)


def test_summary_table_latex_escapes_names(tmp_path: Path) -> None:
    summary = pd.DataFrame(
        {
            "protocol": ["proxy"] * 2,
            "dataset": ["cifar10"] * 2,
            "optimizer": ["rs", "smac_hb"],
            "test_regret_mean": [3.0, 1.25],
            "test_regret_std": [0.5, 0.125],
            "n_seeds": [8, 8],
        }
    )
    friedman = pd.DataFrame({"optimizer": ["smac_hb", "rs"], "avg_rank": [1.0, 2.0]})
    table = stats.summary_table(summary, friedman)
    assert table.set_index("optimizer").loc["smac_hb", "cifar10"] == "1.25 ± 0.12 (8)"
    write_tables(tmp_path, {"summary_table": table}, {"summary_table": ("tex",)})
    tex = (tmp_path / "summary_table.tex").read_text()
    assert r"smac\_hb" in tex and r"$\pm$" in tex and "±" not in tex


def test_missing_aggregate_inputs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nashpo analysis aggregate"):
        stats.run_stats(tmp_path / "nothing", tmp_path / "out")
    assert not (tmp_path / "out").exists()
