"""The parallel group of the analysis (``analysis.parallel``): a small study of real NB201 searches at
K = 1 and K = 4 simulated workers, its speed-up table against a direct computation from the trial logs,
its bootstrap intervals, its tests per K, and the other groups left as a one-worker study has them."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nashpo.analysis import parallel
from nashpo.analysis.nb201_table import incumbents
from nashpo.analysis.parallel_figures import render
from nashpo.analysis.stats import pairwise_wilcoxon
from nashpo.analysis.study import aggregate_study, figures_study, read_parts, stats_study
from nashpo.errors import InputError
from nashpo.optimizers import REGISTRY
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace, mutate_digits
from nashpo.runner import Budget, run_search

BUDGET = 3000.0
SEEDS = (0, 1, 2, 3, 4)
WORKERS = (1, 4)
OPTIMIZERS = ("rs", "batched_rs", "async_greedy")
N_BOOT = 1000
QUIET = io.StringIO()  # the stages' progress log


class BatchedRandomSearch(Optimizer):
    """Random search that takes its trials in batches of K (the runner waits for the whole batch)."""

    name = "batched_rs"
    parallel: ClassVar[str] = "batch"

    def setup(self) -> None:
        self.space.seed(self.seed)

    def ask(self) -> TrialInfo:
        return TrialInfo(self.space.sample_configuration(), self.max_fidelity, origin="random")

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        pass


class AsyncGreedy(Optimizer):
    """Three random architectures, then a neighbour of the best result told so far, asked while others run."""

    name = "async_greedy"
    parallel: ClassVar[str] = "async"

    def setup(self) -> None:
        self.grid = FiniteSpace(self.space)
        self.rng = np.random.default_rng(self.seed)
        self.best: tuple[float, list[int]] | None = None
        self.n = 0

    def ask(self) -> TrialInfo:
        self.n += 1
        if self.best is None or self.n <= 3:
            return TrialInfo(self.grid.config(self.grid.digits(int(self.rng.integers(self.grid.n_configs)))), self.max_fidelity)
        return TrialInfo(self.grid.config(mutate_digits(self.best[1], self.grid, self.rng)), self.max_fidelity)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        if self.best is None or value.cost < self.best[0]:
            self.best = (value.cost, self.grid.digits_of(info.config))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[int, list[Path]]:
    """{K: run folders}: NB201 cifar10 (proxy), 3000 simulated seconds, 5 seeds, three optimizers."""
    root = tmp_path_factory.mktemp("parallel")
    runs: dict[int, list[Path]] = {k: [] for k in WORKERS}
    with pytest.MonkeyPatch.context() as mp:
        for cls in (BatchedRandomSearch, AsyncGreedy):
            mp.setitem(REGISTRY, cls.name, (cls.__module__, cls.__name__))
        for k in WORKERS:
            for o in OPTIMIZERS:
                for s in SEEDS:
                    out = root / f"k{k}" / o / str(s)
                    run_search(o, "cifar10", s, Budget(max_sim_seconds=BUDGET), out, data_dir=data_dir, progress=None, workers=k)
                    runs[k].append(out)
    return runs


@pytest.fixture(scope="module")
def stages(study: dict[int, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The aggregate and stats stages over the whole study, and over its one-worker runs alone."""
    root = tmp_path_factory.mktemp("stages")
    out = {name: root / name for name in ("agg", "stats", "agg1", "stats1")}
    aggregate_study(study[1] + study[4], out["agg"], log=QUIET, jobs=2)
    stats_study(out["agg"], out["stats"], log=QUIET)
    aggregate_study(study[1], out["agg1"], log=QUIET)
    stats_study(out["agg1"], out["stats1"], log=QUIET)
    return out


def by_hand(runs: list[Path]) -> pd.DataFrame:
    """Per run from its own files: optimizer, K, seed, the trial ends and the incumbent's test regret."""
    rows = []
    for run in runs:
        record = json.loads((run / "run.json").read_text())
        trials = pd.read_parquet(run / "trials.parquet")
        regret = np.round(record["oracle"]["best_test_acc"] - trials["inc_test_acc_200"].to_numpy(float), 6)
        rows.append(
            {
                "optimizer": record["optimizer"],
                "workers": record["workers"],
                "seed": record["seed"],
                "ends": trials["sim_time"].to_numpy(float),
                "regret": regret,
            }
        )
    return pd.DataFrame(rows)


