"""Multi-objective core: objectives, exact fronts and hypervolume, the runner's MO path, mo_rs, CLI, DeepCAVE."""

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

from nashpo.benchmarks.nb201 import HELP_DEVICES
from nashpo.errors import InputError
from nashpo.objectives import objective_matrix, objective_set_name, parse_objectives
from nashpo.pareto import REF, front_from_matrix, hv_regret, hypervolume, igd_plus, true_front
from nashpo.runner import Budget, run_search
from nashpo.triallog import SCHEMA, TIMING_COLUMNS

NASHPO = (sys.executable, "-m", "nashpo")
GOLDEN = Path(__file__).parent / "golden"
PIXEL3 = ["valid_error", "latency:pixel3"]


def brute_force_front(values: np.ndarray) -> np.ndarray:
    """Codes of the non-dominated rows of a 2-objective matrix by a plain sweep (no moocore):
    sorted by the first objective (then the second), a row is on the front iff its second value
    is below every second value before it, or equals the last front point's values."""
    order = np.lexsort((values[:, 1], values[:, 0]))
    out: list[int] = []
    best = np.inf
    for i in order.tolist():
        y = values[i, 1]
        if y < best:
            out.append(i)
            best = y
        elif out and (values[out[-1]] == values[i]).all():
            out.append(i)  # equal values: weakly non-dominated, kept
    return np.array(out)


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nashpo.benchmarks import get_family
    from nashpo.data.shb import prepare_grid

    out = tmp_path_factory.mktemp("mo_grid_tables")
    with open(os.devnull, "w") as log:
        prepare_grid(get_family("hpolib"), ["naval_propulsion"], out, log=log)  # type: ignore[arg-type]
        prepare_grid(get_family("hpobench"), ["car"], out, log=log)  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="module")
def cifar10(data_dir: Path):
    from nashpo.benchmarks.nb201 import NB201Benchmark

    return NB201Benchmark("cifar10", data_dir)


# ------------------------------------------------------------------ objectives


def test_objective_specs_per_family() -> None:
    objs = parse_objectives("nb201", "valid_error,latency:raspi4")
    assert [(o.spec, o.column, o.unit) for o in objs] == [("valid_error", "valid_error", "%"), ("latency:raspi4", "latency_raspi4", "ms")]
    assert objective_set_name(objs) == "valid_error+latency_raspi4"
    assert parse_objectives("nb201", ["valid_error", "params"])[1].metric == "params_mb"
    assert parse_objectives("nb201", ["valid_error", "latency"])[1].value(0.0123) == pytest.approx(12.3)
    assert [o.column for o in parse_objectives("hpolib", "valid_loss,model_size")] == ["valid_loss", "model_size"]
    assert parse_objectives("hpobench", "valid_error")[0].value(0.75) == pytest.approx(0.25)
    assert len(HELP_DEVICES) == 27


@pytest.mark.parametrize(
    ("family", "spec", "message"),
    [
        (
            "nb201",
            "valid_error,latency:pixel9",
            "objectives='latency:pixel9': unknown for nb201; choose from valid_error, latency, params, latency:1080ti_1",
        ),
        ("nb201", "valid_error,flops", "objectives='flops': unknown for nb201; choose from"),
        ("hpolib", "valid_loss,latency:pixel3", "objectives='latency:pixel3': unknown for hpolib; choose from valid_loss, model_size"),
        ("nb201", "latency:pixel3,valid_error", "the first objective must be the error objective valid_error"),
        (
            "nb201",
            "valid_error,params,latency,latency:pixel3,latency:raspi4,latency:titan_rtx_1,latency:gold_6226",
            "names 7 objectives; at most 6 are supported",
        ),
        ("nb201", "valid_error,valid_error", "names valid_error twice"),
    ],
)
def test_bad_objectives_name_the_field_and_list_the_choices(family: str, spec: str, message: str) -> None:
    with pytest.raises(InputError, match="^objectives=") as err:
        parse_objectives(family, spec)
    assert message in str(err.value)
    if "unknown for nb201" in message:
        assert all(f"latency:{d}" in str(err.value) for d in HELP_DEVICES)


