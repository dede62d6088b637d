"""Multi-objective adapters (nsga2, linas, parego, motpe, mo_smac_mf) through the runner and the CLI.

Every adapter searches an NB201 device task (cifar10, valid_error + latency:pixel3) and, unless it
is multi-fidelity, an FCNet size task (naval_propulsion, valid_loss + model_size), twice, in two
fresh processes: both runs must be identical. Then each method's own behaviour is checked on
those runs' optimizer outputs (tests may read the tables; adapters never do).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import moocore
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from nashpo.errors import InputError
from nashpo.objectives import objective_matrix, parse_objectives
from nashpo.optimizers import REGISTRY, adapter_source, get_optimizer_class
from nashpo.optimizers.mo_common import non_dominated
from nashpo.pareto import hypervolume, true_front
from nashpo.runner import Budget, run_search
from nashpo.triallog import TIMING_COLUMNS

NASHPO = (sys.executable, "-m", "nashpo")
MO_ADAPTERS = ("nsga2", "nsga3", "linas", "parego", "motpe", "mo_smac_mf")
TASKS = {
    "nb201": ("cifar10", "valid_error,latency:pixel3"),
    "hpolib": ("naval_propulsion", "valid_loss,model_size"),
}
EVALS = {
    ("nb201", "nsga2"): 100,
    ("nb201", "linas"): 60,
    ("nb201", "motpe"): 60,
    ("nb201", "parego"): 20,
    ("nb201", "mo_smac_mf"): 30,
    ("hpolib", "nsga2"): 60,
    ("hpolib", "linas"): 50,
    ("hpolib", "motpe"): 40,
    ("hpolib", "parego"): 16,
}
SEED = 3
PARALLEL = 4
PAPERS = {
    "nsga2": "Deb",
    "nsga3": "Deb & Jain",
    "linas": "2202.12934",
    "parego": "Knowles",
    "motpe": "Ozaki",
    "mo_smac_mf": "Knowles",
}


@pytest.fixture(scope="module")
def tables(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder: the session's NB201 tables (linked) and FCNet's naval_propulsion table."""
    from nashpo.benchmarks import get_family
    from nashpo.data.shb import prepare_grid

    out = tmp_path_factory.mktemp("mo_tables")
    for table in data_dir.glob("nb201_*.parquet"):
        (out / table.name).symlink_to(table)
    with open(os.devnull, "w") as log:
        prepare_grid(get_family("hpolib"), ["naval_propulsion"], out, log=log)  # type: ignore[arg-type]
    return out


