"""The runner over benchmark families: NB201 unchanged (golden logs), FCNet/MLP searches."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nashpo.errors import InputError
from nashpo.runner import Budget, run_search
from nashpo.triallog import TIMING_COLUMNS, WORKER_COLUMNS, one_worker_clock

GOLDEN = Path(__file__).parent / "golden"
SINGLE_FIDELITY = ("rs", "re", "reinforce", "tpe", "smac")
NASHPO = (sys.executable, "-m", "nashpo")


def read_golden(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""], float_precision="round_trip")


def golden_log(optimizer: str, n_trials: int) -> pd.DataFrame:
    """The recorded log. SMAC's random-forest search takes another path on another CPU (the same code
    gives 103 trials where the first log was written and 101 on an AMD EPYC machine): both are recorded,
    and the one of the run's length is compared value for value."""
    paths = [GOLDEN / f"nb201_cifar10_seed0_{optimizer}{suffix}.csv" for suffix in ("", "_epyc")]
    logs = [read_golden(p) for p in paths if p.is_file()]
    return next((log for log in logs if len(log) == n_trials), logs[0])


@pytest.mark.parametrize("optimizer", SINGLE_FIDELITY)
def test_nb201_trial_logs_equal_the_golden_logs(data_dir: Path, tmp_path: Path, optimizer: str) -> None:
    """Trial logs of cifar10 seed 0 (12,000 simulated s, proxy protocol) equal those written before
    the runner knew families, value for value apart from timing columns. Through the CLI, which fixes
    PYTHONHASHSEED as SMAC's determinism needs (the golden logs were written the same way)."""
    cmd = [sys.executable, "-m", "nashpo", "--data-dir", str(data_dir), "run", "--optimizer", optimizer, "--dataset", "cifar10"]
    cmd += ["--seed", "0", "--max-sim-seconds", "12000", "--out", str(tmp_path / "run")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    trials = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    assert one_worker_clock(trials)  # the worker columns, added after the golden logs were written
    got = trials.drop(columns=[*TIMING_COLUMNS, *WORKER_COLUMNS])
    want = golden_log(optimizer, len(got))
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want) > 80
    for col in got.columns:
        if pd.api.types.is_float_dtype(got[col]):
            np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(dtype=float), err_msg=col)
        else:
            assert got[col].astype(str).tolist() == want[col].astype(str).tolist(), col


GRID_TASKS = {"hpolib": "naval_propulsion", "hpobench": "car"}


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nashpo.benchmarks import get_family
    from nashpo.data.shb import prepare_grid

    out = tmp_path_factory.mktemp("grid_runner_tables")
    with open(os.devnull, "w") as log:
        for name, task in GRID_TASKS.items():
            prepare_grid(get_family(name), [task], out, log=log)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("family_name", list(GRID_TASKS))
@pytest.mark.parametrize("optimizer", SINGLE_FIDELITY)
def test_every_single_fidelity_optimizer_searches_each_grid_family(
    grid_dir: Path, tmp_path: Path, family_name: str, optimizer: str
) -> None:
    benchmark = family_name
    from nashpo.benchmarks import get_family

    family = get_family(benchmark)
    task = family.open(GRID_TASKS[benchmark], grid_dir)
    rec = run_search(optimizer, task.task, 3, Budget(max_evals=40), tmp_path / "run", data_dir=grid_dir, progress=None, benchmark=benchmark)
    log = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    assert rec["n_trials"] == len(log) == 40
    assert [p.name for p in family.params] == [c for c in log.columns if c in {p.name for p in family.params}]
    # the runner charged the family's time metric and logged the table's values for each config
    want = task.query_many(log["code"].to_numpy())
    for m in family.metrics:
        np.testing.assert_array_equal(log[m.name].to_numpy(), want[m.name])
    np.testing.assert_array_equal(log["cost"].to_numpy(), want[family.time_metric])
    np.testing.assert_allclose(log["sim_time"].to_numpy(), np.cumsum(want[family.time_metric]), rtol=1e-12)
    for row in log.head(5).itertuples():
        assert family.encode({p.name: getattr(row, p.name) for p in family.params}) == row.code
    obj = log[family.objective].to_numpy()
    expected_objective = obj if family.metric(family.objective).direction == "minimize" else 1.0 - obj
    np.testing.assert_array_equal(log["objective"].to_numpy(), expected_objective)
    np.testing.assert_array_equal(log["inc_objective"].to_numpy(), np.minimum.accumulate(expected_objective))
    oracle = task.oracle().set_index("metric").loc[family.objective]
    best = oracle["best"] if benchmark == "hpolib" else 1.0 - oracle["best"]
    np.testing.assert_allclose(log["inc_regret"].to_numpy(), log["inc_objective"].to_numpy() - best, rtol=0, atol=1e-15)
    assert (log["inc_regret"] >= 0).all() and (log["inc_regret_norm"].between(0, 1)).all()
    assert rec["incumbent"]["regret"] == log["inc_regret"].iloc[-1]
    table_objective = task.query_many(np.arange(family.n_configs))[family.objective]
    table_objective = table_objective if benchmark == "hpolib" else 1.0 - table_objective
    last = log["inc_objective"].iloc[-1]
    assert log["inc_quantile"].iloc[-1] == np.count_nonzero(table_objective < last) / family.n_configs
    assert log["inc_quantile"].is_monotonic_decreasing
    assert rec["oracle"]["best"] == oracle["best"] and rec["protocol"] == "final" and rec["benchmark"]["family"] == benchmark
    assert log["code"].nunique() > 5  # it searched, not re-proposed one config


