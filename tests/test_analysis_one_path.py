"""The one analysis path (``analysis.runs`` -> ``analysis.curves`` -> ``analysis.stats``) against an
independent recomputation from the trial logs with plain numpy/scipy: a tiny NB201 study of real
searches, and hand-made FCNet and multi-objective logs."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nashpo.analysis import aggregate as agg
from nashpo.analysis import families, mo
from nashpo.analysis.stats import friedman_nemenyi, pairwise_wilcoxon
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.runner import Budget, run_search

OPTIMIZERS = ("rs", "re")
SEEDS = (0, 1, 2, 3)
BUDGET_SECONDS = 4000.0
N_GRID, N_BOOT = 100, 1000


def bands_by_hand(values: np.ndarray, key: tuple) -> dict[str, np.ndarray]:
    """Mean/median over seeds (rows) and their 95% percentile-bootstrap bands, NaN where a seed has no value."""
    rng = np.random.default_rng([0, zlib.crc32("|".join(map(str, key)).encode())])
    idx = rng.integers(0, len(values), size=(N_BOOT, len(values)))
    complete = ~np.isnan(values).any(axis=0)
    v = np.where(complete, values, 0.0)
    boot = v[idx]
    out = {
        "mean": v.mean(axis=0),
        "median": np.median(v, axis=0),
        "mean_lo": np.percentile(boot.mean(axis=1), 2.5, axis=0),
        "mean_hi": np.percentile(boot.mean(axis=1), 97.5, axis=0),
    }
    return {k: np.where(complete, x, np.nan) for k, x in out.items()}


def at(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The last value logged at or before each grid point (NaN before the first)."""
    return np.array([values[times <= t][-1] if (times <= t).any() else np.nan for t in grid])


# ------------------------------------------------------------------ NB201: real searches


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> list[Path]:
    root = tmp_path_factory.mktemp("one_path")
    runs = []
    for o in OPTIMIZERS:
        for s in SEEDS:
            out = root / "cifar10" / o / str(s)
            run_search(o, "cifar10", s, Budget(max_sim_seconds=BUDGET_SECONDS), out, data_dir=data_dir, progress=None)
            runs.append(out)
    return runs


def test_run_record_oracle_is_the_benchmark_oracle(study: list[Path], data_dir: Path) -> None:
    expected = NB201Benchmark("cifar10", data_dir).oracle().set_index("epochs").loc[200]
    oracle = json.loads((study[0] / "run.json").read_text())["oracle"]
    assert oracle["epochs"] == 200
    for key in ("best_valid_acc", "best_test_acc", "test_acc_of_best_valid", "best_valid_arch"):
        assert oracle[key] == expected[key]


def test_nb201_finals_curves_and_wilcoxon_by_hand(study: list[Path]) -> None:
    tables = agg.aggregate_tables(study, log=open("/dev/null", "w"))
    oracle = json.loads((study[0] / "run.json").read_text())["oracle"]
    logs = {
        (o, s): pd.read_parquet(study[i * len(SEEDS) + j] / "trials.parquet") for i, o in enumerate(OPTIMIZERS) for j, s in enumerate(SEEDS)
    }
    regret = {k: np.round(oracle["best_test_acc"] - t["inc_test_acc_200"].to_numpy(float), 6) for k, t in logs.items()}
    # finals: the last trial's incumbent
    finals = tables["per_run_final"].set_index(["optimizer", "seed"])
    for k, r in regret.items():
        assert finals.loc[k, "test_regret"] == r[-1]
        assert finals.loc[k, "valid_regret"] == np.round(oracle["best_valid_acc"] - logs[k]["inc_valid_acc_200"].iloc[-1], 6)
    # curves on the time grid: first trial to the time budget, NaN past it
    first = min(float(t["sim_time"].min()) for t in logs.values())
    grid = np.unique(np.geomspace(first, BUDGET_SECONDS, N_GRID))
    curves = tables["curves_time"]
    for o in OPTIMIZERS:
        values = np.vstack([at(logs[(o, s)]["sim_time"].to_numpy(float), regret[(o, s)], grid) for s in SEEDS])
        expected = bands_by_hand(values, ("proxy", "cifar10", o))
        got = curves[(curves["optimizer"] == o) & (curves["metric"] == "test_regret")]
        np.testing.assert_array_equal(got["sim_time"].to_numpy(), grid)
        for k, v in expected.items():
            np.testing.assert_allclose(got[k].to_numpy(float), v, rtol=0, atol=1e-12, equal_nan=True)
    # Wilcoxon signed-rank on the final test regret, paired by seed (one pair: Holm leaves p as is)
    a, b = ([regret[(o, s)][-1] for s in SEEDS] for o in sorted(OPTIMIZERS))
    w = pairwise_wilcoxon(tables["per_run_final"]).iloc[0]
    if np.count_nonzero(np.subtract(a, b)):
        res = stats.wilcoxon(a, b)
        assert w["p_value"] == pytest.approx(res.pvalue, abs=1e-12) and w["statistic"] == res.statistic
        assert w["p_adjusted"] == pytest.approx(res.pvalue, abs=1e-12)
    else:
        assert np.isnan(w["p_value"])


