"""Across benchmark families: final regret per run, a summary table with a column per task, and
Friedman/Nemenyi average ranks over every task (NB201 and the families without fidelities).

Per task, an optimizer's score is its mean final regret over seeds: NB201 the incumbent's
200-epoch **test** regret (pp, as in ``analysis aggregate``), FCNet and MLP the **validation**
regret (they have no test split). Ranks are taken within each task, so the scales never mix; the
scale-free ``quantile`` (share of the task's configurations better than the incumbent) is reported
beside the regret for the families. A run that ended before its first trial (a single trial
longer than the whole budget) scores the task's worst configuration (regret = worst - best,
quantile 1). Only optimizers run on every task are ranked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nashpo.analysis.stats import friedman_nemenyi
from nashpo.triallog import RECORD_FILE, TRIALS_FILE, write_parquet_atomic

SCORE = "test_regret"  # the column friedman_nemenyi ranks on (validation regret for FCNet/MLP)


def grid_finals(run_dirs: list[Path]) -> pd.DataFrame:
    rows = []
    for run in run_dirs:
        record = json.loads((Path(run) / RECORD_FILE).read_text())
        trials = pd.read_parquet(Path(run) / TRIALS_FILE, columns=["inc_regret", "inc_quantile"])
        oracle = record["oracle"]
        empty = trials.empty
        rows.append(
            {
                "protocol": record["benchmark"]["family"],
                "dataset": f"{record['benchmark']['family']}/{record['dataset']}",
                "optimizer": record["optimizer"],
                "seed": record["seed"],
                "n_trials": record["n_trials"],
                "regret_kind": "validation",
                SCORE: oracle["worst_objective"] - oracle["best_objective"] if empty else float(trials["inc_regret"].iloc[-1]),
                "quantile": 1.0 if empty else float(trials["inc_quantile"].iloc[-1]),
            }
        )
    return pd.DataFrame(rows)


def nb201_finals(per_run_final: Path) -> pd.DataFrame:
    df = pd.read_parquet(per_run_final)
    out = df[["optimizer", "seed", "n_trials", SCORE]].copy()
    out.insert(0, "dataset", "nb201/" + df["dataset"].astype(str))
    out.insert(0, "protocol", "nb201")
    out["regret_kind"] = "test"
    out["quantile"] = np.nan
    return out


def summarise(run_dirs: list[Path], out: Path, nb201: Path | None = None) -> dict[str, pd.DataFrame]:
    finals = grid_finals(run_dirs)
    if nb201 is not None:
        finals = pd.concat([nb201_finals(nb201), finals], ignore_index=True)
    tasks = list(dict.fromkeys(finals["dataset"]))
    table = finals.groupby(["optimizer", "dataset"])[SCORE].mean().unstack("dataset").reindex(columns=tasks)
    friedman, nemenyi = friedman_nemenyi(finals, SCORE)
    ranked = friedman.set_index("optimizer")["avg_rank"]
    table["avg_rank"] = ranked.reindex(table.index)
    table = table.sort_values("avg_rank").reset_index()
    out.mkdir(parents=True, exist_ok=True)
    outputs = {"finals": finals, "summary_table": table, "friedman": friedman, "nemenyi": nemenyi}
    for name, frame in outputs.items():
        write_parquet_atomic(pa_table(frame), out / f"{name}.parquet")
    cd_figure(friedman, nemenyi, out)
    tmp = out / ".summary_table.csv.tmp"
    table.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(out / "summary_table.csv")
    return outputs


def pa_table(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def cd_figure(friedman: pd.DataFrame, nemenyi: pd.DataFrame, out: Path) -> None:
    """The study's critical-difference diagram (``figures.cd_diagram``), captioned for mixed regrets."""
    from nashpo.analysis.figures import cd_diagram

    cd_diagram(friedman, nemenyi, out)
    caption = out / "cd_diagram.rst"
    text = caption.read_text()
    for old, new in (
        ("mean final 200-epoch test regret", "mean final regret (NB201: 200-epoch test regret; FCNet and MLP: validation regret)"),
        ("tasks (dataset x protocol)", "tasks of every family"),
    ):
        text = text.replace(old, new)
    caption.write_text(text)
