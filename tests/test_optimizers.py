"""Optimizer adapters: fidelities, quality sanity, determinism across processes, bad hyperparameters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hpbandster.core.result import Result

from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.errors import InputError
from nashpo.optimizers import REGISTRY, adapter_source, get_optimizer_class
from nashpo.optimizers.base import TrialValue
from nashpo.optimizers.bohb import BOHBNB201
from nashpo.optimizers.re import mutate
from nashpo.optimizers.smac_hb import to_fidelity
from nashpo.runner import Budget, run_search
from nashpo.space import N_ARCHS, code_to_ops, config_to_code
from nashpo.triallog import TIMING_COLUMNS, read_trials

EVALS = {"rs": 100, "re": 100, "tpe": 60, "smac": 30, "smac_hb": 60, "dehb": 100, "bohb": 60}


@pytest.fixture(scope="module")
def runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("opt")
    return {
        name: (
            run_search(name, "cifar10", 2, Budget(max_evals=n), root / name, data_dir=data_dir, progress=None),
            read_trials(root / name),
        )[1]
        for name, n in EVALS.items()
    }


def test_registry_and_adapter_sources() -> None:
    assert set(REGISTRY) == {
        "rs",
        "re",
        "re_autodl",
        "reinforce",
        "smac",
        "smac_hb",
        "dehb",
        "bohb",
        "bohb_nb201",
        "tpe",
        "mo_rs",
        "nsga2",
        "nsga3",
        "linas",
        "parego",
        "motpe",
        "mo_smac_mf",
    }
    for name in REGISTRY:
        assert get_optimizer_class(name).name == name
        assert adapter_source(name).is_file()


@pytest.mark.parametrize("name", list(EVALS))
def test_fidelities_and_count(runs: dict[str, pd.DataFrame], name: str) -> None:
    trials = runs[name]
    assert len(trials) == EVALS[name]
    epochs = set(trials["epochs"])
    if get_optimizer_class(name).multi_fidelity:
        assert epochs == {12, 200}  # both rungs used, nothing outside the data
    else:
        assert epochs == {12}


@pytest.mark.parametrize("name", ["re", "tpe", "smac", "dehb", "smac_hb"])
def test_incumbent_is_in_the_top_decile(runs: dict[str, pd.DataFrame], data_dir: Path, name: str) -> None:
    """Percentile of the final incumbent's validation accuracy among all 15,625 archs at its fidelity."""
    bench = NB201Benchmark("cifar10", data_dir)
    last = runs[name].iloc[-1]
    all_valid = bench.query_many(np.arange(N_ARCHS), int(last.inc_epochs))["valid_acc"]
    assert (all_valid < last.inc_valid_acc).mean() > 0.9


def test_mutation_changes_exactly_one_edge() -> None:
    rng = np.random.default_rng(0)
    for code in rng.integers(N_ARCHS, size=500):
        child = mutate(int(code), rng)
        diff = [a != b for a, b in zip(code_to_ops(int(code)), code_to_ops(child), strict=True)]
        assert sum(diff) == 1


def test_rung_mapping() -> None:
    assert to_fidelity(12.5, [12, 200]) == 12
    assert to_fidelity(200.0, [12, 200]) == 200
    assert to_fidelity(12.012, [12, 200]) == 12
    assert to_fidelity(5.0, [12, 200]) == 12
    assert to_fidelity(66.67, list(range(1, 201))) == 66