# ------------------------------------------------------------------ FCNet and multi-objective: hand-made logs

FAMILY_LOGS = {  # (task, optimizer, seed) -> (finish times, incumbent regrets)
    ("naval_propulsion", "rs", 0): ([2.0, 10.0, 40.0], [5.0, 2.0, 0.5]),
    ("naval_propulsion", "rs", 1): ([3.0, 30.0, 90.0], [4.0, 1.0, 0.25]),
    ("naval_propulsion", "rs", 2): ([5.0, 6.0], [3.0, 0.0]),
    ("naval_propulsion", "re", 0): ([1.0, 50.0], [6.0, 0.125]),
    ("naval_propulsion", "re", 1): ([4.0, 8.0, 16.0, 64.0], [7.0, 3.0, 1.5, 0.0]),
    ("naval_propulsion", "re", 2): ([7.0], [2.0]),
}


def family_run(root: Path, task: str, optimizer: str, seed: int, times: list[float], regrets: list[float]) -> Path:
    run = root / task / optimizer / str(seed)
    run.mkdir(parents=True)
    oracle = {"best": 0.0, "best_objective": 0.0, "metric": "val_loss", "worst": 10.0, "worst_objective": 10.0}
    record = {
        "optimizer": optimizer,
        "dataset": task,
        "seed": seed,
        "protocol": "final",
        "benchmark": {"family": "hpolib", "dataset": task},
        "params": [{"name": "x", "kind": "ordinal", "choices": [1, 2]}],
        "budget": {"max_sim_seconds": 100.0, "max_evals": None},
        "oracle": oracle,
        "objectives": [{"name": "val_loss", "column": "objective", "unit": "MSE"}],
    }
    (run / "run.json").write_text(json.dumps(record))
    trials = pd.DataFrame({"trial": np.arange(len(times)), "sim_time": np.asarray(times, float), "inc_regret": np.asarray(regrets, float)})
    trials.assign(inc_quantile=trials["inc_regret"] / 10.0).to_parquet(run / "trials.parquet", index=False)
    return run


def test_family_curves_and_wilcoxon_by_hand(tmp_path: Path) -> None:
    runs = [family_run(tmp_path, *k, *v) for k, v in FAMILY_LOGS.items()]
    finals, traj = families.load_family_runs(runs)
    grid = np.unique(np.geomspace(1.0, 100.0, N_GRID))  # earliest first trial to the time budget
    curves = families.regret_curves(finals, traj)
    for o in ("re", "rs"):
        values = np.vstack([at(np.array(t), np.array(r), grid) for (_, oo, _), (t, r) in FAMILY_LOGS.items() if oo == o])
        got = curves[curves["optimizer"] == o]
        for k, v in bands_by_hand(values, ("hpolib", "naval_propulsion", o)).items():
            np.testing.assert_allclose(got[k].to_numpy(float), v, rtol=0, atol=1e-12, equal_nan=True)
    a = [FAMILY_LOGS[("naval_propulsion", "re", s)][1][-1] for s in range(3)]
    b = [FAMILY_LOGS[("naval_propulsion", "rs", s)][1][-1] for s in range(3)]
    w = families.family_wilcoxon(finals).iloc[0]
    assert (w["family"], w["task"], w["optimizer_a"]) == ("hpolib", "naval_propulsion", "re")
    assert w["p_value"] == pytest.approx(stats.wilcoxon(a, b).pvalue, abs=1e-12)


