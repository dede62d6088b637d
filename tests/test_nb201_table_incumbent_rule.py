"""NB201 table: the incumbent rules (budget, paper, crossing) on searches whose crossing trial is known."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nashpo.analysis.nb201_table import incumbents, nb201_table
from nashpo.errors import InputError
from nashpo.runner import Budget
from nashpo.runner.chunk import run_chunk

# cifar10, proxy, 600 simulated s: (optimizer, seed) -> (incumbent over the counted trials, crossing trial, whether it wins)
KNOWN = {
    ("reinforce", 0): (10086, 2644, False),  # 83.190 vs 48.946
    ("reinforce", 2): (14161, 5960, True),  # 77.516 vs 79.826
    ("reinforce", 3): (13415, 2321, True),  # 77.792 vs 78.278
    ("rs", 0): (12028, 9931, False),  # 80.926 vs 71.428
    ("rs", 4): (4433, 11033, True),  # 81.946 vs 84.306
}


@pytest.fixture(scope="module")
def runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crossing")
    for optimizer in ("reinforce", "rs"):
        seeds = sorted(s for o, s in KNOWN if o == optimizer)
        run_chunk(
            optimizer,
            "cifar10",
            seeds,
            Budget(max_sim_seconds=600),
            root / optimizer,
            root / f"{optimizer}.json",
            data_dir=data_dir,
            progress=None,
        )
    return root


def folders(runs: Path) -> list[Path]:
    return sorted(p for p in runs.glob("*/*") if p.is_dir())


def codes(frame: pd.DataFrame) -> dict[tuple[str, int], tuple[int, bool]]:
    return {(r.optimizer, r.seed): (r.arch_code, r.crossing_trial) for r in frame.itertuples()}


def test_the_stop_record_holds_the_known_crossing_trials(runs: Path) -> None:
    for (optimizer, seed), (inc, crossing, _) in KNOWN.items():
        rec = json.loads((runs / optimizer / str(seed) / "run.json").read_text())
        assert (rec["incumbent"]["arch_code"], rec["stop"]["arch_code"]) == (inc, crossing)


def test_budget_paper_and_crossing_rules(runs: Path) -> None:
    budget = codes(incumbents(folders(runs)))
    assert budget == {k: (inc, False) for k, (inc, _, _) in KNOWN.items()}
    # paper: reinforce.py keeps the crossing trial in its trace; RANDOM.py drops it (rs keeps the budget rule)
    paper = codes(incumbents(folders(runs), "paper"))
    assert paper == {
        ("reinforce", 0): (10086, False),
        ("reinforce", 2): (5960, True),
        ("reinforce", 3): (2321, True),
        ("rs", 0): (12028, False),
        ("rs", 4): (4433, False),
    }
    crossing = codes(incumbents(folders(runs), "crossing"))
    assert crossing == {k: ((crossing_code, True) if wins else (inc, False)) for k, (inc, crossing_code, wins) in KNOWN.items()}


def test_table_under_the_paper_rule(runs: Path, data_dir: Path, tmp_path: Path) -> None:
    nb201_table([runs / "reinforce.json", runs / "rs.json"], tmp_path, data_dir, incumbent_rule="paper")
    per_run = pd.read_csv(tmp_path / "nb201_table_runs.csv")
    assert set(per_run["incumbent_rule"]) == {"paper"} and per_run["crossing_trial"].sum() == 2
    assert "trial that crossed the budget" in (tmp_path / "nb201_table.md").read_text()


def test_a_stop_record_without_the_crossing_trial_is_refused_for_the_paper_rule(runs: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    rec = json.loads((runs / "reinforce" / "2" / "run.json").read_text())
    rec["stop"] = {k: rec["stop"][k] for k in ("reason", "epochs", "cost", "would_end_at")}  # run.json before the crossing trial was kept
    (old / "run.json").write_text(json.dumps(rec))
    assert codes(incumbents([old])) == {("reinforce", 2): (14161, False)}  # the budget rule needs nothing new
    with pytest.raises(InputError) as err:
        incumbents([old], "paper")
    assert err.value.field == "runs" and str(old) in str(err.value) and "stop lacks the crossing trial" in str(err.value)
    rec["optimizer"] = "rs"
    (old / "run.json").write_text(json.dumps(rec))
    assert codes(incumbents([old], "paper")) == {("rs", 2): (14161, False)}  # rs never reads it under the paper rule


def test_an_evaluation_budget_has_no_crossing_trial(data_dir: Path, tmp_path: Path) -> None:
    run_chunk("reinforce", "cifar10", [2], Budget(max_evals=4), tmp_path / "runs", tmp_path / "m.json", data_dir=data_dir, progress=None)
    assert codes(incumbents([tmp_path / "runs" / "2"], "crossing")) == {("reinforce", 2): (14161, False)}


def test_cli_refuses_an_unknown_rule(runs: Path, data_dir: Path, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "nashpo", "--data-dir", str(data_dir), "analysis", "nb201-table", "--runs", str(runs / "rs.json")]
    done = subprocess.run([*args, "--out", str(tmp_path / "t"), "--incumbent-rule", "best"], capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and "incumbent_rule='best'" in lines[0] and "budget, paper, crossing" in lines[0]
    assert not (tmp_path / "t").exists()