@pytest.mark.parametrize(
    ("name", "hp", "field"),
    [
        ("re", {"population_size": "ten"}, "re.population_size"),
        ("tpe", {"multivariate": 1}, "tpe.multivariate"),
        ("smac", {"n_initial_designs": 2.5}, "smac.n_initial_designs"),
        ("dehb", {"eta": "3"}, "dehb.eta"),
        ("smac_hb", {"bogus": 1}, "smac_hb.bogus"),
        ("bohb", {"random_fraction": 2.0}, "bohb.random_fraction"),
    ],
)
def test_bad_hyperparameters(data_dir: Path, tmp_path: Path, name: str, hp: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        run_search(name, "cifar10", 0, Budget(max_evals=5), tmp_path / "out", hyperparameters=hp, data_dir=data_dir, progress=None)
    assert err.value.field == field
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "evals"), [("re", 80), ("tpe", 40), ("dehb", 80), ("smac", 15), ("smac_hb", 40), ("bohb", 60)])
def test_identical_logs_in_two_processes(nashpo_env: dict[str, str], tmp_path: Path, name: str, evals: int) -> None:
    env = {k: v for k, v in nashpo_env.items() if k != "PYTHONHASHSEED"}  # the CLI must fix it itself
    logs = []
    for out in ("a", "b"):
        cmd = [
            sys.executable,
            "-m",
            "nashpo",
            "run",
            "--optimizer",
            name,
            "--dataset",
            "cifar100",
            "--seed",
            "9",
            "--max-evals",
            str(evals),
            "--out",
            out,
        ]
        res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        logs.append(read_trials(tmp_path / out).drop(columns=list(TIMING_COLUMNS)))
    pd.testing.assert_frame_equal(logs[0], logs[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # optimizer output only inside --out


def test_bohb_leaves_numpy_global_random_state_alone(data_dir: Path, tmp_path: Path) -> None:
    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    run_search("bohb", "cifar10", 4, Budget(max_evals=40), tmp_path / "run", data_dir=data_dir, progress=None)
    assert np.array_equal(np.random.rand(3), expected)


def test_bohb_nb201_reports_hpbandsters_incumbent(data_dir: Path, tmp_path: Path) -> None:
    """The paper's protocol: every trial at 12 epochs; the runner's incumbent is hpbandster's own
    (``Result.get_incumbent_id``: lowest loss among the results at max_budget 200), driven by hand."""
    evals = 60
    rec = run_search("bohb_nb201", "cifar10", 3, Budget(max_evals=evals), tmp_path / "run", data_dir=data_dir, progress=None)
    trials = read_trials(tmp_path / "run")
    assert set(trials["epochs"]) == {12}
    bench = NB201Benchmark("cifar10", data_dir)
    (tmp_path / "w").mkdir()
    opt = BOHBNB201(bench.space(3), 3, [12, 200], tmp_path / "w")
    for n in range(evals):
        info = opt.ask()
        code = config_to_code(info.config)
        assert code == trials["arch_code"].iloc[n] and info.epochs == 12
        res = bench.query_code(code, info.epochs)
        opt.tell(info, TrialValue(cost=100 - res["valid_acc"], time=res["cost"]))
    result = Result([it.data for it in opt.iterations], {"max_budget": opt.max_budget})
    best = config_to_code(result.get_id2config_mapping()[result.get_incumbent_id()]["config"])
    assert best == rec["incumbent"]["arch_code"] == trials["inc_arch_code"].iloc[-1]
    # the first bracket evaluates 9 configurations at budget 22.2 and 3 at 66.7 before one at 200
    assert (trials["inc_arch_code"].iloc[:12] == -1).all() and trials["inc_trial"].iloc[12] == 12


def test_adapter_sources_list_the_adapter_modules_each_search_uses() -> None:
    from nashpo.optimizers import adapter_sources

    def names(optimizer: str) -> list[str]:
        return [p.name for p in adapter_sources(optimizer)]

    assert names("rs") == ["rs.py"]
    assert names("dehb") == ["dehb.py", "rungs.py"]
    # BOHB maps rungs to fidelities with smac_hb's helper, which builds on smac_bo
    assert names("bohb") == ["bohb.py", "rungs.py", "smac_bo.py", "smac_hb.py"]
    assert names("motpe") == ["motpe.py", "mo_common.py", "tpe.py"]
    assert all(p.is_file() for p in adapter_sources("mo_smac_mf"))
