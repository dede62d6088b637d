"""NB201 Table 5: our random search beside the published RS row, table layout, dSE, outputs."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from nashpo.analysis.nb201_table import PUBLISHED, PUBLISHED_N, PUBLISHED_OPTIMAL, nb201_table
from nashpo.errors import InputError
from nashpo.runner import Budget
from nashpo.runner.chunk import run_chunk

SEEDS = list(range(100))


@pytest.fixture(scope="module")
def rs_runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 random searches with the paper's protocol: cifar10, 12-epoch proxy, 12,000 simulated s."""
    runs = tmp_path_factory.mktemp("rs_paper")
    run_chunk("rs", "cifar10", SEEDS, Budget(max_sim_seconds=12000), runs, runs / "seeds_0-99.json", data_dir=data_dir, progress=None)
    return runs


def test_random_search_reproduces_the_published_rs_row(rs_runs: Path, data_dir: Path, tmp_path: Path) -> None:
    nb201_table([rs_runs / "seeds_0-99.json"], tmp_path, data_dir)
    wide = pd.read_csv(tmp_path / "nb201_table.csv")
    ours = wide[(wide["method"] == "rs") & (wide["source"] == "ours")].iloc[0]
    assert ours["n"] == 100 and ours["counterpart"] == "RS" and ours["settings"] == "defaults"
    published = wide[(wide["method"] == "BOHB") & (wide["source"] == "published")].iloc[0]
    assert "num_samples 4" in published["settings"] and "BOHB.sh" in published["settings"]
    runs = pd.read_csv(tmp_path / "nb201_table_runs.csv")
    for (dataset, split), (mean, std) in PUBLISHED["RS"].items():
        values = runs[f"{dataset}_{split}_acc"]
        assert ours[f"{dataset}_{split}_mean"] == pytest.approx(values.mean(), abs=1e-3)  # CSV keeps 6 significant digits
        se = math.sqrt(values.std(ddof=1) ** 2 / len(values) + std**2 / PUBLISHED_N)
        assert ours[f"{dataset}_{split}_dSE"] == pytest.approx((values.mean() - mean) / se, abs=2e-2)
        # the published RS (500 runs) and our 100 seeds agree within 3 standard errors of the difference
        assert abs(ours[f"{dataset}_{split}_dSE"]) < 3, (dataset, split, values.mean(), mean)
    # the best architecture in our tables is the paper's optimal row
    mine = wide[(wide["method"] == "optimal") & (wide["source"] == "ours (tables)")].iloc[0]
    for (dataset, split), value in PUBLISHED_OPTIMAL.items():
        assert round(mine[f"{dataset}_{split}_mean"], 2) == value
    md = (tmp_path / "nb201_table.md").read_text()
    assert "| RS " in md and "93.70±0.36" in md and "arXiv:2001.00326" in md
    assert r"\pm" in (tmp_path / "nb201_table.tex").read_text()


def test_runs_of_another_dataset_are_refused(data_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run_chunk("rs", "cifar100", [0], Budget(max_evals=5), runs, runs / "seeds_0-0.json", data_dir=data_dir, progress=None)
    with pytest.raises(InputError) as err:
        nb201_table([runs / "seeds_0-0.json"], tmp_path / "table", data_dir)
    assert err.value.field == "runs" and "cifar10 search" in str(err.value)
    assert not (tmp_path / "table").exists()
