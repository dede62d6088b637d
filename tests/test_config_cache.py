"""The DAG-time check's cache key covers plug-in optimizer modules (``config_cache``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nashpo.config_cache import config_key, plugin_files

PLUGINS = Path(__file__).parent / "plugins"


def test_plugin_files_are_the_optimizers_plug_in_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    config = {
        "optimizers": {"rs": {}, "greedy": {"class": "nashpo_testopt.greedy:GreedyLocalSearch"}, "bad": {"class": "no_such_module:X"}}
    }
    assert plugin_files(config) == [str(PLUGINS / "nashpo_testopt" / "greedy.py")]
    assert plugin_files({"optimizers": {"rs": {}}}) == []


def test_editing_a_plug_in_changes_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    plugin = tmp_path / "myplug"
    plugin.mkdir()
    (plugin / "__init__.py").write_text("")
    (plugin / "opt.py").write_text("class Opt: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {"optimizers": {"mine": {"class": "myplug.opt:Opt"}}}
    before = config_key(config, package)
    assert config_key(config, package) == before
    (plugin / "opt.py").write_text("class Opt:\n    pass\n")
    assert config_key(config, package) != before