MO_TASKS = ("cifar10", "cifar100", "ImageNet16-120")
MO_OPTIMIZERS = ("mo_rs", "nsga2", "linas")


def mo_run(root: Path, task: str, optimizer: str, seed: int, times: np.ndarray, hv: np.ndarray) -> Path:
    run = root / task / optimizer / str(seed)
    run.mkdir(parents=True)
    record = {
        "optimizer": optimizer,
        "dataset": task,
        "seed": seed,
        "protocol": "proxy",
        "multi_objective": True,
        "benchmark": {"family": "nb201", "dataset": task},
        "budget": {"max_sim_seconds": 1000.0, "max_evals": None},
        "objectives": [{"name": "valid_error", "column": "valid_error"}, {"name": "latency:pixel3", "column": "latency_pixel3"}],
        "final_front": [{"code": 1}],
    }
    (run / "run.json").write_text(json.dumps(record))
    trials = pd.DataFrame({"trial": np.arange(len(times)), "sim_time": times, "hv_regret_final": hv, "hv_regret": hv + 0.01})
    trials.assign(front_size=1).to_parquet(run / "trials.parquet", index=False)
    return run


def test_mo_curves_wilcoxon_and_friedman_over_tasks_by_hand(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    logs = {}
    for t_i, task in enumerate(MO_TASKS):
        for o_i, o in enumerate(MO_OPTIMIZERS):
            for s in range(4):
                times = np.sort(rng.uniform(10, 900, 6))
                logs[(task, o, s)] = (times, np.sort(rng.uniform(0, 1, 6))[::-1] / (1 + o_i + 0.1 * t_i))
    runs = [mo_run(tmp_path, *k, *v) for k, v in logs.items()]
    finals, trajs, _ = mo.load_mo_runs(runs)
    curves = mo.hv_curves(finals, trajs)
    objectives = "valid_error+latency_pixel3"
    for task in MO_TASKS:
        first = min(v[0][0] for k, v in logs.items() if k[0] == task)
        grid = np.unique(np.geomspace(first, 1000.0, N_GRID))
        for o in MO_OPTIMIZERS:
            values = np.vstack([at(*logs[(task, o, s)], grid) for s in range(4)])
            got = curves[(curves["task"] == task) & (curves["optimizer"] == o) & (curves["metric"] == "hv_regret_final")]
            for k, v in bands_by_hand(values, ("nb201", task, objectives, o)).items():
                np.testing.assert_allclose(got[k].to_numpy(float), v, rtol=0, atol=1e-12, equal_nan=True)
    wilcoxon = mo.mo_wilcoxon(finals)
    for r in wilcoxon.itertuples():
        a = [logs[(r.task, r.optimizer_a, s)][1][-1] for s in range(4)]
        b = [logs[(r.task, r.optimizer_b, s)][1][-1] for s in range(4)]
        assert r.p_value == pytest.approx(stats.wilcoxon(a, b).pvalue, abs=1e-12)
    # Friedman over the multi-objective tasks on the mean final HV regret, the same call as every cross-task summary
    friedman, _ = mo.mo_friedman(finals)
    mat = np.array([[np.mean([logs[(t, o, s)][1][-1] for s in range(4)]) for o in sorted(MO_OPTIMIZERS)] for t in MO_TASKS])
    assert friedman["p_value"].iloc[0] == pytest.approx(stats.friedmanchisquare(*mat.T).pvalue, abs=1e-12)
    same, _ = friedman_nemenyi(finals.rename(columns={"benchmark": "family"}), "hv_regret_final", task=["family", "task", "objectives"])
    pd.testing.assert_frame_equal(friedman, same)
