"""`nashpo deepcave` in a real headless browser (Debian's chromium + chromium-driver, selenium).

A user's path: start the dashboard on a study, pick exported runs on DeepCAVE's General page,
read a run's optimizer and best cost on Overview and a configuration's origin on Configurations,
see Cost over Time on the simulated clock (also of a four-worker run: the parallel clock), press
Process on Importances (computed by an rq worker through the private redis), then Ctrl-C/SIGTERM.
Pareto Front of a two-objective run, and of a three-objective run with a chosen pair of objectives.
Screenshots of each page stay in the test's temp dir.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nashpo.export.deepcave import load_nashpo_run, trials_to_deepcave
from nashpo.runner import Budget, run_search
from nashpo.triallog import read_trials

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_system_tools() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)] + [n for n in ("redis-server",) if shutil.which(n) is None]
    if missing:
        pytest.fail(f"missing {missing}: run envs/install.sh (apt-get install chromium chromium-driver redis-server)")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def processes_mentioning(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.fixture(scope="module")
def study(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A study folder laid out like the workflow's results/: deepcave/{dataset}/{optimizer}/{seed}."""
    root = tmp_path_factory.mktemp("study")
    run_dir = root / "runs" / "re"
    run_search("re", "cifar10", 3, Budget(max_evals=60), run_dir, data_dir=data_dir, progress=None)
    export = trials_to_deepcave(run_dir, root / "deepcave" / "cifar10" / "re" / "3")
    trials = read_trials(run_dir).drop_duplicates(["arch_code", "epochs"], keep="last").sort_values("sim_time")
    times, costs, best = [], [], math.inf
    for row in trials.itertuples():
        if row.objective < best:
            best = row.objective
            times.append(round(row.sim_time, 2))
            costs.append(row.objective)
    assert len(times) > 1  # a run whose incumbent improves more than once
    total = round(float(trials["sim_time"].max()), 2)
    # four workers on one simulated clock: trials overlap, the clock ends within the budget
    parallel_dir = root / "runs" / "rs"
    run_search("rs", "cifar10", 1, Budget(max_sim_seconds=8000), parallel_dir, data_dir=data_dir, progress=None, workers=4)
    parallel = trials_to_deepcave(parallel_dir, root / "deepcave" / "cifar10" / "rs" / "1")
    log = read_trials(parallel_dir)
    parallel_clock = float(log["sim_time"].max())
    assert parallel_clock <= 8000 < log["cost"].sum() / 3
    return {
        "root": root,
        "export": export,
        "times": times,
        "costs": costs,
        "best": best,
        "total": total,
        "origin": load_nashpo_run(export).get_origin(0),  # the Configurations page's default configuration
        "parallel": parallel,
        "parallel_clock": parallel_clock,
    }


