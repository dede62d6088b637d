"""DEHB's own output folder -> DeepCAVE run in DeepCAVE's DataFrame format (DeepCAVE has no DEHB converter).

DEHB 0.1.2 writes ``history.parquet.gzip`` (columns config_id, config = DEHB's [0, 1] vector,
fitness, cost, fidelity, info) plus ``incumbent.json`` and ``dehb_state.json``. Vectors are
decoded with DEHB's own ``DE.vector_to_configspace`` for the given ConfigSpace (default: nashpo's
NB201 space). fitness -> the objective (minimised; bounds = observed range), fidelity -> budget, cost -> end -
start time on a clock that accumulates DEHB's recorded costs in history order; ``info`` entries
become ``info_<key>`` columns (DeepCAVE's ``additional``). Same folder layout as ``trials_to_deepcave``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace

from nashpo.errors import InputError
from nashpo.export.deepcave import metric_column, publish_dataframe, write_dataframe_run, writing_dir
from nashpo.space import build_configspace

HISTORY = "history.parquet.gzip"


def decoder(space: ConfigurationSpace):
    from dehb.optimizers.de import DE

    with tempfile.TemporaryDirectory() as tmp:  # DE creates its output_path; keep it out of cwd
        return DE(cs=space, dimensions=len(space), output_path=tmp, seed=0).vector_to_configspace


def dehb_to_deepcave(
    dehb_dir: Path, out_dir: Path, configspace: ConfigurationSpace | Path | None = None, objective: str = "fitness", force: bool = False
) -> Path:
    dehb_dir, out_dir = Path(dehb_dir), Path(out_dir)
    history_path = dehb_dir / HISTORY
    if not history_path.is_file():
        raise InputError("dehb", str(dehb_dir), f"is not a DEHB output folder (no {HISTORY})")
    if isinstance(configspace, Path):
        configspace = ConfigurationSpace.from_json(configspace)
    space = configspace or build_configspace()
    if not re.fullmatch(r"\w+", objective):
        raise InputError("objective", objective, "must be a plain name (letters, digits, _) for DeepCAVE's DataFrame format")
    history = pd.read_parquet(history_path)
    if history.empty:
        raise InputError("dehb", str(dehb_dir), f"{HISTORY} has no trials")
    tmp = writing_dir(out_dir, force, [dehb_dir])
    meta: dict = {"optimizer": "dehb", "source": str(dehb_dir)}
    state = dehb_dir / "dehb_state.json"
    if state.is_file():
        meta["dehb_state"] = json.loads(state.read_text()).get("DE_params", {})
    to_config = decoder(space)
    seed = int(meta.get("dehb_state", {}).get("seed", 0) or 0)
    end = history["cost"].astype(float).cumsum()
    rows: dict[str, list] = {"config_id": [int(c) for c in history["config_id"]]}
    configs = [to_config(np.asarray(v, dtype=float)) for v in history["config"]]
    for name in space.keys():
        rows[name] = [c.get(name) for c in configs]
    fitness = history["fitness"].astype(float)
    # DEHB records no bounds; the observed range is what DeepCAVE itself would infer
    rows[metric_column(objective, fitness.min(), fitness.max(), "lower")] = fitness.tolist()
    rows["budget"] = history["fidelity"].astype(float).tolist()
    rows["seed"] = [seed] * len(history)
    rows["start_time"] = (end - history["cost"].astype(float)).tolist()
    rows["end_time"] = end.tolist()
    rows["status"] = ["SUCCESS"] * len(history)
    if "info" in history.columns:
        infos = [i if isinstance(i, dict) else {} for i in history["info"]]
        for key in sorted({k for i in infos for k in i}):
            rows[f"info_{key}"] = [i.get(key).item() if hasattr(i.get(key), "item") else i.get(key) for i in infos]
    tmp = writing_dir(out_dir, force)
    try:
        write_dataframe_run(tmp, space, pd.DataFrame(rows), meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return publish_dataframe(tmp, out_dir)
