"""The default study's trial logs stay what they were: a sample of the checksum manifest rerun here.

``tests/golden/default_study_triallogs.csv`` holds the digest (``nashpo.triallog.log_digest``, every
column but ``opt_time``) of every trial log of the default study, written by
``python benchmarks/triallog_manifest.py write results tests/golden/default_study_triallogs.csv`` and
checked against a whole study with ``... check``. This test reruns a sample of those searches (every
family, single- and multi-objective, every optimizer kind) from the settings the manifest records.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nashpo.runner import Budget, run_search
from nashpo.triallog import log_digest, one_worker_clock, read_record, read_trials

MANIFEST = Path(__file__).parent / "golden" / "default_study_triallogs.csv"
KEY = ("family", "task", "objectives", "optimizer", "seed")
# Model-based searches whose floating-point path depends on the CPU (SMAC's random forest: the golden
# cifar10 log has 103 trials where it was written and 101 on an AMD EPYC machine) are checked by the
# whole-study `check` on one machine, not here: this sample holds on any machine.
SAMPLE = [
    ("nb201", "cifar10", "valid_error", "rs", "0"),
    ("nb201", "cifar10", "valid_error", "re", "13"),
    ("nb201", "cifar100", "valid_error", "reinforce", "4"),
    ("nb201", "ImageNet16-120", "valid_error", "tpe", "7"),
    ("hpolib", "naval_propulsion", "valid_loss", "tpe", "3"),
    ("hpobench", "car", "valid_error", "re", "6"),
    ("hpobench", "phoneme", "valid_error", "reinforce", "0"),
    ("nb201", "cifar10", "valid_error+latency_pixel3", "nsga2", "2"),
    ("nb201", "ImageNet16-120", "valid_error+latency_raspi4", "motpe", "1"),
    ("hpolib", "parkinsons_telemonitoring", "valid_loss+model_size", "mo_rs", "8"),
]


def manifest() -> dict[tuple[str, ...], dict[str, str]]:
    with open(MANIFEST, newline="") as fh:
        return {tuple(row[k] for k in KEY): row for row in csv.DictReader(fh)}


def test_manifest_covers_the_default_study() -> None:
    rows = manifest()
    frame = pd.DataFrame(rows.values())
    per_task = frame.groupby(["family", "objectives"]).size().to_dict()
    # NB201: 3 datasets x 7 optimizers x 20 seeds; FCNet 4 tasks and MLP 8 tasks x 5 single-fidelity
    # optimizers x 10 seeds; MO: 3 datasets x 4 devices and 4 FCNet tasks x 4 optimizers x 10 seeds.
    assert per_task[("nb201", "valid_error")] == 3 * 7 * 20
    assert per_task[("hpolib", "valid_loss")] == 4 * 5 * 10
    assert per_task[("hpobench", "valid_error")] == 8 * 5 * 10
    assert per_task[("hpolib", "valid_loss+model_size")] == 4 * 4 * 10
    assert sum(v for (f, o), v in per_task.items() if f == "nb201" and "+" in o) == 3 * 4 * 4 * 10
    assert len(rows) == 420 + 200 + 400 + 160 + 480
    assert all(len(r["digest"]) == 64 for r in rows.values())


@pytest.mark.parametrize("key", SAMPLE, ids=["/".join(k) for k in SAMPLE])
def test_search_reproduces_its_manifest_digest(key: tuple[str, ...], nashpo_env: dict[str, str], tmp_path: Path) -> None:
    """`nashpo run` as the workflow runs it (a fresh process, PYTHONHASHSEED=0: SMAC needs it)."""
    row = manifest()[key]
    family, task, _, optimizer, seed = key
    budget = json.loads(row["budget"])
    argv = [sys.executable, "-m", "nashpo", "run", "--benchmark", family, "--task", task, "--optimizer", optimizer, "--seed", seed]
    argv += ["--protocol", row["protocol"], "--noise", row["noise"], "--hp", row["hyperparameters"], "--out", str(tmp_path / "run")]
    argv += [arg for name, value in budget.items() if value is not None for arg in (f"--{name.replace('_', '-')}", repr(value))]
    if row["objective_specs"]:
        argv += ["--objectives", row["objective_specs"]]
    res = subprocess.run(argv, capture_output=True, text=True, env=nashpo_env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    record = read_record(tmp_path / "run")
    assert record["n_trials"] == int(row["n_trials"])
    assert repr(float(record["sim_time"])) == row["sim_time"]
    trials = read_trials(tmp_path / "run")
    assert log_digest(trials) == row["digest"]
    assert one_worker_clock(trials)  # the columns added with parallel workers, which the digest skips


def test_digest_ignores_timing_and_sees_values(data_dir: Path, tmp_path: Path) -> None:
    run_search("rs", "cifar10", 0, Budget(max_evals=20), tmp_path / "run", data_dir=data_dir, progress=None)
    trials = read_trials(tmp_path / "run")
    before = log_digest(trials)
    assert log_digest(trials.assign(opt_time=trials["opt_time"] * 2)) == before
    changed = trials.copy()
    changed.loc[3, "valid_acc"] = changed.loc[3, "valid_acc"] + 1e-9
    assert log_digest(changed) != before
    assert log_digest(trials.rename(columns={"valid_acc": "val_acc"})) != before
    assert one_worker_clock(trials)
    assert not one_worker_clock(trials.assign(worker=trials["worker"].where(trials.index != 5, 1)))
    shifted = trials.copy()
    shifted.loc[7, "start_time"] = shifted.loc[7, "start_time"] - 1.0
    assert not one_worker_clock(shifted)
