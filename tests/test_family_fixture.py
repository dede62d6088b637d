"""A new family is one module plus its registration: the fixture family ``tests/plugins/toygrid.py``
(made-up values, labelled as such) registered in-process, prepared, queried and searched.
The workflow test (``test_workflow.py``) runs the study's rules on it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from nashpo import benchmarks
from nashpo.errors import DataError
from nashpo.runner import Budget
from nashpo.runner.chunk import run_chunk
from nashpo.triallog import read_trials

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def toygrid(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setitem(benchmarks.FAMILIES, "toygrid", "toygrid:ToyGridFamily")
    monkeypatch.delitem(benchmarks._cache, "toygrid", raising=False)
    yield benchmarks.get_family("toygrid")
    benchmarks._cache.pop("toygrid", None)
    sys.modules.pop("toygrid", None)


def test_registered_family_prepares_its_table_from_its_own_reader(toygrid, tmp_path: Path) -> None:
    (path,) = toygrid.prepare(["bowl"], tmp_path, log=None)
    assert path == tmp_path / "toygrid_bowl.parquet"
    meta = json.loads(pq.read_schema(path).metadata[b"nashpo"])
    assert meta["benchmark"] == "toygrid" and meta["n_configs"] == 24 and meta["n_seeds"] == 2
    assert meta["provenance"]["val_error"]["source"].startswith("nashpo test fixture")
    task = toygrid.open("bowl", tmp_path)
    # seed means: 10.0 + 0.125 at width 16, depth 2, relu (the formula's minimum)
    code = toygrid.encode({"width": 16, "depth": 2, "activation": "relu"})
    assert task.query_code(code) == {"val_error": 10.125, "train_time": 101.0, "size": 512.0}
    assert int(np.argmin(task.columns["val_error"])) == code
    assert task.query_seed(code, 1) == {"val_error": 10.25, "train_time": 102.0, "size": 512.0}


def test_registered_family_runs_a_search(toygrid, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    record = run_chunk(
        "rs", "ridge", [0], Budget(max_sim_seconds=1000), runs, runs / "seeds.json", benchmark="toygrid", data_dir=tmp_path, progress=None
    )
    trials = read_trials(runs / "0")
    # every trial is charged its made-up training time; the budget rule holds
    assert record["runs"][0]["n_trials"] == len(trials) > 5
    assert trials["sim_time"].iloc[-1] == pytest.approx(trials["cost"].sum()) and trials["sim_time"].iloc[-1] <= 1000
    width, depth = trials["width"].to_numpy(float), trials["depth"].to_numpy(float)
    tanh = (trials["activation"] == "tanh").to_numpy(float)
    np.testing.assert_allclose(trials["cost"], 40 * depth + 5 * np.log2(width) + 1.0)  # seed mean of 2 s per seed
    np.testing.assert_allclose(trials["objective"], 30 - 3 * np.log2(width) - 2 * depth - tanh + 0.125)
    rec = json.loads((runs / "0" / "run.json").read_text())
    assert rec["benchmark"]["family"] == "toygrid" and rec["dataset"] == "ridge"


def test_a_reader_with_missing_values_is_refused_in_one_line(toygrid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def ragged(task: str):
        values, prov = type(toygrid).read_values(toygrid, task)
        values["size"] = values["size"][:10]
        return values, prov

    monkeypatch.setattr(toygrid, "read_values", ragged)
    with pytest.raises(DataError) as err:
        toygrid.prepare(["bowl"], tmp_path, log=None)
    assert str(err.value) == (
        "toygrid/bowl: metric size has shape (10, 2) or non-finite values, expected (24, 2). Fix: fix the family's read_values"
    )
    assert list(tmp_path.iterdir()) == []
