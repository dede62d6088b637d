"""`nashpo deepcave [STUDY_DIR]`: DeepCAVE's dashboard on a study's exported runs.

Starts, on 127.0.0.1 only: a private ``redis-server`` on a free port (DeepCAVE's job queue),
``--workers`` rq workers (they compute the static plugins behind each "Process" button) and
DeepCAVE's Dash server. DeepCAVE's cache (plugin results, selected runs) goes to ``--cache``
(default ``$XDG_CACHE_HOME/nashpo/deepcave/<study hash>``), not into the virtualenv. Bootstrap and
Font Awesome are served from the installed ``django-bootstrap-static`` package instead of the CDN
DeepCAVE links, so pages are styled offline. Workers cap Footprint's border and random
configurations at ``--footprint-support`` per kind (default 250: seconds instead of the 12 minutes
DeepCAVE's own 4,000-point fill takes on a 200-trial run; 0 keeps DeepCAVE's own) and query
Ablation Paths' surrogate in the encoding it was fitted on (``plugins.fixed_ablation``). The
session's DeepCAVE config (``nashpo.deepcave_config``) loads exports with nashpo's converter
(``nashpo.export.deepcave.NashpoRun``): each run shows its optimizer ("smac (nashpo)"), each
configuration its origin, only the run's own objectives, and the name ``optimizer-dataset-seed``
from ``nashpo.json`` instead of its seed folder. Prints the URL; Ctrl-C or SIGTERM stops every
child.

The server and workers are ``python -m nashpo.export.dashboard server|worker CONFIG``, each a thin
wrapper around DeepCAVE's own ``server.py``/``worker.py`` (which read the config file DeepCAVE's
``--config`` option names).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

from nashpo.errors import InputError
from nashpo.export.plugins import FOOTPRINT_SUPPORT

STATIC_ROUTE = "/nashpo-static"
STYLESHEETS = {  # DeepCAVE's CDN stylesheet -> file in an installed package: (package, path under its static/)
    "BOOTSTRAP": ("bootstrap", "bootstrap/css/bootstrap.min.css"),
    "FONT_AWESOME": ("fontawesome", "fontawesome/css/all.min.css"),
}
CONFIG_PACKAGE = "nashpo_deepcave_config"

CONFIG_TEMPLATE = '''"""DeepCAVE config written by `nashpo deepcave` (one dashboard session)."""
from pathlib import Path

from nashpo.deepcave_config import Config as _Default


class Config(_Default):
    REDIS_ADDRESS = "redis://127.0.0.1"
    REDIS_PORT = {redis_port!r}
    DASH_ADDRESS = "127.0.0.1"
    DASH_PORT = {dash_port!r}

    @property
    def CACHE_DIR(self) -> Path:
        return Path({cache!r})

    @property
    def DEFAULT_WORKING_DIRECTORY(self) -> Path:
        return Path({working_dir!r})
'''


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if it can be bound on 127.0.0.1, else a port the OS picks."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no conflict
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def working_directory(study: Path) -> Path:
    """The study's DeepCAVE exports (``<study>/deepcave``) if present, else the folder itself."""
    study = Path(study)
    if not study.is_dir():
        raise InputError("study_dir", str(study), "is not a directory")
    return (study / "deepcave") if (study / "deepcave").is_dir() else study


def default_cache(working_dir: Path) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(working_dir.resolve()).encode()).hexdigest()[:12]
    return root / "nashpo" / "deepcave" / key


def static_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError("stylesheet", package, "package not installed; run `make .venv/.installed` (django-bootstrap-static)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def write_config(folder: Path, redis_port: int, dash_port: int, cache: Path, working_dir: Path) -> Path:
    """DeepCAVE's ``--config`` file; DeepCAVE imports it as ``<folder name>.<file stem>``."""
    pkg = folder / CONFIG_PACKAGE
    pkg.mkdir(parents=True, exist_ok=True)
    path = pkg / "session.py"
    text = CONFIG_TEMPLATE.format(redis_port=redis_port, dash_port=dash_port, cache=str(cache), working_dir=str(working_dir))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def point_cache_at(cache: Path, working_dir: Path) -> None:
    """DeepCAVE opens the working directory its cache remembers (else its cwd): make it the study's."""
    meta = cache / "meta.json"
    data = json.loads(meta.read_text()) if meta.is_file() else {}
    if data.get("working_dir") != str(working_dir):
        data["working_dir"] = str(working_dir)
        tmp = meta.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=4))
        os.replace(tmp, meta)


