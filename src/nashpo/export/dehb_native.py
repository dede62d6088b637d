"""DEHB's own output folder -> DeepCAVE native run (DeepCAVE has no DEHB converter).

DEHB 0.1.2 writes ``history.parquet.gzip`` (columns config_id, config = DEHB's [0, 1] vector,
fitness, cost, fidelity, info) plus ``incumbent.json`` and ``dehb_state.json``. Vectors are
decoded with DEHB's own ``DE.vector_to_configspace`` for the given ConfigSpace (default: nashpo's
NB201 space). fitness -> the objective (minimised), fidelity -> budget, cost -> end - start time
on a clock that accumulates DEHB's recorded costs in history order.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace
from deepcave.runs import Status
from deepcave.runs.converters.deepcave import DeepCAVERun
from deepcave.runs.objective import Objective

from nashpo.errors import InputError
from nashpo.export.deepcave import publish, writing_dir
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
    history = pd.read_parquet(history_path)
    tmp = writing_dir(out_dir, force, [dehb_dir])
    meta: dict = {"optimizer": "dehb", "source": str(dehb_dir)}
    state = dehb_dir / "dehb_state.json"
    if state.is_file():
        meta["dehb_state"] = json.loads(state.read_text()).get("DE_params", {})
    run = DeepCAVERun(f"dehb-{dehb_dir.name}", configspace=space, objectives=[Objective(objective, optimize="lower")], meta=meta)
    to_config = decoder(space)
    clock = 0.0
    seed = int(meta.get("dehb_state", {}).get("seed", 0) or 0)
    for row in history.itertuples(index=False):
        config = to_config(np.asarray(row.config, dtype=float))
        start, clock = clock, clock + float(row.cost)
        additional = {"config_id": int(row.config_id), "sim_end_time": clock}
        info = getattr(row, "info", None)
        if isinstance(info, dict):
            additional.update({k: (v.item() if hasattr(v, "item") else v) for k, v in info.items()})
        run.add(
            costs=[float(row.fitness)],
            config=config,
            seed=seed,
            budget=float(row.fidelity),
            cpu_time=float(row.cost),
            start_time=start,
            end_time=clock,
            status=Status.SUCCESS,
            origin="dehb",
            additional=additional,
        )
    return publish(run, tmp, out_dir)