def test_objective_matrix_is_the_table(cifar10, grid_dir: Path) -> None:
    cols = cifar10.table.columns
    m = objective_matrix("nb201", cifar10, parse_objectives("nb201", PIXEL3))
    assert m.shape == (15625, 2)
    np.testing.assert_array_equal(m[:, 0], 100.0 - cols["valid_acc@12"])
    np.testing.assert_array_equal(m[:, 1], cols["latency_ms:pixel3"])
    m200 = objective_matrix("nb201", cifar10, parse_objectives("nb201", "valid_error,latency"), 200)
    np.testing.assert_array_equal(m200[:, 0], 100.0 - cols["valid_acc@200"])
    np.testing.assert_allclose(m200[:, 1], cols["latency_s"] * 1000)
    task = "naval_propulsion"
    from nashpo.benchmarks import get_family

    table = get_family("hpolib").open(task, grid_dir)
    fc = objective_matrix("hpolib", table, parse_objectives("hpolib", "valid_loss,model_size"))
    np.testing.assert_array_equal(fc, np.column_stack([table.columns["val_loss"], table.columns["model_size"]]))
    with pytest.raises(InputError, match="^fidelity=12: hpolib holds final values only"):
        objective_matrix("hpolib", table, parse_objectives("hpolib", "valid_loss,model_size"), 12)


# ------------------------------------------------------------------ fronts and hypervolume


def test_hand_checked_front() -> None:
    values = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [1.0, 1.0], [0.75, 0.75]])  # last two dominated
    front = front_from_matrix(values)
    assert front.codes.tolist() == [2, 1, 0]
    np.testing.assert_array_equal(front.ideal, [0, 0])
    np.testing.assert_array_equal(front.nadir, [1, 1])
    # normalised = raw here; slabs against (1.1, 1.1): 0.5*0.1 + 0.5*0.6 + 0.1*1.1
    assert front.hv == pytest.approx(0.46, abs=1e-12)
    assert hypervolume(values, front) == pytest.approx(0.46, abs=1e-12)
    assert hypervolume([[0.5, 0.5]], front) == pytest.approx(0.36, abs=1e-12)
    assert hypervolume([[0.5, 0.5], [0.75, 0.75]], front) == pytest.approx(0.36, abs=1e-12)  # a dominated point adds nothing
    assert hypervolume([[2.0, 0.0]], front) == 0.0  # beyond the reference point
    assert hv_regret([[0.5, 0.5]], front) == pytest.approx(0.10, abs=1e-12)
    assert igd_plus(front.points, front) == 0.0
    # IGD+ of {(0.5, 0.5)}: to (0,1): max(0.5,0)=0.5; to (0.5,0.5): 0; to (1,0): 0.5 -> mean 1/3
    assert igd_plus([[0.5, 0.5]], front) == pytest.approx(1 / 3, abs=1e-12)


@pytest.mark.parametrize("spec", [PIXEL3, ["valid_error", "latency:fpga"], ["valid_error", "params"]])
@pytest.mark.parametrize("fidelity", [12, 200])
def test_true_front_is_the_nondominated_set_of_all_configurations(cifar10, spec: list[str], fidelity: int) -> None:
    objs = parse_objectives("nb201", spec)
    values = objective_matrix("nb201", cifar10, objs, fidelity)
    front = true_front("nb201", cifar10, objs, fidelity)
    want = brute_force_front(values)
    assert front.codes.tolist() == want.tolist()
    np.testing.assert_array_equal(front.points, values[want])
    np.testing.assert_array_equal(front.ideal, values[want].min(axis=0))
    np.testing.assert_array_equal(front.nadir, values[want].max(axis=0))
    assert hv_regret(front.points, front) == 0.0
    assert hv_regret(values, front) == pytest.approx(0.0, abs=1e-12)  # everything else is dominated
    assert igd_plus(front.points, front) == 0.0
    assert 2 * (REF - 1) * REF - (REF - 1) ** 2 < front.hv < REF**2  # the two extreme points alone, the whole box
    # a dominated configuration adds nothing; dropping a front point loses HV
    dominated = np.setdiff1d(np.arange(len(values)), front.codes)[0]
    assert hypervolume(values[[*front.codes, dominated]], front) == front.hv
    assert hv_regret(front.points[1:], front) > 0