def wait_until(check, timeout: float, what: str, procs: list[subprocess.Popen]) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{what}: a child process exited with {p.returncode} while starting")
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def redis_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def http_ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def stop(procs: list[subprocess.Popen], grace: float = 5.0) -> None:
    """Terminate children (newest first), kill what is left after ``grace`` seconds."""
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    end = time.monotonic() + grace
    for p in reversed(procs):
        try:
            p.wait(max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def open_dashboard(
    study: Path,
    port: int | None = None,
    workers: int = 1,
    cache: Path | None = None,
    out: TextIO = sys.stdout,
    log: Path | None = None,
    footprint_support: int = FOOTPRINT_SUPPORT,
) -> int:
    working_dir = working_directory(Path(study)).resolve()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError("workers", workers, "must be a positive integer")
    if isinstance(footprint_support, bool) or not isinstance(footprint_support, int) or footprint_support < 0:
        raise InputError("footprint_support", footprint_support, "must be a non-negative integer (0: DeepCAVE's own, uncapped)")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise InputError("redis-server", None, "not found on PATH; install it (envs/install.sh does: apt-get install redis-server)")
    for package, _ in STYLESHEETS.values():
        static_dir(package)
    redis_port = free_port()
    dash_port = free_port(port or 8050)
    if port and dash_port != port:
        raise InputError("port", port, "is in use on 127.0.0.1")
    cache = Path(cache).resolve() if cache else default_cache(working_dir)
    cache.mkdir(parents=True, exist_ok=True)
    config = write_config(cache, redis_port, dash_port, cache, working_dir)
    point_cache_at(cache, working_dir)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(cache), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    sink = open(log, "ab") if log else subprocess.DEVNULL
    procs: list[subprocess.Popen] = []
    names: list[str] = []

    def on_term(signum, frame):  # SIGTERM, and SIGINT even where it was inherited as ignored (e.g. `make ... &`)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        redis_cmd = [
            redis_server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(cache),
        ]
        procs.append(subprocess.Popen(redis_cmd, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
        names.append("redis-server")
        wait_until(lambda: redis_ready(redis_port), 20, "redis-server", procs)
        child = [sys.executable, "-m", "nashpo.export.dashboard"]
        for role in ["worker"] * workers + ["server"]:
            cmd = [*child, role, str(config), "--footprint-support", str(footprint_support)]
            procs.append(subprocess.Popen(cmd, cwd=working_dir, env=env, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
            names.append(f"DeepCAVE {role}")
        url = f"http://127.0.0.1:{dash_port}"
        wait_until(lambda: http_ready(dash_port), 120, "DeepCAVE server", procs)
        print(f"DeepCAVE: {url}  (runs in {working_dir}; cache {cache}; Ctrl-C stops)", file=out, flush=True)
        while True:
            for p, name in zip(procs, names):
                if p.poll() is not None:
                    print(f"DeepCAVE: {name} exited with {p.returncode}; stopping", file=out, flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("DeepCAVE: stopping", file=out, flush=True)
        return 0
    finally:
        stop(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if log:
            sink.close()


# ---- child processes -----------------------------------------------------------------------


def _deepcave_argv(role: str, config: str) -> None:
    """DeepCAVE sets itself up from sys.argv on import: the file name says server or worker."""
    sys.path.insert(0, str(Path(config).parent.parent))
    sys.argv = [f"{role}.py", "--config", config]


def serve(config: str) -> None:
    import dash_bootstrap_components as dbc

    dbc.themes.BOOTSTRAP = f"{STATIC_ROUTE}/bootstrap/{STYLESHEETS['BOOTSTRAP'][1]}"
    dbc.icons.FONT_AWESOME = f"{STATIC_ROUTE}/fontawesome/{STYLESHEETS['FONT_AWESOME'][1]}"
    _deepcave_argv("server", config)
    from deepcave import app, config as dc_config  # noqa: I001  (import order matters: argv first)
    from deepcave.layouts.main import MainLayout
    from flask import abort, send_from_directory

    roots = {package: static_dir(package) for package, _ in STYLESHEETS.values()}

    def static(package: str, filename: str):
        if package not in roots:
            abort(404)
        return send_from_directory(roots[package], filename)

    app.server.add_url_rule(f"{STATIC_ROUTE}/<package>/<path:filename>", "nashpo_static", static)
    app.layout = MainLayout(dc_config.PLUGINS)()
    app.run_server(debug=False, port=dc_config.DASH_PORT, host=dc_config.DASH_ADDRESS)


def work(config: str, footprint_support: int | None) -> None:
    _deepcave_argv("worker", config)
    from deepcave import queue
    from rq import Connection, Worker

    from nashpo.export.plugins import bounded_footprint, fixed_ablation

    with bounded_footprint(footprint_support), fixed_ablation(), Connection(queue._connection):  # rq forks each job from here
        Worker([queue._queue]).work()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nashpo.export.dashboard")
    parser.add_argument("role", choices=("server", "worker"))
    parser.add_argument("config")
    parser.add_argument("--footprint-support", type=int, default=FOOTPRINT_SUPPORT, help="0: DeepCAVE's own (uncapped)")
    args = parser.parse_args(argv)
    if args.role == "server":
        serve(args.config)
    else:
        work(args.config, args.footprint_support or None)


if __name__ == "__main__":
    main()