@contextlib.contextmanager
def running_dashboard(root: Path, tmp_path: Path, env: dict[str, str]):
    """``nashpo deepcave ROOT`` on a free port until the block ends (then SIGTERM)."""
    require_system_tools()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = tmp_path / "cache"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nashpo",
            "deepcave",
            str(root),
            "--port",
            str(port),
            "--cache",
            str(cache),
            "--log",
            str(tmp_path / "dash.log"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = proc.stdout.readline()  # blocks until the server answers (or the command fails)
    url = f"http://127.0.0.1:{port}"
    try:
        assert line.startswith(f"DeepCAVE: {url}"), line + proc.stdout.read() if proc.poll() is not None else line
        yield {"url": url, "port": port, "proc": proc, "cache": cache, "dir": tmp_path}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


@pytest.fixture()
def dashboard(study: dict, tmp_path: Path, nashpo_env: dict[str, str]):
    with running_dashboard(study["root"], tmp_path, nashpo_env) as running:
        yield running


@pytest.fixture()
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def plotly_traces(driver) -> list | None:
    return driver.execute_script(
        "const g = document.querySelector('.js-plotly-plot');"
        "return g && g.data && g.data.length ? g.data.map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])})) : null;"
    )


def test_dashboard_in_a_browser(study: dict, dashboard: dict, browser) -> None:
    from deepcave.utils.util import custom_round
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url, shots = dashboard["url"], dashboard["dir"]
    wait = WebDriverWait(browser, 90)

    # General: the study's exports are the working directory; go to the run's folder and add it
    browser.get(url + "/")
    field = wait.until(ec.presence_of_element_located((By.ID, "general-working-directory-input")))
    assert field.get_attribute("value") == str((study["root"] / "deepcave").resolve())
    # offline styling: Bootstrap and Font Awesome come from this server, and apply
    sheets = browser.execute_script("return Array.from(document.styleSheets).map(s => s.href).filter(h => h)")
    assert sheets and all(h.startswith(url) for h in sheets), sheets
    color = browser.execute_script("return getComputedStyle(document.querySelector('.btn-primary')).backgroundColor")
    assert color == "rgb(13, 110, 253)"  # Bootstrap 5's primary blue
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(study["export"].parent))
    runs = "//div[@id='general-available-runs-container']"
    add = f"{runs}//button[normalize-space(text())='3']/preceding-sibling::button[normalize-space(text())='+']"
    wait.until(ec.element_to_be_clickable((By.XPATH, add))).click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "general-selected-runs-container"), "re/3"))
    browser.save_screenshot(str(shots / "general.png"))

    # Overview: the run's optimizer (nashpo's converter, not DeepCAVE's "DataFrame") and best cost; no Time objective
    browser.get(url + "/plugins/overview")
    Select(wait.until(ec.presence_of_element_located((By.TAG_NAME, "select")))).select_by_visible_text("re/re-cifar10-3")
    best = f"Best valid_error: {custom_round(study['best'])} "
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), best))
    text = browser.find_element(By.TAG_NAME, "body").text
    assert f"Total runtime [s]: {study['total']}" in text  # the simulated clock
    assert "Optimizer: re (nashpo)" in text and "DataFrame" not in text and "Best Time" not in text
    browser.save_screenshot(str(shots / "overview.png"))

    # Configurations: the default (first) configuration with its origin from the trial log
    browser.get(url + "/plugins/configurations")
    Select(wait.until(ec.presence_of_element_located((By.TAG_NAME, "select")))).select_by_visible_text("re/re-cifar10-3")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Selected Configuration"))
    rows = [line.strip() for line in browser.find_element(By.TAG_NAME, "body").text.splitlines()]
    assert study["origin"] and f"Origin {study['origin']}" in rows, rows
    browser.save_screenshot(str(shots / "configurations.png"))

    # Cost over Time: more than one point, on the simulated clock; the objective selector lists the run's objective only
    browser.get(url + "/plugins/cost_over_time")
    traces = wait.until(lambda d: plotly_traces(d))
    assert traces[0]["name"] == "re-cifar10-3"  # named from nashpo.json, not the seed folder
    assert traces[0]["x"] == pytest.approx(study["times"], abs=0.01) and len(traces[0]["x"]) > 1
    assert traces[0]["y"] == pytest.approx(study["costs"])
    objective = Select(browser.find_element(By.ID, "cost_over_time-objective_id-input"))
    assert [o.text for o in objective.options if not o.text.startswith("Select")] == ["valid_error"]
    browser.save_screenshot(str(shots / "cost_over_time.png"))

    # Cost over Time of a four-worker run: its last improvement lies on the parallel clock (within the budget)
    browser.get(url + "/")
    field = wait.until(ec.presence_of_element_located((By.ID, "general-working-directory-input")))
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(study["parallel"].parent))
    add = f"{runs}//button[normalize-space(text())='1']/preceding-sibling::button[normalize-space(text())='+']"
    wait.until(ec.element_to_be_clickable((By.XPATH, add))).click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "general-selected-runs-container"), "rs/1"))
    browser.get(url + "/plugins/cost_over_time")
    parallel = load_nashpo_run(study["parallel"])
    expected = parallel.get_trajectory(parallel.get_objectives()[0], budget=12.0)[0]

    def parallel_trace(driver):
        shown = [t for t in plotly_traces(driver) or [] if t["name"] == "rs-cifar10-1"]
        return shown[0] if shown else None

    trace = wait.until(parallel_trace)
    assert trace["x"] == pytest.approx(expected, abs=0.01) and len(trace["x"]) > 1
    assert trace["x"][-1] <= study["parallel_clock"] + 0.01
    browser.save_screenshot(str(shots / "cost_over_time_parallel.png"))

    # Importances: a static plugin, computed by the rq worker after "Process"
    browser.get(url + "/plugins/importances")
    Select(wait.until(ec.presence_of_element_located((By.TAG_NAME, "select")))).select_by_visible_text("re/re-cifar10-3")
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[normalize-space(.)='Process']"))).click()
    bars = wait.until(lambda d: plotly_traces(d))
    assert sorted(bars[0]["x"]) == sorted(f"edge_{a}" for a in ("0_1", "0_2", "1_2", "0_3", "1_3", "2_3"))
    assert all(v >= 0 for v in bars[0]["y"])
    browser.save_screenshot(str(shots / "importances.png"))
    for name in ("general", "overview", "configurations", "cost_over_time", "cost_over_time_parallel", "importances"):
        assert (shots / f"{name}.png").stat().st_size > 10_000