def test_grid_family_front(grid_dir: Path) -> None:
    from nashpo.benchmarks import get_family

    table = get_family("hpolib").open("naval_propulsion", grid_dir)
    objs = parse_objectives("hpolib", "valid_loss,model_size")
    values = objective_matrix("hpolib", table, objs)
    front = true_front("hpolib", table, objs)
    assert front.fidelity is None
    assert front.codes.tolist() == brute_force_front(values).tolist()
    assert moocore.is_nondominated(values[front.codes]).all()


# ------------------------------------------------------------------ runner


def independent_hv_regret(points: np.ndarray, front) -> float:
    keep = brute_force_front(points)
    z = (points[keep] - front.ideal) / (front.nadir - front.ideal)
    return front.hv - float(moocore.hypervolume(z, ref=[REF, REF]))


@pytest.fixture(scope="module")
def nb201_mo_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mo") / "mo_rs"
    run_search("mo_rs", "cifar10", 0, Budget(max_sim_seconds=12000), out, data_dir=data_dir, progress=None, objectives=PIXEL3)
    return out


def test_nb201_mo_run(nb201_mo_run: Path, cifar10) -> None:
    log = pd.read_parquet(nb201_mo_run / "trials.parquet")
    rec = json.loads((nb201_mo_run / "run.json").read_text())
    assert list(log.columns) == [*SCHEMA.names, "valid_error", "latency_pixel3", "hv_regret", "hv_regret_final", "front_size"]
    # mo_rs samples exactly as rs, and the loop is the single-objective one: the rs golden log, plus objectives
    golden = pd.read_csv(GOLDEN / "nb201_cifar10_seed0_rs.csv", keep_default_na=False, na_values=[""], float_precision="round_trip")
    assert len(log) == len(golden) == rec["n_trials"]
    for col in golden.columns:
        if col not in ("optimizer", *TIMING_COLUMNS):
            assert log[col].astype(str).tolist() == golden[col].astype(str).tolist(), col
    cols = cifar10.table.columns
    codes = log["arch_code"].to_numpy()
    np.testing.assert_array_equal(log["valid_error"], 100.0 - cols["valid_acc@12"][codes])
    np.testing.assert_array_equal(log["latency_pixel3"], cols["latency_ms:pixel3"][codes])
    assert log["sim_time"].iloc[-1] <= 12000 < rec["stop"]["would_end_at"]
    # hv_regret after every trial, recomputed independently from the trials so far
    objs = parse_objectives("nb201", PIXEL3)
    ref, final = true_front("nb201", cifar10, objs, 12), true_front("nb201", cifar10, objs, 200)
    pts = log[["valid_error", "latency_pixel3"]].to_numpy()
    final_values = objective_matrix("nb201", cifar10, objs, 200)
    for i in (0, 5, 30, len(log) - 1):
        assert log["hv_regret"].iloc[i] == pytest.approx(independent_hv_regret(pts[: i + 1], ref), abs=1e-12)
        chosen = codes[brute_force_front(pts[: i + 1])]
        assert log["front_size"].iloc[i] == len(chosen)
        z = (final_values[chosen] - final.ideal) / (final.nadir - final.ideal)
        assert log["hv_regret_final"].iloc[i] == pytest.approx(final.hv - moocore.hypervolume(z, ref=[REF, REF]), abs=1e-12)
    assert (np.diff(log["hv_regret"]) <= 0).all() and log["hv_regret"].iloc[-1] > 0
    # run record
    assert rec["multi_objective"] is True and rec["reference_point"] == REF
    assert [(o["name"], o["column"], o["unit"], o["optimize"]) for o in rec["objectives"]] == [
        ("valid_error", "valid_error", "%", "lower"),
        ("latency:pixel3", "latency_pixel3", "ms", "lower"),
    ]
    assert rec["front"] == {"ideal": ref.ideal.tolist(), "nadir": ref.nadir.tolist(), "hv": ref.hv, "fidelity": 12, "size": len(ref.codes)}
    assert rec["final_true_front"]["fidelity"] == 200
    last = brute_force_front(pts)
    assert sorted(f["code"] for f in rec["final_front"]) == sorted(codes[last].tolist())
    assert {(f["valid_error"], f["latency_pixel3"]) for f in rec["final_front"]} == {tuple(p) for p in pts[last].tolist()}
    assert rec["hv_regret"] == log["hv_regret"].iloc[-1] and rec["hv_regret_final"] == log["hv_regret_final"].iloc[-1]
    assert rec["igd_plus"] == pytest.approx(moocore.igd_plus(ref.normalise(pts[last]), ref=ref.normalise(ref.points)))
    assert rec["incumbent"]["arch_code"] == log["inc_arch_code"].iloc[-1]  # single-objective incumbent kept for contrast