def cli_run(benchmark: str, optimizer: str, out: Path, data: Path) -> subprocess.Popen:
    task, objectives = TASKS[benchmark]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}  # the CLI fixes it itself
    cmd = [*NASHPO, "--data-dir", str(data), "run", "--optimizer", optimizer, "--benchmark", benchmark, "--task", task]
    cmd += ["--seed", str(SEED), "--max-evals", str(EVALS[benchmark, optimizer]), "--objectives", objectives, "--out", str(out)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def runs(tables: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each (task, adapter) run twice through the CLI (runs ``..._a`` and ``..._b``), at most
    ``PARALLEL`` processes at a time, the slow SMAC ones first."""
    root = tmp_path_factory.mktemp("mo_runs")
    order = sorted(EVALS, key=lambda key: key[1] not in ("parego", "mo_smac_mf"))
    todo = [(key, root / f"{key[0]}_{key[1]}_{k}") for key in order for k in "ab"]
    running: list[subprocess.Popen] = []
    while todo or running:
        while todo and len(running) < PARALLEL:
            (benchmark, optimizer), out = todo.pop(0)
            running.append(cli_run(benchmark, optimizer, out, tables))
        proc = running.pop(0)
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    return {key: root / f"{key[0]}_{key[1]}_a" for key in EVALS}


def trials(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "trials.parquet")


def test_registry_defaults_and_papers() -> None:
    for name in MO_ADAPTERS:
        cls = get_optimizer_class(name)
        assert cls.name == name and cls.multi_objective and REGISTRY[name][0].endswith(name)
        assert cls.multi_fidelity == (name == "mo_smac_mf")
        assert cls.defaults and cls.check_hyperparameters({}) == cls.defaults
        assert adapter_source(name).is_file()
        doc = sys.modules[cls.__module__].__doc__ or ""
        assert PAPERS[name] in doc, name


@pytest.mark.parametrize(("family", "optimizer"), list(EVALS))
def test_runs_complete_with_table_values_and_are_deterministic_across_processes(
    runs: dict[tuple[str, str], Path], tables: Path, family: str, optimizer: str
) -> None:
    run = runs[family, optimizer]
    log = trials(run)
    twin = trials(run.with_name(run.name[:-1] + "b"))
    pd.testing.assert_frame_equal(log.drop(columns=list(TIMING_COLUMNS)), twin.drop(columns=list(TIMING_COLUMNS)))
    record = json.loads((run / "run.json").read_text())
    assert record["multi_objective"] and record["n_trials"] == len(log) == EVALS[family, optimizer]
    task, spec = TASKS[family]
    objs = parse_objectives(family, spec)
    assert [o["column"] for o in record["objectives"]] == [o.column for o in objs]
    if family == "nb201":
        from nashpo.benchmarks.nb201 import NB201Benchmark

        bench = NB201Benchmark(task, tables)
        codes, epochs = log["arch_code"].to_numpy(), log["epochs"].to_numpy()
        assert set(epochs) == ({12, 200} if optimizer == "mo_smac_mf" else {12})
        for e in set(epochs):
            at = epochs == e
            np.testing.assert_allclose(log["valid_error"][at], 100.0 - bench.query_many(codes[at], int(e))["valid_acc"], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(log["latency_pixel3"], bench.table.columns["latency_ms:pixel3"][codes])
        unique = log[["arch_code", "epochs"]].drop_duplicates()
    else:
        from nashpo.benchmarks import get_family

        want = get_family("hpolib").open(task, tables).query_many(log["code"].to_numpy())
        np.testing.assert_array_equal(log["valid_loss"], want["val_loss"])
        np.testing.assert_array_equal(log["model_size"], want["model_size"])
        unique = log[["code"]].drop_duplicates()
    if optimizer != "motpe":  # Optuna's TPE may propose a configuration again; the others never do
        assert len(unique) == len(log)
    assert (log["hv_regret"].diff().dropna() <= 1e-12).all()
    if family == "nb201":  # FCNet's exact front spans a tiny loss range: short searches stay outside its HV box
        assert log["hv_regret"].iloc[-1] < log["hv_regret"].iloc[0]


@pytest.mark.parametrize("optimizer", ["nsga2", "linas"])
def test_a_chunk_of_seeds_in_one_process_repeats_the_single_runs(
    runs: dict[tuple[str, str], Path], tables: Path, tmp_path: Path, optimizer: str
) -> None:
    """``run-chunk`` searches seeds one after another in one process: no state leaks between them."""
    task, objectives = TASKS["nb201"]
    cmd = [*NASHPO, "--data-dir", str(tables), "run-chunk", "--optimizer", optimizer, "--dataset", task, "--seeds", f"{SEED - 1}-{SEED}"]
    cmd += ["--max-evals", str(EVALS["nb201", optimizer]), "--objectives", objectives]
    cmd += ["--runs-dir", str(tmp_path / "runs"), "--manifest", str(tmp_path / "runs" / "manifest.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    chunk = trials(tmp_path / "runs" / str(SEED)).drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(chunk, trials(runs["nb201", optimizer]).drop(columns=list(TIMING_COLUMNS)))


@pytest.mark.parametrize("family", ["nb201", "hpolib"])
def test_nsga2_population_evolves(runs: dict[tuple[str, str], Path], tables: Path, family: str) -> None:
    """Generation 0 is the random initial population; every later population is NSGA-II's survival
    from the previous one plus that generation's offspring, and its hypervolume beats the random
    initial population's. NB201: HV normalised by the true front (``nashpo.pareto``); FCNet, whose
    exact front spans too small a loss range for a short search to enter its HV box: HV of each
    objective's quantile among all 62,208 configurations (reference point 1.1)."""
    run = runs[family, "nsga2"]
    log = trials(run)
    code = "arch_code" if family == "nb201" else "code"
    gens = json.loads((run / "optimizer" / "nsga2_generations.json").read_text())["generations"]
    pop = get_optimizer_class("nsga2").defaults["pop_size"]
    assert len(gens) == EVALS[family, "nsga2"] // pop
    assert (log["origin"][:pop] == "random").all() and (log["origin"][pop:] == "offspring").all()
    task, spec = TASKS[family]
    objs = parse_objectives(family, spec)
    columns = [o.column for o in objs]
    values = log.set_index(code)[columns]
    for g, gen in enumerate(gens):
        assert len(gen["codes"]) == pop
        np.testing.assert_array_equal(np.array(gen["F"]), values.loc[gen["codes"]].to_numpy())  # told values, as logged
        offspring = set(log[code][g * pop : (g + 1) * pop])
        allowed = offspring | (set(gens[g - 1]["codes"]) if g else set())
        assert set(gen["codes"]) <= allowed
    if family == "nb201":
        front = true_front(family, task, objs, data_dir=tables)
        hv = [hypervolume(np.array(gen["F"]), front) for gen in gens]
    else:
        table = np.sort(objective_matrix(family, task, objs, data_dir=tables), axis=0)
        quantiles = [np.column_stack([np.searchsorted(table[:, j], np.array(g["F"])[:, j]) / len(table) for j in range(2)]) for g in gens]
        hv = [float(moocore.hypervolume(q, ref=[1.1, 1.1])) for q in quantiles]
    assert np.mean(hv[1:]) > hv[0] and hv[-1] > hv[0]


@pytest.mark.parametrize("family", ["nb201", "hpolib"])
def test_linas_validates_only_the_predicted_front(runs: dict[tuple[str, str], Path], family: str) -> None:
    run = runs[family, "linas"]
    log = trials(run)
    code = "arch_code" if family == "nb201" else "code"
    hp = get_optimizer_class("linas").defaults
    record = json.loads((run / "optimizer" / "linas_predictor.json").read_text())
    its = record["iterations"]
    assert (log["origin"][: hp["n_initial"]] == "random").all()
    assert set(log["origin"][hp["n_initial"] :]) == {"predicted_front"}
    validated = []
    for it in its:
        candidates, predicted = it["candidates"], np.array(it["predicted"])
        assert set(it["validated"]) <= set(candidates) and 0 < len(it["validated"]) <= hp["n_validate"]
        assert not set(candidates) & set(log[code][: it["n_train"]])  # candidates are never validated ones
        front = {c for c, nd in zip(candidates, non_dominated(predicted), strict=True) if nd}
        assert set(it["validated"]) <= front  # no other candidate dominates a validated one by prediction
        assert it["fit_seconds"] > 0 and it["predict_seconds"] > 0 and it["n_predicted"] >= hp["pop_size"] * hp["n_generations"]
        validated += it["validated"]
    # the log after the random start is exactly the predicted-front picks, iteration by iteration
    assert log[code][hp["n_initial"] :].tolist() == validated[: len(log) - hp["n_initial"]]
    assert record["median_fit_predict_seconds"] > 0 and record["n_iterations"] == len(its)
    if family == "nb201":  # the latency predictor ranks the validated candidates as the table does
        real = log.set_index(code)["latency_pixel3"]
        pred = [
            (p[1], real[c])
            for it in its
            for c, p in zip(it["candidates"], it["predicted"], strict=True)
            if c in it["validated"] and c in real.index
        ]
        assert spearmanr(*zip(*pred, strict=True))[0] > 0.6


@pytest.mark.parametrize("family", ["nb201", "hpolib"])
def test_parego_draws_new_weights_for_every_model_based_trial(runs: dict[tuple[str, str], Path], family: str) -> None:
    run = runs[family, "parego"]
    log = trials(run)
    weights = json.loads((run / "optimizer" / "parego_weights.json").read_text())["trials"]
    assert [w["origin"] for w in weights] == log["origin"].tolist()
    n_init = get_optimizer_class("parego").defaults["n_initial_designs"]
    assert all(w["theta"] is None for w in weights[:n_init])
    thetas = [tuple(w["theta"]) for w in weights if w["theta"] is not None]
    assert len(thetas) >= 5 and len(set(thetas)) == len(thetas)  # one new weight vector per trial
    assert all(abs(sum(t) - 1) < 1e-6 and min(t) >= 0 for t in thetas)
    # SMAC holds both objectives of every trial, as the runner told them
    history = json.loads(next((run / "optimizer").glob("parego_seed*/*/runhistory.json")).read_text())
    costs = np.array([t["cost"] for t in history["data"]])
    columns = [o.column for o in parse_objectives(family, TASKS[family][1])]
    np.testing.assert_allclose(costs, log[columns].to_numpy(), rtol=1e-12)


def test_mo_smac_mf_runs_hyperband_rungs_on_the_fidelities(runs: dict[tuple[str, str], Path]) -> None:
    run = runs["nb201", "mo_smac_mf"]
    log = trials(run)
    history = json.loads(next((run / "optimizer").glob("mo_smac_mf_seed*/*/runhistory.json")).read_text())
    assert [round(t["budget"]) for t in history["data"]] == log["epochs"].tolist()
    low, high = (log["epochs"] == 12).sum(), (log["epochs"] == 200).sum()
    assert low > high > 0  # Hyperband: many cheap trials, few at the full budget
    promoted = set(log["arch_code"][log["epochs"] == 12]) & set(log["arch_code"][log["epochs"] == 200])
    assert promoted  # successive halving moved configurations up from 12 to 200 epochs
    # a promoted configuration is on the non-dominated set of its rung: the 12-epoch trials just before
    epochs, checked = log["epochs"].to_numpy(), 0
    for i in np.flatnonzero(epochs == 200):
        end = i
        while end > 0 and epochs[end - 1] == 200:
            end -= 1
        start = end
        while start > 0 and epochs[start - 1] == 12:
            start -= 1
        rung = log.iloc[start:end]
        code = log["arch_code"].iloc[i]
        if code in set(rung["arch_code"]):
            on_front = non_dominated(rung[["valid_error", "latency_pixel3"]].to_numpy())
            assert on_front[rung["arch_code"].tolist().index(code)] and not on_front.all()
            checked += 1
    assert checked == len(promoted)
    weights = json.loads((run / "optimizer" / "parego_weights.json").read_text())["trials"]
    thetas = [tuple(w["theta"]) for w in weights if w["theta"] is not None]
    assert len(thetas) >= 2 and len(set(thetas)) == len(thetas)  # new ParEGO weights for every model-based trial


def test_motpe_beats_random_search_on_average(tables: Path, tmp_path: Path) -> None:
    """Final HV regret after 60 trials, mean over 5 seeds: MOTPE below multi-objective random search."""
    regret = {}
    for name in ("motpe", "mo_rs"):
        regret[name] = np.mean(
            [
                run_search(
                    name,
                    "cifar10",
                    seed,
                    Budget(max_evals=60),
                    tmp_path / f"{name}{seed}",
                    data_dir=tables,
                    progress=None,
                    objectives=["valid_error", "latency:pixel3"],
                )["hv_regret"]
                for seed in range(5)
            ]
        )
    assert regret["motpe"] < regret["mo_rs"]
    log = trials(tmp_path / "motpe0")
    n_startup = get_optimizer_class("motpe").defaults["n_startup_trials"]
    assert (log["origin"][:n_startup] == "random").all() and (log["origin"][n_startup:] == "motpe").all()


@pytest.mark.parametrize(
    ("name", "hp", "field"),
    [
        ("nsga2", {"pop_size": 1}, "nsga2.pop_size"),
        ("nsga2", {"mutation_rate": 1.5}, "nsga2.mutation_rate"),
        ("linas", {"predictor": "xgboost"}, "linas.predictor"),
        ("linas", {"n_validate": 0}, "linas.n_validate"),
        ("parego", {"rho": 0.0}, "parego.rho"),
        ("parego", {"retrain_after": "1"}, "parego.retrain_after"),
        ("motpe", {"n_startup_trials": 0}, "motpe.n_startup_trials"),
        ("mo_smac_mf", {"eta": 3}, "mo_smac_mf.eta"),  # with 12 and 200 epochs every rung lands on 200
        ("mo_smac_mf", {"eta": "3"}, "mo_smac_mf.eta"),
        ("parego", {"random_design_probability": 1.5}, "parego.random_design_probability"),
    ],
)
def test_bad_hyperparameters_one_line_nothing_left(tables: Path, tmp_path: Path, name: str, hp: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        run_search(
            name,
            "cifar10",
            0,
            Budget(max_evals=5),
            tmp_path / "out",
            hyperparameters=hp,
            data_dir=tables,
            progress=None,
            objectives=["valid_error", "latency:pixel3"],
        )
    assert err.value.field == field and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_mo_smac_mf_is_refused_on_a_family_without_fidelities(tables: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        run_search(
            "mo_smac_mf",
            "naval_propulsion",
            0,
            Budget(max_evals=5),
            tmp_path / "out",
            data_dir=tables,
            progress=None,
            benchmark="hpolib",
            objectives=["valid_loss", "model_size"],
        )
    assert err.value.field == "optimizer" and "multi-fidelity" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_deepcave_reads_smacs_own_parego_folder_with_both_objectives(runs: dict[tuple[str, str], Path]) -> None:
    """SMAC's run folder of a ParEGO search is a DeepCAVE run as is: both objectives, every trial."""
    from deepcave.runs.converters.smac3v2 import SMAC3v2Run

    run = runs["nb201", "parego"]
    deepcave_run = SMAC3v2Run.from_path(next((run / "optimizer").glob("parego_seed*/*")))
    assert [o.name for o in deepcave_run.get_objectives()][:2] == ["valid_error", "latency_pixel3"]
    log = trials(run)
    assert len(deepcave_run.history) == len(log)
    costs = np.array([trial.costs[:2] for trial in deepcave_run.history])
    np.testing.assert_allclose(costs, log[["valid_error", "latency_pixel3"]].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("key", sorted(EVALS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_deepcave_pareto_front_plugin_on_every_adapters_export(
    runs: dict[tuple[str, str], Path], key: tuple[str, str], tmp_path: Path
) -> None:
    """DeepCAVE's own Pareto Front plugin, on the export of each adapter's run, marks exactly the
    run's non-dominated set (multi-fidelity: at the highest budget, as the run's front)."""
    from nashpo.export.deepcave import load_export, trials_to_deepcave
    from nashpo.export.plugins import run_plugin

    run_dir = runs[key]
    trials_to_deepcave(run_dir, tmp_path / "dc")
    run = load_export(tmp_path / "dc")
    rec = json.loads((run_dir / "run.json").read_text())
    columns = [o["column"] for o in rec["objectives"]]
    assert [o.name for o in run.get_objectives()] == [*columns, "Time"]
    code_of = {trial.config_id: int(trial.additional["code" if key[0] != "nb201" else "arch_code"]) for trial in run.history}
    pareto = run_plugin("pareto_front", run)
    shown = [c for c, keep in zip(pareto.outputs["config_ids"], pareto.outputs["pareto_points"], strict=True) if keep]
    assert sorted(code_of[c] for c in shown) == sorted(f["code"] for f in rec["final_front"])
    points = sorted(tuple(p) for p, keep in zip(pareto.outputs["points_avg"], pareto.outputs["pareto_points"], strict=True) if keep)
    np.testing.assert_allclose(points, sorted(tuple(f[c] for c in columns) for f in rec["final_front"]), rtol=1e-9)