def test_the_study_has_k_times_the_trials_and_one_worker_runs_have_one(study: dict[int, list[Path]]) -> None:
    hand = by_hand(study[1] + study[4])
    n = hand.assign(n=hand["ends"].map(len)).groupby(["optimizer", "workers"])["n"].mean().unstack()
    assert (n[4] > 3 * n[1]).all()
    assert all(json.loads((r / "run.json").read_text())["workers"] == 1 for r in study[1])


def test_speedup_table_against_the_trial_logs(study: dict[int, list[Path]], stages: dict[str, Path]) -> None:
    hand = by_hand(study[1] + study[4])
    finals = hand.assign(final=hand["regret"].map(lambda r: r[-1]))
    ref = finals[(finals["optimizer"] == "rs") & (finals["workers"] == 1)]["final"].sort_values().to_numpy()
    target = ref[len(ref) // 2]  # the upper median of five seeds: the third smallest
    targets = pd.read_parquet(stages["agg"] / "parallel" / "targets.parquet")
    assert targets["target"].tolist() == [target]
    assert targets[["reference_optimizer", "reference_workers", "workers"]].iloc[0].tolist() == ["rs", 1, "1,4"]

    def first_hit(row: pd.Series) -> float:
        below = np.flatnonzero(row["regret"] <= target)
        return float(row["ends"][below[0]]) if len(below) else np.nan

    hand["hit"] = hand.apply(first_hit, axis=1)
    hand["time"] = hand["hit"].fillna(BUDGET)  # censored at the budget
    table = pd.read_parquet(stages["stats"] / "parallel" / "speedup.parquet").set_index(["optimizer", "workers"])
    assert sorted(table.index) == sorted((o, k) for o in OPTIMIZERS for k in WORKERS)
    medians = {}
    for (o, k), g in hand.groupby(["optimizer", "workers"]):
        row = table.loc[(o, k)]
        medians[o, k] = float(np.median(g["time"]))
        assert row["n_seeds"] == 5
        assert row["n_reached"] == int(g["hit"].notna().sum())
        assert row["time_median"] == pytest.approx(medians[o, k], abs=1e-9)
        assert bool(row["median_censored"]) == (g["hit"].isna().sum() >= 3)
        assert row["time_lo"] <= row["time_median"] <= row["time_hi"]
    # more than half of rs's own one-worker seeds reach the target, so its median is a time it reached
    assert table.loc[("rs", 1), "n_reached"] >= 3 and not table.loc[("rs", 1), "median_censored"]
    for o in OPTIMIZERS:
        assert table.loc[(o, 1), "speedup"] == 1.0
        assert table.loc[(o, 4), "speedup"] == pytest.approx(medians[o, 1] / medians[o, 4], rel=1e-12)
        assert table.loc[(o, 4), "speedup_lo"] <= table.loc[(o, 4), "speedup"] <= table.loc[(o, 4), "speedup_hi"]
    # the values of this study: four asynchronous random-search workers reach the target about four times sooner
    assert table.loc[("rs", 4), "speedup"] > 2.0
    per_run = pd.read_parquet(stages["agg"] / "parallel" / "per_run_final.parquet")
    merged = per_run.merge(hand[["optimizer", "workers", "seed", "hit", "time"]], on=["optimizer", "workers", "seed"])
    assert len(merged) == 30
    assert np.allclose(merged["time_to_target"], merged["time"], rtol=0, atol=1e-9)
    assert (merged["reached"] == merged["hit"].notna()).all()


def test_bootstrap_intervals_are_seeded_resamples_of_the_seeds(stages: dict[str, Path]) -> None:
    per_run = pd.read_parquet(stages["agg"] / "parallel" / "per_run_final.parquet")
    again = parallel.speedup_table(per_run)
    table = pd.read_parquet(stages["stats"] / "parallel" / "speedup.parquet")
    pd.testing.assert_frame_equal(again, table)  # reproducible: the generator is seeded from the row's name
    for r in table.itertuples():
        g = per_run[(per_run["optimizer"] == r.optimizer) & (per_run["workers"] == r.workers)].sort_values("seed")
        key = (r.family, r.task, r.objectives, r.protocol, r.optimizer, r.workers)
        rng = np.random.default_rng([0, zlib.crc32("|".join(map(str, key)).encode())])
        idx = rng.integers(0, len(g), size=(N_BOOT, len(g)))
        times = g["time_to_target"].to_numpy(float)
        medians = np.median(times[idx], axis=1)
        assert [r.time_lo, r.time_hi] == pytest.approx(np.percentile(medians, [2.5, 97.5]).tolist(), abs=1e-9)
        # a bound is censored when more resamples than its tail have a median on a censored run (at the budget)
        censored = np.median(np.where(g["reached"].to_numpy(bool), times, np.inf)[idx], axis=1) == np.inf
        assert (r.lo_censored, r.hi_censored) == (censored.mean() > 0.975, censored.mean() > 0.025)
    assert table["hi_censored"].any()  # this study has such bounds: rs at K = 1 reaches the target on 4 of 5 seeds


def test_tests_and_ranks_per_k(stages: dict[str, Path]) -> None:
    per_run = pd.read_parquet(stages["agg"] / "parallel" / "per_run_final.parquet")
    wilcoxon = pd.read_parquet(stages["stats"] / "parallel" / "wilcoxon.parquet")
    for k in WORKERS:
        sub = per_run[per_run["workers"] == k]
        expected = pairwise_wilcoxon(sub, metric="regret", task=["family", "task", "objectives", "protocol"])
        got = wilcoxon[wilcoxon["workers"] == k].drop(columns="workers").reset_index(drop=True)
        pd.testing.assert_frame_equal(got[expected.columns], expected)
        for a, b in [("async_greedy", "batched_rs"), ("async_greedy", "rs"), ("batched_rs", "rs")]:
            x = sub[sub["optimizer"] == a].sort_values("seed")["regret"].to_numpy()
            y = sub[sub["optimizer"] == b].sort_values("seed")["regret"].to_numpy()
            row = got[(got["optimizer_a"] == a) & (got["optimizer_b"] == b)].iloc[0]
            if np.count_nonzero(x - y):
                assert row["p_value"] == pytest.approx(stats.wilcoxon(x, y).pvalue)
    friedman = pd.read_parquet(stages["stats"] / "parallel" / "friedman.parquet")
    ranks = pd.read_parquet(stages["stats"] / "parallel" / "ranks.parquet")
    avg = {}
    for k in WORKERS:
        wide = per_run[per_run["workers"] == k].pivot(index="seed", columns="optimizer", values="regret")
        res = stats.friedmanchisquare(*[wide[c].to_numpy() for c in wide.columns])
        row = friedman[(friedman["workers"] == k) & (friedman["blocks"] == "seeds")].iloc[0]
        assert row["statistic"] == pytest.approx(res.statistic) and row["p_value"] == pytest.approx(res.pvalue)
        avg[k] = wide.rank(axis=1).mean()
        got = ranks[ranks["workers"] == k].set_index("optimizer")["avg_rank"]
        assert got.sort_index().tolist() == pytest.approx(avg[k].sort_index().tolist())
    correlation = pd.read_parquet(stages["stats"] / "parallel" / "rank_correlation.parquet")
    assert len(correlation) == 1
    row = correlation.iloc[0]
    res = stats.kendalltau(avg[1].sort_index().to_numpy(), avg[4].sort_index().to_numpy())
    assert (row["workers_a"], row["workers_b"], row["n_optimizers"]) == (1, 4, 3)
    assert row["kendall_tau"] == pytest.approx(res.statistic, nan_ok=True)
    assert row["p_value"] == pytest.approx(res.pvalue, nan_ok=True)


def test_the_other_groups_see_the_one_worker_runs_only(stages: dict[str, Path]) -> None:
    assert read_parts(stages["agg"]) == {"nb201": True, "families": [], "summary": True, "multi_objective": False, "parallel": True}
    assert read_parts(stages["agg1"]) == {"nb201": True, "families": [], "summary": True, "multi_objective": False}
    for stage, one in (("agg", "agg1"), ("stats", "stats1")):
        files = sorted(p.relative_to(stages[one]) for p in stages[one].rglob("*.parquet"))
        assert (
            files and sorted(p.relative_to(stages[stage]) for p in stages[stage].rglob("*.parquet") if "parallel" not in p.parts) == files
        )
        for f in files:
            pd.testing.assert_frame_equal(pd.read_parquet(stages[stage] / f), pd.read_parquet(stages[one] / f))
    assert not (stages["agg1"] / "parallel").exists() and not (stages["stats1"] / "parallel").exists()


def test_figures_and_captions(stages: dict[str, Path], tmp_path: Path) -> None:
    render(stages["agg"] / "parallel", stages["stats"] / "parallel", tmp_path, QUIET)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{s}.{e}" for s in ("anytime_time", "speedup") for e in ("pdf", "png", "rst")]
    assert "censored" in (tmp_path / "speedup.rst").read_text()
    for name in ("speedup", "wilcoxon", "rank_correlation"):
        assert (stages["stats"] / "parallel" / f"{name}.rst").read_text().startswith("Parallel workers:")
        assert (stages["stats"] / "parallel" / f"{name}.csv").is_file()


def test_only_k_above_one_is_the_parallel_group_alone(study: dict[int, list[Path]], tmp_path: Path) -> None:
    parts: dict[str, Any] = aggregate_study(study[4], tmp_path / "agg", log=QUIET)
    assert parts == {"nb201": False, "families": [], "summary": False, "multi_objective": False, "parallel": True}
    targets = pd.read_parquet(tmp_path / "agg" / "parallel" / "targets.parquet")
    assert targets[["reference_optimizer", "reference_workers"]].iloc[0].tolist() == ["rs", 4]
    stats_study(tmp_path / "agg", tmp_path / "stats", log=QUIET)
    figures_study(tmp_path / "agg", tmp_path / "stats", tmp_path / "figures", log=QUIET, jobs=2)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["parallel", "parts.json"]
    assert sorted(p.name for p in (tmp_path / "figures" / "parallel").glob("*.png")) == ["anytime_time.png", "speedup.png"]
    table = pd.read_parquet(tmp_path / "stats" / "parallel" / "speedup.parquet")
    assert (table["speedup"] == 1.0).all() and (table["reference_workers"] == 4).all()  # one K: nothing to speed up


def test_the_nb201_table_reads_the_one_worker_searches_only(study: dict[int, list[Path]]) -> None:
    rows = incumbents(study[1] + study[4])
    assert len(rows) == 15
    assert sorted(zip(rows["optimizer"], rows["seed"], strict=True)) == sorted((o, s) for o in OPTIMIZERS for s in SEEDS)


def test_the_same_run_twice_is_one_line(study: dict[int, list[Path]]) -> None:
    with pytest.raises(
        InputError, match=r"^runs=.*: are the same run \(family, task, objectives, protocol, optimizer, workers, seed\) given twice$"
    ):
        parallel.load_parallel([study[4][0], study[4][0]])


def synthetic(n_tasks: int = 2) -> pd.DataFrame:
    """Hand-made finals: task t, optimizer o, K, seed s; optimizer "c" is best at K = 1 and worst at K = 8."""
    rng = np.random.default_rng(7)
    rows = []
    for t in range(n_tasks):
        for o, base in zip("abc", (2.0, 3.0, 1.0), strict=True):
            for k in (1, 8):
                for s in range(6):
                    regret = (base if not (o == "c" and k == 8) else 4.0) + rng.uniform(0, 0.5)
                    time = 500.0 / k + 10 * s
                    rows.append(
                        {"family": "hpolib", "task": f"t{t}", "objectives": "valid_loss", "protocol": ""}
                        | {"optimizer": o, "workers": k, "seed": s, "metric": "valid_regret", "regret": regret, "target": 3.0}
                        | {"end_time": 1000.0, "time_to_target": time if s < 5 else 1000.0, "reached": s < 5}
                    )
    return pd.DataFrame(rows)


def test_ranks_over_tasks_and_their_correlation_per_k() -> None:
    tables = parallel.parallel_stats_tables({"per_run_final": synthetic()})
    corr = tables["rank_correlation"].set_index(["task", "blocks"])
    assert sorted(corr.index) == [("", "tasks"), ("t0", "seeds"), ("t1", "seeds")]
    row = corr.loc[("", "tasks")]
    assert (row["order_a"], row["order_b"]) == ("c < a < b", "a < b < c")
    expected = stats.kendalltau([2, 3, 1], [1, 2, 3])  # ranks of a, b, c at K = 1 and K = 8
    assert row["kendall_tau"] == pytest.approx(expected.statistic) and row["p_value"] == pytest.approx(expected.pvalue)
    friedman = tables["friedman"]
    over_tasks = friedman[friedman["blocks"] == "tasks"]
    assert sorted(over_tasks["workers"].unique()) == [1, 8] and (over_tasks["n_tasks"] == 2).all()
    speedup = tables["speedup"].set_index(["task", "optimizer", "workers"])
    # five of six seeds reach the target: the median of 500/K + (0, 10, 20, 30, 40) and 1000 (censored) is 500/K + 25
    assert speedup.loc[("t0", "a", 1), "time_median"] == pytest.approx(525.0)
    assert speedup.loc[("t0", "a", 8), "time_median"] == pytest.approx(500 / 8 + 25)
    assert speedup.loc[("t0", "a", 8), "speedup"] == pytest.approx(525 / 87.5)
    assert not speedup["median_censored"].any() and speedup["hi_censored"].all()