def test_mo_rs_keeps_the_nondominated_set(data_dir: Path, tmp_path: Path) -> None:
    from nashpo.benchmarks.nb201 import NB201Benchmark
    from nashpo.optimizers.base import TrialValue
    from nashpo.optimizers.mo_rs import MORandomSearch
    from nashpo.space import config_to_code

    bench = NB201Benchmark("cifar10", data_dir)
    opt = MORandomSearch(bench.space(3), 3, [12], tmp_path, objectives=("valid_error", "latency_pixel3"))
    values = objective_matrix("nb201", bench, parse_objectives("nb201", PIXEL3))
    seen = []
    for _ in range(60):
        info = opt.ask()
        code = config_to_code(info.config)
        c = tuple(values[code].tolist())
        opt.tell(info, TrialValue(cost=c[0], time=1.0, costs=c))
        seen.append(code)
    pts = values[seen]
    want = {seen[i] for i in brute_force_front(pts)}
    assert {config_to_code(cfg) for cfg, _ in opt.front} == want
    assert opt.multi_objective and "Morales-Hern" in sys.modules[MORandomSearch.__module__].__doc__  # cites the method


def test_fcnet_mo_run(grid_dir: Path, tmp_path: Path) -> None:
    from nashpo.benchmarks import get_family

    rec = run_search(
        "mo_rs", "naval_propulsion", 2, Budget(max_evals=150), tmp_path / "run", data_dir=grid_dir, progress=None,
        benchmark="hpolib", objectives="valid_loss,model_size",
    )  # fmt: skip
    log = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    table = get_family("hpolib").open("naval_propulsion", grid_dir)
    assert len(log) == rec["n_trials"] == 150
    np.testing.assert_array_equal(log["valid_loss"], table.columns["val_loss"][log["code"]])
    np.testing.assert_array_equal(log["model_size"], table.columns["model_size"][log["code"]])
    np.testing.assert_array_equal(log["valid_loss"], log["val_loss"])
    assert (log["hv_regret"] == log["hv_regret_final"]).all()
    front = true_front("hpolib", table, parse_objectives("hpolib", "valid_loss,model_size"))
    pts = log[["valid_loss", "model_size"]].to_numpy()
    assert rec["hv_regret"] == pytest.approx(independent_hv_regret(pts, front), abs=1e-12)
    assert rec["front"]["fidelity"] is None and rec["params"] and rec["oracle"]["metric"] == "val_loss"
    assert log["front_size"].iloc[-1] == len(rec["final_front"]) == len(brute_force_front(pts))
    assert set(log.columns) >= {"inc_regret", "inc_quantile", "n_units_1", "train_time"}


