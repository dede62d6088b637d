"""Remember that a workflow config passed its DAG-time checks, so that a no-op rerun skips them.

The checks import every optimizer class (SMAC, ConfigSpace, scipy: about 2 s). Their result (the
optimizers' traits) is stored under ``.snakemake/nashpo/`` with a key made of the config and of
the size and mtime of every package source file, plug-in module and workflow file that holds the
checks (``rules/common.smk``); any change checks again.
Light on purpose: no third-party imports.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nashpo.atomic import write_json_atomic

STAMP = Path(".snakemake") / "nashpo" / "config-check.json"
Traits = dict[str, dict[str, Any]]


def plugin_files(config: Mapping[str, Any]) -> list[str]:
    """Module files of plug-in optimizers (``class: "pkg.module:Class"``) that can be found."""
    out = []
    for hp in (config.get("optimizers") or {}).values():
        target = (hp or {}).get("class") if isinstance(hp, Mapping) else None
        if not isinstance(target, str) or ":" not in target:
            continue
        try:
            spec = importlib.util.find_spec(target.split(":")[0])
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin:
            out.append(spec.origin)
    return out


def config_key(config: Mapping[str, Any], package_dir: Path, also: Sequence[Path] = ()) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    files = sorted(str(p) for p in Path(package_dir).rglob("*.py")) + plugin_files(config) + [str(p) for p in also]
    for name in files:
        try:
            st = Path(name).stat()
        except OSError:
            continue
        digest.update(f"{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def checked(
    config: Mapping[str, Any], package_dir: Path, check: Callable[[], Traits], stamp: Path = STAMP, also: Sequence[Path] = ()
) -> Traits:
    """``check()``'s traits, from the stamp when the key matches; else run it and store the result
    (``also``: further files the key covers). A failing check exits before anything is stored."""
    key = config_key(config, package_dir, also)
    try:
        saved = json.loads(Path(stamp).read_text())
        if saved.get("key") == key:
            return saved["traits"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    traits = check()
    try:
        Path(stamp).parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic({"key": key, "traits": traits}, Path(stamp))
    except OSError:
        pass  # a read-only working folder only costs the next run the checks again
    return traits