def test_grid_search_time_budget_uses_the_same_rule(grid_dir: Path, tmp_path: Path) -> None:
    rec = run_search(
        "rs", "car", 0, Budget(max_sim_seconds=2000.0), tmp_path / "run", data_dir=grid_dir, progress=None, benchmark="hpobench"
    )
    log = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    assert log["sim_time"].iloc[-1] <= 2000.0 < log["sim_time"].iloc[-1] + rec["stop"]["cost"]
    assert rec["stop"]["reason"] == "next trial would cross max_sim_seconds"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"optimizer": "dehb"}, "optimizer='dehb'"),
        ({"optimizer": "smac_hb"}, "optimizer='smac_hb'"),
        ({"optimizer": "bohb"}, "optimizer='bohb'"),
        ({"protocol": "proxy"}, "protocol='proxy'"),
        ({"fidelities": [1, 2]}, "fidelities="),
        ({"dataset": "cifar10"}, "task='cifar10'"),
        ({"optimizer": "re", "hyperparameters": {"mutation": "node"}}, "re.mutation='node'"),
    ],
)
def test_grid_bad_input_names_it_and_leaves_nothing(grid_dir: Path, tmp_path: Path, kwargs: dict, field: str) -> None:
    args = {"optimizer": "rs", "dataset": "naval_propulsion", "seed": 0, "budget": Budget(max_evals=5)} | kwargs
    with pytest.raises(InputError) as err:
        run_search(**args, out=tmp_path / "run", data_dir=grid_dir, progress=None, benchmark="hpolib")
    assert field in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "run").exists() and list(tmp_path.iterdir()) == []