def test_multi_fidelity_mo_run_counts_only_the_highest_fidelity(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nashpo.optimizers

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "plugins"))
    monkeypatch.setattr(nashpo.optimizers, "REGISTRY", dict(nashpo.optimizers.REGISTRY))
    hp = {"class": "nashpo_testopt.mo_fidelities:MORandomTwoFidelities"}
    rec = run_search(
        "mo_mf", "cifar10", 1, Budget(max_sim_seconds=40000), tmp_path / "run", hyperparameters=hp, data_dir=data_dir,
        progress=None, objectives=PIXEL3, noise="seed",
    )  # fmt: skip
    log = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    assert rec["fidelities"] == [12, 200] and rec["front"]["fidelity"] == 200
    assert log["epochs"].tolist()[:4] == [12, 200, 12, 200]
    at12 = log["epochs"] == 12
    # a 12-epoch trial never changes the front; the front is that of the 200-epoch trials so far
    assert log["hv_regret"].iloc[0] == rec["front"]["hv"] and log["front_size"].iloc[0] == 0  # nothing at 200 epochs yet
    changed = log["hv_regret"].diff().fillna(0) != 0
    assert not (changed & at12).any() and changed.sum() >= 2
    top = log[~at12]
    assert log["front_size"].iloc[-1] == len(brute_force_front(top[["valid_error", "latency_pixel3"]].to_numpy()))
    assert (top["bench_seed"] >= 0).all()  # noise=seed: one training seed drawn per 200-epoch query
    assert log["sim_time"].iloc[-1] <= 40000


def test_single_objective_given_is_todays_search(data_dir: Path, tmp_path: Path) -> None:
    a = run_search("rs", "cifar10", 4, Budget(max_evals=30), tmp_path / "a", data_dir=data_dir, progress=None)
    b = run_search("rs", "cifar10", 4, Budget(max_evals=30), tmp_path / "b", data_dir=data_dir, progress=None, objectives=["valid_error"])
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "a" / "trials.parquet").drop(columns=list(TIMING_COLUMNS)),
        pd.read_parquet(tmp_path / "b" / "trials.parquet").drop(columns=list(TIMING_COLUMNS)),
    )
    assert "multi_objective" not in b and a["objectives"] == b["objectives"]