def test_dashboard_stops_every_child(dashboard: dict) -> None:
    import deepcave

    proc, port, cache = dashboard["proc"], dashboard["port"], dashboard["cache"]
    config = cache / "nashpo_deepcave_config" / "session.py"
    redis_port = int(next(line.split("=")[1] for line in config.read_text().splitlines() if "REDIS_PORT" in line))
    children = processes_mentioning(str(config))
    assert len(children) == 2 and port_open(redis_port)  # one worker, one server, redis
    cmdlines = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in children]
    assert sorted(c[c.index(b"--footprint-support") + 1] for c in cmdlines) == [b"250", b"250"]
    # DeepCAVE's cache is the one given, not inside the virtualenv
    assert (cache / "meta.json").is_file()
    venv_cache = Path(deepcave.__file__).parent / "cache"
    assert not venv_cache.exists() or venv_cache.stat().st_mtime < config.stat().st_mtime
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert proc.stdout.read().strip().endswith("DeepCAVE: stopping")
    time.sleep(0.5)
    assert processes_mentioning(str(config)) == [] and not port_open(port) and not port_open(redis_port)


def test_bad_study_dir(tmp_path: Path, nashpo_env: dict[str, str]) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "nashpo", "deepcave", str(tmp_path / "missing"), "--cache", str(tmp_path / "cache")],
        env=nashpo_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [f"nashpo: error: study_dir='{tmp_path / 'missing'}': is not a directory"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_port_in_use(study: dict, tmp_path: Path, nashpo_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bad = subprocess.run(
            [sys.executable, "-m", "nashpo", "deepcave", str(study["root"]), "--port", str(port), "--cache", str(tmp_path / "cache")],
            env=nashpo_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [f"nashpo: error: port={port}: is in use on 127.0.0.1"]
    assert not (tmp_path / "cache").exists()


def test_pareto_front_page_of_a_multi_objective_run(data_dir: Path, tmp_path: Path, nashpo_env: dict[str, str], browser) -> None:
    """DeepCAVE's Pareto Front page draws exactly the run's non-dominated set (valid_error vs latency_pixel3)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    root = tmp_path / "study"
    run_dir = root / "runs" / "mo_rs"
    run_search(
        "mo_rs",
        "cifar10",
        0,
        Budget(max_sim_seconds=12000),
        run_dir,
        data_dir=data_dir,
        progress=None,
        objectives=["valid_error", "latency:pixel3"],
    )
    export = trials_to_deepcave(run_dir, root / "deepcave" / "cifar10" / "mo_rs" / "0")
    front = sorted((f["valid_error"], f["latency_pixel3"]) for f in json.loads((run_dir / "run.json").read_text())["final_front"])
    assert len(front) >= 3
    with running_dashboard(root, tmp_path / "dash", nashpo_env) as dash:
        url, wait = dash["url"], WebDriverWait(browser, 90)
        browser.get(url + "/")
        field = wait.until(ec.presence_of_element_located((By.ID, "general-working-directory-input")))
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(str(export.parent))
        add = "//div[@id='general-available-runs-container']//button[normalize-space(text())='0']/preceding-sibling::button[normalize-space(text())='+']"
        wait.until(ec.element_to_be_clickable((By.XPATH, add))).click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "general-selected-runs-container"), "mo_rs/0"))

        browser.get(url + "/plugins/pareto_front")
        selects = wait.until(lambda d: d.find_elements(By.TAG_NAME, "select") if len(d.find_elements(By.TAG_NAME, "select")) >= 3 else None)
        options = [o.text for o in Select(selects[0]).options if not o.text.startswith("Select")]
        assert options == ["valid_error", "latency_pixel3"]  # the run's objectives, no Time (nashpo's converter)
        Select(selects[1]).select_by_visible_text("latency_pixel3")

        def pareto_trace(driver):
            traces = plotly_traces(driver)
            shown = [t for t in traces or [] if t["name"] == "mo_rs-nb201-cifar10-valid_error+latency_pixel3-0"]
            return shown[-1] if shown and len(shown[-1]["x"]) == len(front) and max(shown[-1]["y"]) < 100 else None

        trace = wait.until(pareto_trace)
        shown = sorted(zip(trace["x"], trace["y"], strict=True))
        assert [x for x, _ in shown] == pytest.approx([x for x, _ in front]) and [y for _, y in shown] == pytest.approx(
            [y for _, y in front]
        )
        title = browser.execute_script("return document.querySelector('.js-plotly-plot').layout.yaxis.title.text")
        assert title == "latency_pixel3"
        browser.save_screenshot(str(tmp_path / "pareto_front.png"))
        assert (tmp_path / "pareto_front.png").stat().st_size > 10_000


def test_pareto_front_page_shows_a_chosen_pair_of_a_three_objective_run(
    data_dir: Path, tmp_path: Path, nashpo_env: dict[str, str], browser
) -> None:
    """A 3-objective run's Pareto Front page: the selectors list the run's three objectives (no Time);
    choosing params against latency_pixel3 draws that pair's non-dominated set with those axes."""
    import numpy as np
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    root = tmp_path / "study"
    run_dir = root / "runs" / "mo_rs"
    objectives = "valid_error,params,latency:pixel3"
    run_search("mo_rs", "cifar10", 0, Budget(max_sim_seconds=24000), run_dir, data_dir=data_dir, progress=None, objectives=objectives)
    export = trials_to_deepcave(run_dir, root / "deepcave" / "cifar10" / "mo_rs" / "0")
    # the pair's non-dominated set, computed from the trial log (one point per distinct value pair)
    points = read_trials(run_dir).drop_duplicates(["arch_code", "epochs"])[["params", "latency_pixel3"]].to_numpy(dtype=float)
    dominated = ((points[None] <= points[:, None]).all(axis=2) & (points[None] < points[:, None]).any(axis=2)).any(axis=1)
    front = sorted({tuple(p) for p in points[~dominated].tolist()})
    assert len(front) >= 2
    name = "mo_rs-nb201-cifar10-valid_error+params+latency_pixel3-0"
    with running_dashboard(root, tmp_path / "dash", nashpo_env) as dash:
        url, wait = dash["url"], WebDriverWait(browser, 90)
        browser.get(url + "/")
        field = wait.until(ec.presence_of_element_located((By.ID, "general-working-directory-input")))
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(str(export.parent))
        add = "//div[@id='general-available-runs-container']//button[normalize-space(text())='0']/preceding-sibling::button[normalize-space(text())='+']"
        wait.until(ec.element_to_be_clickable((By.XPATH, add))).click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "general-selected-runs-container"), "mo_rs/0"))

        browser.get(url + "/plugins/pareto_front")
        wait.until(lambda d: plotly_traces(d))  # the default pair drawn first: first against last objective
        first = Select(browser.find_element(By.ID, "pareto_front-objective_id_1-input"))
        second = Select(browser.find_element(By.ID, "pareto_front-objective_id_2-input"))
        for select in (first, second):
            assert [o.text for o in select.options if not o.text.startswith("Select")] == ["valid_error", "params", "latency_pixel3"]
        first.select_by_visible_text("params")
        second.select_by_visible_text("latency_pixel3")

        def axis_titles(driver) -> tuple[str, str]:
            return tuple(
                driver.execute_script(
                    f"const l = document.querySelector('.js-plotly-plot').layout; return l.{axis} && l.{axis}.title && l.{axis}.title.text;"
                )
                for axis in ("xaxis", "yaxis")
            )

        def pair_trace(driver):
            if axis_titles(driver) != ("params", "latency_pixel3"):
                return None
            shown = [t for t in plotly_traces(driver) or [] if t["name"] == name]
            return shown[-1] if shown and len(shown[-1]["x"]) == len(front) else None

        trace = wait.until(pair_trace)
        np.testing.assert_allclose(sorted(zip(trace["x"], trace["y"], strict=True)), front, rtol=1e-9)
        rendered = [el.text for el in browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .g-xtitle, .js-plotly-plot .g-ytitle")]
        assert rendered == ["params", "latency_pixel3"]  # the axis labels drawn in the SVG
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "Time" not in [o.text for o in first.options] and "Best Time" not in body
        browser.set_window_size(1400, 1400)  # the whole plot, both axis titles, in the screenshot
        wait.until(lambda d: axis_titles(d) == ("params", "latency_pixel3"))
        browser.save_screenshot(str(tmp_path / "pareto_front_params_latency.png"))
        assert (tmp_path / "pareto_front_params_latency.png").stat().st_size > 10_000
