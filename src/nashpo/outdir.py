"""Output folders: checked before any work starts, built in a hidden sibling, swapped in atomically.

Rules shared by ``nashpo run`` and ``nashpo to-deepcave``:

- ``--out`` may not be a symlink, lie under a file, or sit on a folder we cannot write: refused
  before the search or export starts.
- An existing non-empty ``--out`` is refused unless ``--force``; ``--force`` only replaces an
  earlier output of the same kind (a run folder holding run.json, or a DeepCAVE export), never
  any other folder, and never the source being exported.
- Work happens in ``.<name>.tmp<PID>`` beside ``--out``. Publishing renames the old output to
  ``.<name>.old<PID>``, renames the new one in, then deletes the old one: a kill at any moment
  leaves either the old or the new output complete under ``--out`` (or, between the two renames,
  nothing under ``--out`` and both complete in hidden siblings).
- Hidden ``.tmp<PID>``/``.old<PID>`` siblings whose process is gone are removed by the next
  writer of the same ``--out``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from nashpo.errors import InputError

RUN_MARKERS = ("run.json",)  # a nashpo run folder
EXPORT_MARKERS = ("configspace.csv", "configspace.json")  # DeepCAVE DataFrame or native layout: one of these
KINDS = {"run": RUN_MARKERS, "deepcave": EXPORT_MARKERS}
_STALE = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)(?P<pid>\d+)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_siblings(out: Path) -> list[Path]:
    """Hidden work folders of ``out`` left by processes that no longer run."""
    out = Path(out)
    parent = out.parent
    if not parent.is_dir():
        return []
    found = []
    for entry in parent.iterdir():
        m = _STALE.match(entry.name)
        if m and m["name"] == out.name and not _alive(int(m["pid"])):
            found.append(entry)
    return sorted(found)


def remove_stale(out: Path) -> list[Path]:
    removed = stale_siblings(out)
    for path in removed:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)
    return removed


def kind_of(folder: Path) -> str | None:
    """``run``, ``deepcave`` or None for any other folder."""
    folder = Path(folder)
    if (folder / RUN_MARKERS[0]).is_file():
        return "run"
    if any((folder / m).is_file() for m in EXPORT_MARKERS):
        return "deepcave"
    return None


def check_out(out: Path, force: bool, kind: str, sources: Iterable[Path] = ()) -> None:
    """Refuse an unusable ``--out`` with one line, before any work starts."""
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    out = Path(out)
    if out.is_symlink():
        raise InputError("out", str(out), f"is a symlink (to {os.readlink(out)}); give the real folder or a new path")
    if out.name in ("", ".", ".."):
        raise InputError("out", str(out), "must name a folder of its own, not '.' or '..'")
    for ancestor in out.absolute().parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise InputError("out", str(out), f"lies under {ancestor}, which is a file, not a folder")
            break
    resolved = out.resolve()
    for src in sources:
        src = Path(src).resolve()
        if resolved == src or resolved in src.parents:
            raise InputError("out", str(out), f"would overwrite the source {src}; choose another --out")
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise InputError("out", str(out), "holds the current folder; choose a new folder for the output")
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError("out", str(out), "is a file, not a folder; choose another --out")
    if not any(out.iterdir()):
        return
    if not force:
        raise InputError("out", str(out), "exists and is not empty; pass --force to overwrite")
    found = kind_of(out)
    if found != kind:
        what = f"a {found} folder" if found else "not a nashpo output"
        want = "a run folder (run.json)" if kind == "run" else "a DeepCAVE export"
        raise InputError("out", str(out), f"is {what}; --force only replaces {want}")


def prepare_out_dir(out: Path, force: bool, kind: str = "run", sources: Iterable[Path] = ()) -> Path:
    """Check ``out``, clear stale work folders, and return a fresh hidden sibling to work in."""
    out = Path(out)
    check_out(out, force, kind, sources)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(out)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    except OSError as exc:
        raise InputError("out", str(out), f"cannot be written ({os_reason(exc)})") from exc
    return tmp


def finish_out_dir(tmp: Path, out: Path) -> None:
    """Publish ``tmp`` as ``out``: old away, new in, old deleted."""
    tmp, out = Path(tmp), Path(out)
    old = out.with_name(f".{out.name}.old{os.getpid()}")
    if out.exists() or out.is_symlink():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def os_reason(exc: OSError) -> str:
    """The system's one-line reason for an OSError (pyarrow's carry extra detail lines)."""
    if exc.errno:
        return os.strerror(exc.errno)
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def discard(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