def test_cli_grid_runs_are_deterministic_across_processes(grid_dir: Path, tmp_path: Path) -> None:
    """Same seed in two fresh processes: identical trial logs apart from timing columns (each optimizer
    that keeps state: re, reinforce, tpe, smac); the chunk command gives the same runs."""
    env = dict(os.environ, NASHPO_DATA_DIR=str(grid_dir), PYTHONHASHSEED="0")
    logs = {}
    for optimizer in ("re", "reinforce", "tpe", "smac"):
        for k in ("a", "b"):
            out = tmp_path / f"{optimizer}_{k}"
            cmd = [*NASHPO, "run", "--optimizer", optimizer, "--benchmark", "hpobench", "--task", "car", "--seed", "7"]
            done = subprocess.run(
                [*cmd, "--max-evals", "30", "--noise", "seed", "--out", str(out)], env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
            logs[optimizer, k] = pd.read_parquet(out / "trials.parquet").drop(columns=list(TIMING_COLUMNS))
        pd.testing.assert_frame_equal(logs[optimizer, "a"], logs[optimizer, "b"])
        assert (logs[optimizer, "a"]["bench_seed"] >= 0).all()
    chunk = subprocess.run(
        [
            *NASHPO,
            "run-chunk",
            "--optimizer",
            "tpe",
            "--benchmark",
            "hpobench",
            "--task",
            "car",
            "--seeds",
            "7",
            "--max-evals",
            "30",
            "--noise",
            "seed",
            "--runs-dir",
            str(tmp_path / "chunk"),
            "--manifest",
            str(tmp_path / "m.json"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert chunk.returncode == 0, chunk.stderr
    got = pd.read_parquet(tmp_path / "chunk" / "7" / "trials.parquet").drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(got, logs["tpe", "a"])
    assert json.loads((tmp_path / "m.json").read_text())["benchmark"] == "hpobench"
    bad = subprocess.run(
        [
            *NASHPO,
            "run",
            "--optimizer",
            "dehb",
            "--benchmark",
            "hpolib",
            "--task",
            "naval_propulsion",
            "--seed",
            "0",
            "--max-evals",
            "5",
            "--out",
            str(tmp_path / "bad"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "optimizer='dehb'" in bad.stderr
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("family_name", list(GRID_TASKS))
def test_deepcave_plugins_on_grid_family_exports(grid_dir: Path, tmp_path: Path, family_name: str, symbolic_expression) -> None:
    """An FCNet and an MLP run exported to DeepCAVE: its loader and its plugins, values checked."""
    from nashpo.benchmarks import get_family
    from nashpo.export.deepcave import load_export, trials_to_deepcave
    from nashpo.export.plugins import bounded_footprint, run_plugin

    family = get_family(family_name)
    run_search(
        "smac", GRID_TASKS[family_name], 1, Budget(max_evals=60), tmp_path / "run", data_dir=grid_dir, progress=None, benchmark=family_name
    )
    trials_to_deepcave(tmp_path / "run", tmp_path / "dc")
    run = load_export(tmp_path / "dc")
    log = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    unique = log.drop_duplicates("code", keep="last")
    names = sorted(p.name for p in family.params)
    objective = "val_loss" if family_name == "hpolib" else "val_acc_error"
    assert sorted(run.configspace.keys()) == names
    assert [o.name for o in run.get_objectives()] == [objective, "Time"] and run.get_budgets() == [0.0]
    assert len(run.history) == len(unique) and run.meta["benchmark"] == family_name
    for trial in run.history:
        config = dict(run.get_config(trial.config_id))
        row = unique[unique.code == trial.additional["code"]].iloc[0]
        want = family.decode(int(row.code))
        for k, v in config.items():  # DeepCAVE's Float keeps 6 significant digits
            assert v == want[k] if isinstance(v, str) else v == pytest.approx(want[k], rel=1e-5), k
        assert trial.costs[0] == pytest.approx(row.objective) and trial.costs[1] == pytest.approx(row.cost, abs=0.01)
        assert trial.end_time == pytest.approx(row.sim_time, abs=0.01)
    best = float(unique["objective"].min())
    shown = run_plugin("overview", run)
    assert shown.components
    incumbent_id = run.get_config_id(run.get_incumbent(objectives=run.get_objectives()[0])[0])
    conf = run_plugin("configurations", run, config_id=incumbent_id)
    assert conf.outputs["performances"][objective]["0.0"] == pytest.approx([best])
    cot = run_plugin("cost_over_time", run)
    assert cot.outputs["costs_mean"][-1] == pytest.approx(best) and cot.outputs["costs_mean"] == sorted(
        cot.outputs["costs_mean"], reverse=True
    )
    assert cot.outputs["times"][-1] == pytest.approx(float(log.loc[log.objective == best, "sim_time"].min()), abs=0.01)
    for method in ("importances_fanova", "importances_lpi"):
        imp = run_plugin(method, run)
        assert set(imp.outputs["0"]) == set(names) and all(np.isfinite(v[0]) and v[0] >= 0 for v in imp.outputs["0"].values())
    lpi = run_plugin("importances_lpi", run).outputs["0"]
    assert sum(v[0] for v in lpi.values()) == pytest.approx(1.0, abs=1e-6)
    # DeepCAVE serialises these frames with pandas' to_json: 10 decimal places
    cube = pd.read_json(io.StringIO(run_plugin("configuration_cube", run).outputs["df"]))
    assert sorted(cube[objective]) == pytest.approx(sorted(unique["objective"]), abs=1e-10)
    coords = pd.read_json(io.StringIO(run_plugin("parallel_coordinates", run).outputs["df"]))
    assert sorted(coords[objective]) == pytest.approx(sorted(unique["objective"]), abs=1e-10)
    for name in ("ablation_paths", "partial_dependencies"):
        assert run_plugin(name, run).components
    assert np.all(np.isfinite(symbolic_expression(run, objective).outputs["y_symbolic"]))
    with bounded_footprint(40):
        assert run_plugin("footprint", run).components


PLUGIN = "nashpo_testopt.greedy:GreedyLocalSearch"


@pytest.fixture()
def plugin_path(monkeypatch: pytest.MonkeyPatch) -> Path:
    import nashpo.optimizers

    path = Path(__file__).parent / "plugins"
    monkeypatch.syspath_prepend(str(path))
    monkeypatch.setattr(nashpo.optimizers, "REGISTRY", dict(nashpo.optimizers.REGISTRY))  # plug-ins register per test
    return path


def test_plugin_optimizer_by_class(plugin_path: Path, grid_dir: Path, tmp_path: Path) -> None:
    from nashpo.optimizers import adapter_source, resolve

    cls, hp = resolve("mine", {"class": PLUGIN, "n_random": 3})
    assert cls.__name__ == "GreedyLocalSearch" and hp == {"n_random": 3}
    assert adapter_source("mine") == plugin_path / "nashpo_testopt" / "greedy.py"
    runs = []
    for k in ("a", "b"):
        rec = run_search(
            "mine", "car", 5, Budget(max_evals=30), tmp_path / k, hyperparameters={"class": PLUGIN, "n_random": 3},
            data_dir=grid_dir, progress=None, benchmark="hpobench",
        )  # fmt: skip
        runs.append(pd.read_parquet(tmp_path / k / "trials.parquet").drop(columns=list(TIMING_COLUMNS)))
        assert rec["hyperparameters"] == {"n_random": 3} and rec["optimizer"] == "mine"
    pd.testing.assert_frame_equal(runs[0], runs[1])
    log = runs[0]
    assert log["origin"].tolist() == ["random"] * 3 + ["neighbour"] * 27
    # each neighbour differs from the incumbent before it in exactly one hyperparameter
    names = [c for c in ("alpha", "batch_size", "depth", "learning_rate_init", "width")]
    for i in range(3, 30):
        parent = log.loc[log["code"] == log["inc_code"].iloc[i - 1], names].iloc[0]
        assert (log.loc[i, names] != parent).sum() == 1


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"class": "nashpo_testopt.greedy:GreedyLocalSearch", "n_random": 0}, "greedy.n_random=0: must be at least 1"),
        ({"class": "nashpo_testopt.greedy:GreedyLocalSearch", "n_rand": 1}, "greedy.n_rand=1: unknown hyperparameter"),
        (
            {"class": "nashpo_testopt.greedy:NotAnOptimizer"},
            "optimizers.mine.class='nashpo_testopt.greedy:NotAnOptimizer': is not a subclass",
        ),
        ({"class": "nashpo_testopt.missing:X"}, "optimizers.mine.class='nashpo_testopt.missing:X': cannot import"),
        ({"class": "nashpo_testopt.greedy:Nope"}, "has no Nope"),
        ({"class": "not a target"}, "must be 'package.module:ClassName'"),
    ],
)
def test_plugin_errors_name_the_field(plugin_path: Path, spec: dict, needle: str) -> None:
    from nashpo.optimizers import resolve

    with pytest.raises(InputError) as err:
        resolve("mine", spec)
    assert needle in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="built-in optimizer"):
        resolve("rs", {"class": PLUGIN})


@pytest.mark.slow
def test_plugin_in_the_workflow_config(tmp_path: Path) -> None:
    """DAG time: a plug-in's bad hyperparameter stops `snakemake -n` with one line before any job;
    a good one makes the plug-in's file an input of its search jobs (editing it reruns them)."""
    import shutil

    import yaml
    from test_workflow import TINY, checkout, planned, snakemake

    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["optimizers"] = {"rs": {}, "mine": {"class": PLUGIN, "n_random": 0}}
    root = checkout(tmp_path, cfg)
    shutil.copytree(Path(__file__).parent / "plugins" / "nashpo_testopt", root / "nashpo_testopt")
    res = snakemake(root, "-n", "--cores", "1")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "config: optimizers.mine.n_random=0: must be at least 1" in out
    assert not (root / "results").exists()
    cfg["optimizers"]["mine"]["n_random"] = 3
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))
    res = snakemake(root, "-n", "--cores", "1")
    assert res.returncode == 0, res.stderr
    search_inputs = [line for line in res.stdout.splitlines() if "input:" in line and "nashpo_testopt/greedy.py" in line]
    assert len(search_inputs) == 2  # one search chunk per dataset
    assert planned(root)["search"] == 4
    done = snakemake(root, "--cores", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    log = pd.read_parquet(root / "results" / "runs" / "workers_1" / "nb201" / "cifar10" / "valid_error" / "mine" / "0" / "trials.parquet")
    assert log["origin"].iloc[:3].tolist() == ["random"] * 3 and set(log["origin"].iloc[3:]) == {"neighbour"}
    path = root / "nashpo_testopt" / "greedy.py"
    path.write_text(path.read_text() + "\n# edited\n")
    again = planned(root)
    assert again["search"] == 2 and again["to_deepcave"] == 2  # only the plug-in's chunks


@pytest.mark.slow
def test_workflow_fans_out_over_families(tmp_path: Path) -> None:
    """NB201 plus an MLP task in one study: the summary has a column per task and ranks over all of
    them; adding a task runs only its jobs and the summary."""
    import yaml
    from test_workflow import TINY, checkout, planned, snakemake

    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["optimizers"] = {"rs": {}, "re": {"population_size": 8, "sample_size": 3}, "tpe": {}, "dehb": {}}
    cfg["tasks"].append({"family": "hpobench", "tasks": ["car"], "seeds": 2, "budget": {"max_evals": 15}})
    root = checkout(tmp_path, cfg)
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    summary = root / "results" / "stats" / "summary"
    table = pd.read_csv(summary / "summary_table.csv")
    assert list(table.columns) == ["optimizer", "nb201/cifar10", "nb201/cifar100", "hpobench/car", "avg_rank"]
    ranked = table.dropna(subset=["avg_rank"])
    assert sorted(ranked["optimizer"]) == ["re", "rs", "tpe"]  # dehb is multi-fidelity: NB201 only, so not ranked
    dehb = table.set_index("optimizer").loc["dehb"]
    assert np.isnan(dehb["hpobench/car"]) and np.isfinite(dehb["nb201/cifar10"])
    assert sorted(ranked["avg_rank"]) == ranked["avg_rank"].tolist() and ranked["avg_rank"].sum() == pytest.approx(6.0)
    finals = pd.read_parquet(root / "results" / "aggregate" / "summary" / "finals.parquet")
    car = finals[finals["dataset"] == "hpobench/car"]
    assert len(car) == 6 and set(car["regret_kind"]) == {"validation"}
    for row in car.itertuples():
        log = pd.read_parquet(
            root / "results" / "runs" / "workers_1" / "hpobench" / "car" / "valid_error" / row.optimizer / str(row.seed) / "trials.parquet"
        )
        assert row.test_regret == log["inc_regret"].iloc[-1] and len(log) == 15
    mean = car.groupby("optimizer")["test_regret"].mean()
    assert table.set_index("optimizer")["hpobench/car"].dropna().to_dict() == pytest.approx(mean.to_dict(), rel=1e-5)
    assert (root / "results" / "figures" / "summary" / "cd_diagram.png").stat().st_size > 0
    # adding a task: only its table, its searches (one chunk per single-fidelity optimizer), their exports and the
    # analysis stages (transfer reads the aggregate; NB201's importance and table do not)
    cfg["tasks"][1]["tasks"].append("vehicle")
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert planned(root) == {
        "prepare_data": 1,
        "search": 3,
        "to_deepcave": 3,
        "aggregate": 1,
        "stats": 1,
        "transfer": 1,
        "figures": 1,
        "all": 1,
    }
    bad = yaml.safe_load(yaml.safe_dump(cfg))
    bad["tasks"][1]["tasks"].append("cifar10")
    (root / "config.yaml").write_text(yaml.safe_dump(bad))
    res = snakemake(root, "-n", "--cores", "1")
    assert res.returncode != 0 and "config: tasks[1].tasks='cifar10': unknown; choose from" in res.stdout + res.stderr