def nashpo(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NASHPO, "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--optimizer", "mo_rs", "--objectives", "valid_error,latency:pixel9"],
            "objectives='latency:pixel9': unknown for nb201; choose from",
        ),
        (["--optimizer", "mo_rs", "--objectives", "valid_error,energy"], "objectives='energy': unknown for nb201"),
        (["--optimizer", "mo_rs", "--objectives", "valid_error"], "optimizer='mo_rs': is multi-objective and needs two --objectives"),
        (["--optimizer", "mo_rs"], "optimizer='mo_rs': is multi-objective and needs two --objectives"),
        (
            ["--optimizer", "re", "--objectives", "valid_error,latency:pixel3"],
            "optimizer='re': is single-objective; with 2 objectives use mo_rs",
        ),
    ],
)
def test_bad_objectives_on_the_command_line(data_dir: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    res = nashpo(data_dir, "run", "--dataset", "cifar10", "--seed", "0", "--max-evals", "5", "--out", str(out), *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nashpo: error: ") and message in lines[0], res.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing left behind


def test_mo_rs_deterministic_across_processes_and_run_chunk(data_dir: Path, tmp_path: Path) -> None:
    budget = ["--max-sim-seconds", "6000", "--objectives", "valid_error,latency:raspi4"]
    for k in ("a", "b"):
        res = nashpo(data_dir, "run", "--optimizer", "mo_rs", "--dataset", "cifar100", "--seed", "7", "--out", str(tmp_path / k), *budget)
        assert res.returncode == 0, res.stderr[-2000:]
        assert "front of" in res.stdout and "hv_regret" in res.stdout
    res = nashpo(
        data_dir, "run-chunk", "--optimizer", "mo_rs", "--dataset", "cifar100", "--seeds", "6-7", "--runs-dir", str(tmp_path / "chunk"),
        "--manifest", str(tmp_path / "chunk" / "seeds_6-7.json"), *budget,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    logs = [
        pd.read_parquet(p / "trials.parquet").drop(columns=list(TIMING_COLUMNS))
        for p in (tmp_path / "a", tmp_path / "b", tmp_path / "chunk" / "7")
    ]
    pd.testing.assert_frame_equal(logs[0], logs[1])
    pd.testing.assert_frame_equal(logs[0], logs[2])
    recs = [json.loads((p / "run.json").read_text()) for p in (tmp_path / "a", tmp_path / "chunk" / "7")]
    for key in ("final_front", "hv_regret", "hv_regret_final", "igd_plus", "front", "objectives"):
        assert recs[0][key] == recs[1][key], key
    manifest = json.loads((tmp_path / "chunk" / "seeds_6-7.json").read_text())
    assert [r["seed"] for r in manifest["runs"]] == [6, 7]
    # bad objectives in a chunk: one line before any seed runs, nothing written
    res = nashpo(
        data_dir, "run-chunk", "--optimizer", "mo_rs", "--dataset", "cifar100", "--seeds", "0-1", "--runs-dir", str(tmp_path / "bad"),
        "--manifest", str(tmp_path / "bad" / "m.json"), "--max-evals", "5", "--objectives", "valid_error,latency:pixel9",
    )  # fmt: skip
    assert res.returncode == 2 and "objectives='latency:pixel9'" in res.stderr and not (tmp_path / "bad").exists()


def test_front_command(data_dir: Path, cifar10) -> None:
    res = nashpo(data_dir, "front", "--dataset", "cifar10", "--objectives", "valid_error,latency:pixel3", "--fidelity", "200")
    assert res.returncode == 0, res.stderr
    front = true_front("nb201", cifar10, parse_objectives("nb201", PIXEL3), 200)
    assert f"{len(front.codes)} configurations on the true front, HV {front.hv:.6g}" in res.stdout
    assert f"ideal: valid_error={front.ideal[0]:.6g} %, latency_pixel3={front.ideal[1]:.6g} ms" in res.stdout
    assert f"nadir: valid_error={front.nadir[0]:.6g} %" in res.stdout
    res = nashpo(data_dir, "front", "--dataset", "cifar10", "--objectives", "valid_error,latency:pixel3", "--json")
    got = json.loads(res.stdout)
    front12 = true_front("nb201", cifar10, parse_objectives("nb201", PIXEL3), 12)
    assert got["fidelity"] == 12 and [p["code"] for p in got["points"]] == front12.codes.tolist()
    res = nashpo(data_dir, "front", "--dataset", "cifar10", "--objectives", "valid_error")
    assert res.returncode == 2 and "a front needs at least two objectives" in res.stderr


# ------------------------------------------------------------------ DeepCAVE


def test_deepcave_export_of_a_mo_run(nb201_mo_run: Path, tmp_path: Path) -> None:
    from nashpo.export.deepcave import load_export, trials_to_deepcave
    from nashpo.export.plugins import run_plugin
    from nashpo.space import config_to_code

    trials_to_deepcave(nb201_mo_run, tmp_path / "dc")
    run = load_export(tmp_path / "dc")
    rec = json.loads((nb201_mo_run / "run.json").read_text())
    log = pd.read_parquet(nb201_mo_run / "trials.parquet")
    objectives = run.get_objectives()
    assert [o.name for o in objectives] == ["valid_error", "latency_pixel3", "Time"]
    assert [(o.lower, o.upper, o.optimize) for o in objectives[:2]] == [(o["lower"], o["upper"], "lower") for o in rec["objectives"]]
    # DeepCAVE's Pareto Front plugin shows exactly the run's non-dominated set
    pareto = run_plugin("pareto_front", run)
    on = [c for c, keep in zip(pareto.outputs["config_ids"], pareto.outputs["pareto_points"], strict=True) if keep]
    assert sorted(config_to_code(dict(run.get_config(c))) for c in on) == sorted(f["code"] for f in rec["final_front"])
    points = sorted(tuple(p) for p, keep in zip(pareto.outputs["points_avg"], pareto.outputs["pareto_points"], strict=True) if keep)
    want = sorted((f["valid_error"], f["latency_pixel3"]) for f in rec["final_front"])
    np.testing.assert_allclose(points, want, rtol=1e-12)
    assert pareto.components
    # Cost over Time for each objective: the running best of that objective over the simulated clock
    unique = log.drop_duplicates(["arch_code", "epochs"], keep="last").sort_values("sim_time")  # DeepCAVE keeps the last
    for objective_id, column in enumerate(("valid_error", "latency_pixel3")):
        cot = run_plugin("cost_over_time", run, objective_id=objective_id).outputs
        best = np.minimum.accumulate(unique[column].to_numpy())
        improved = np.r_[True, best[1:] < best[:-1]]
        assert cot["times"] == pytest.approx(unique["sim_time"].to_numpy()[improved].round(2).tolist(), abs=0.01)
        assert cot["costs_mean"] == pytest.approx(best[improved].tolist())
        assert len(cot["times"]) >= 3
    for name in ("overview", "configurations"):
        assert run_plugin(name, run).components


def test_deepcave_check_cli_on_a_mo_run(nb201_mo_run: Path, tmp_path: Path, data_dir: Path) -> None:
    res = nashpo(data_dir, "to-deepcave", "--from", "trial-log", str(nb201_mo_run), "--out", str(tmp_path / "dc"))
    assert res.returncode == 0, res.stderr
    skip = ["footprint", "symbolic_explanations", "importances_lpi", "importances_fanova", "partial_dependencies", "ablation_paths"]
    res = nashpo(data_dir, "deepcave-check", str(tmp_path / "dc"), "--skip", *skip)
    assert res.returncode == 0, res.stderr[-2000:]
    rec = json.loads((nb201_mo_run / "run.json").read_text())
    lines = {line.split()[0]: line for line in res.stdout.splitlines() if line.startswith("  ")}
    assert f"{len(rec['final_front'])} of " in lines["pareto_front"]
    assert any("latency_pixel3: " in line for line in res.stdout.splitlines() if "cost_over_time" in line)


def test_hpobench_mo_run_with_drawn_seeds(grid_dir: Path, tmp_path: Path) -> None:
    """MLP: valid_error (1 - val_acc) and train_time as observed: one training seed drawn per query."""
    rec = run_search(
        "mo_rs", "car", 0, Budget(max_evals=60), tmp_path / "run", data_dir=grid_dir, progress=None,
        benchmark="hpobench", objectives="valid_error,train_time", noise="seed",
    )  # fmt: skip
    log = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    assert (log["bench_seed"] >= 0).all() and len(log) == 60
    np.testing.assert_array_equal(log["valid_error"], 1.0 - log["val_acc"])
    np.testing.assert_array_equal(log["train_time"], log["cost"])  # the objective is the clock's charge
    from nashpo.benchmarks import get_family

    table = get_family("hpobench").open("car", grid_dir)
    seeded = table.columns["val_acc#seeds"][log["code"].to_numpy(), log["bench_seed"].to_numpy()]
    np.testing.assert_array_equal(log["val_acc"], seeded)
    front = true_front("hpobench", table, parse_objectives("hpobench", "valid_error,train_time"))
    assert rec["hv_regret"] == pytest.approx(front.hv - hypervolume(log[["valid_error", "train_time"]].to_numpy(), front), abs=1e-12)
