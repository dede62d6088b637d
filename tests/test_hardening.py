"""Bad input and faults: one line naming the field, a nonzero exit, nothing deleted or left behind.

Each case asserts the exit code, that stderr is a single line naming the field (or file), and that
the folders involved are unchanged afterwards (no stray ``.tmp``/``.old`` siblings, no lost data).
CLI cases call ``nashpo.cli.main`` in-process; kill cases run the CLI as a subprocess and SIGKILL it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nashpo.cli import main
from nashpo.data.tables import META_KEY, table_path
from nashpo.outdir import finish_out_dir, prepare_out_dir
from nashpo.runner import MAX_EVALUATIONS
from nashpo.triallog import TIMING_COLUMNS, read_trials

RUN = ["run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "0", "--max-evals", "20"]


# ------------------------------------------------------------------ helpers


def tree(*roots: Path) -> dict[str, tuple[bool, int, int]]:
    """Every path under ``roots`` with (is_dir, size, mtime): equal before and after = nothing changed."""
    out = {}
    for root in roots:
        for p in [root, *sorted(root.rglob("*"))] if root.exists() else []:
            st = p.lstat()
            out[str(p)] = (p.is_dir(), 0 if p.is_dir() else st.st_size, 0 if p.is_dir() else st.st_mtime_ns)
    return out


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def one_line(err: str, *needles: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def refused(capsys, roots: list[Path], args: list, *needles: str, code: int = 2) -> str:
    """Run the CLI, expect a refusal with one line holding ``needles`` and no change under ``roots``."""
    before = tree(*roots)
    rc, err = cli(capsys, *args)
    assert rc == code, err
    line = one_line(err, *needles)
    assert tree(*roots) == before
    return line


@pytest.fixture()
def env_data(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NASHPO_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture(scope="module")
def done_run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A finished 20-trial run (never modified; tests copy it)."""
    out = tmp_path_factory.mktemp("done") / "run"
    assert main(["--data-dir", str(data_dir), *RUN, "--out", str(out)]) == 0
    return out


def copy_run(done_run: Path, dest: Path) -> Path:
    shutil.copytree(done_run, dest)
    return dest


@contextlib.contextmanager
def mounted(where: Path, options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


# ------------------------------------------------------------------ one line instead of a traceback


def test_query_negative_bench_seed(capsys, env_data: Path) -> None:
    refused(capsys, [env_data], ["query", "--dataset", "cifar10", "--index", "0", "--bench-seed", "-1"], "bench-seed=-1")


def test_query_bench_seed_too_large(capsys, env_data: Path) -> None:
    refused(capsys, [env_data], ["query", "--dataset", "cifar10", "--index", "0", "--bench-seed", str(2**32)], "bench-seed=4294967296")


@pytest.mark.parametrize("seed", ["4294967296", "-1"])
def test_run_seed_out_of_range(capsys, env_data: Path, tmp_path: Path, seed: str) -> None:
    args = ["run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", seed, "--max-evals", "5", "--out", tmp_path / "r"]
    refused(capsys, [tmp_path], args, f"seed={seed}", "0..4294967295")


@pytest.mark.parametrize(
    ("hp", "needle"), [("{x:1", "hp='{x:1': is not valid JSON"), ("[1, 2]", "must be a JSON object"), ('{"bogus": 1}', "rs.bogus=1")]
)
def test_run_bad_hp(capsys, env_data: Path, tmp_path: Path, hp: str, needle: str) -> None:
    refused(capsys, [tmp_path], [*RUN, "--hp", hp, "--out", tmp_path / "r"], needle)


def test_run_fidelities_not_numbers(capsys, env_data: Path, tmp_path: Path) -> None:
    args = ["run", "--optimizer", "dehb", "--dataset", "cifar10", "--seed", "0", "--max-evals", "5", "--fidelities", "12,abc"]
    refused(capsys, [tmp_path], [*args, "--out", tmp_path / "r"], "fidelities='12,abc'")


@pytest.mark.parametrize(
    ("option", "value", "needle"), [("--hp", "{x:1", "hp='{x:1': is not valid JSON"), ("--fidelities", "12,abc", "fidelities='12,abc'")]
)
def test_run_chunk_bad_options(capsys, env_data: Path, tmp_path: Path, option: str, value: str, needle: str) -> None:
    args = ["run-chunk", "--optimizer", "dehb", "--dataset", "cifar10", "--seeds", "0-1", "--max-evals", "5", option, value]
    refused(capsys, [tmp_path], [*args, "--runs-dir", tmp_path / "runs", "--manifest", tmp_path / "runs" / "m.json"], needle)


@pytest.mark.parametrize(
    ("value", "needle"), [("inf", "max_sim_seconds=inf"), ("nan", "max_sim_seconds=nan"), ("-5", "max_sim_seconds=-5")]
)
def test_run_budget_not_finite(capsys, env_data: Path, tmp_path: Path, value: str, needle: str) -> None:
    args = ["run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "0", "--max-sim-seconds", value, "--out", tmp_path / "r"]
    refused(capsys, [tmp_path], args, needle, "finite")


def test_run_budget_beyond_the_safety_cap(capsys, env_data: Path, tmp_path: Path) -> None:
    args = ["run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "0", "--max-sim-seconds", "1e12", "--out", tmp_path / "r"]
    refused(capsys, [tmp_path], args, "max_sim_seconds=1000000000000.0", f"safety cap of {MAX_EVALUATIONS}")


def test_run_max_evals_beyond_the_safety_cap(capsys, env_data: Path, tmp_path: Path) -> None:
    args = ["run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "0", "--max-evals", str(MAX_EVALUATIONS + 1)]
    refused(capsys, [tmp_path], [*args, "--out", tmp_path / "r"], f"max_evals={MAX_EVALUATIONS + 1}", "safety cap")


def test_data_dir_is_a_file(capsys, tmp_path: Path) -> None:
    f = tmp_path / "tables.txt"
    f.write_text("not a folder")
    refused(capsys, [tmp_path], ["--data-dir", f, *RUN, "--out", tmp_path / "r"], "data-dir=", "is a file, not a folder")


def test_data_dir_under_a_file(capsys, tmp_path: Path) -> None:
    f = tmp_path / "tables.txt"
    f.write_text("not a folder")
    refused(capsys, [tmp_path], ["--data-dir", f / "sub", "query", "--dataset", "cifar10", "--index", "1"], "data-dir=", "is a file")


# ------------------------------------------------------------------ --out checks before the search starts


def test_out_is_a_symlink(capsys, env_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    refused(capsys, [tmp_path], [*RUN, "--out", tmp_path / "link", "--force"], "out=", "is a symlink")


def test_out_under_a_file(capsys, env_data: Path, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    refused(capsys, [tmp_path], [*RUN, "--out", tmp_path / "f" / "run"], "out=", "which is a file")


def test_out_is_a_file(capsys, env_data: Path, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    refused(capsys, [tmp_path], [*RUN, "--out", tmp_path / "f", "--force"], "out=", "is a file")


def test_out_on_a_read_only_file_system(capsys, env_data: Path, tmp_path: Path) -> None:
    with mounted(tmp_path / "ro", "ro,size=1m") as ro:
        refused(capsys, [tmp_path], [*RUN, "--out", ro / "run"], "out=", "Read-only file system")


def test_out_not_empty_without_force(capsys, env_data: Path, tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("mine")
    refused(capsys, [tmp_path], [*RUN, "--out", tmp_path / "r"], "out=", "pass --force")


def test_force_never_replaces_a_parent_folder(capsys, env_data: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "keep.txt").write_text("precious")
    monkeypatch.chdir(tmp_path / "a" / "b")
    refused(capsys, [tmp_path], [*RUN, "--out", "..", "--force"], "out='..'")
    assert (tmp_path / "a" / "keep.txt").read_text() == "precious"


def test_force_never_replaces_the_current_folder(capsys, env_data: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    refused(capsys, [tmp_path], [*RUN, "--out", ".", "--force"], "out='.'")


def test_force_never_replaces_the_data_dir(capsys, data_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_dir, data)
    refused(capsys, [data], ["--data-dir", data, *RUN, "--out", data, "--force"], "out=", "--force only replaces a run folder")


def test_force_never_replaces_another_folder(capsys, env_data: Path, tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "thesis.tex").write_text("years of work")
    refused(capsys, [tmp_path], [*RUN, "--out", tmp_path / "r", "--force"], "is not a nashpo output")


def test_full_disk_leaves_nothing_behind(capsys, env_data: Path, tmp_path: Path) -> None:
    with mounted(tmp_path / "full", "size=8k") as full:
        args = ["run", "--optimizer", "rs", "--dataset", "cifar10", "--seed", "0", "--max-evals", "400", "--out", full / "run"]
        rc, err = cli(capsys, *args)
        assert rc == 2, err
        one_line(err.splitlines()[-1], "out=", "No space left on device")
        assert list(full.iterdir()) == []


# ------------------------------------------------------------------ --force is an atomic swap; stale work folders


def test_force_replaces_an_earlier_run(capsys, env_data: Path, tmp_path: Path, done_run: Path) -> None:
    out = copy_run(done_run, tmp_path / "r")
    rc, err = cli(capsys, "run", "--optimizer", "re", "--dataset", "cifar10", "--seed", "1", "--max-evals", "15", "--out", out, "--force")
    assert rc == 0, err
    assert json.loads((out / "run.json").read_text())["optimizer"] == "re"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_stale_work_folders_are_removed_by_the_next_run(capsys, env_data: Path, tmp_path: Path, done_run: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    copy_run(done_run, tmp_path / f".r.tmp{dead}")  # a complete trials.parquet, stranded by a kill
    copy_run(done_run, tmp_path / f".r.old{dead}")
    live = tmp_path / f".r.tmp{os.getppid()}"  # a writer that still runs keeps its folder
    live.mkdir()
    rc, err = cli(capsys, *RUN, "--out", tmp_path / "r")
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "r"])


def test_kill_between_the_two_renames_keeps_both_outputs(tmp_path: Path, done_run: Path, monkeypatch) -> None:
    out = copy_run(done_run, tmp_path / "r")
    old_bytes = (out / "trials.parquet").read_bytes()
    tmp = prepare_out_dir(out, force=True)
    (tmp / "run.json").write_text("{}")
    real_replace = os.replace
    calls = []

    def replace_then_die(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # stands in for a SIGKILL after the old output was renamed away
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        finish_out_dir(tmp, out)
    monkeypatch.undo()
    old = tmp_path / f".r.old{os.getpid()}"
    assert not out.exists() and (old / "trials.parquet").read_bytes() == old_bytes and (tmp / "run.json").is_file()


# ------------------------------------------------------------------ SIGKILL during search and export, then rerun


def _spawn(args: list, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nashpo", *map(str, args)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _kill_when(proc: subprocess.Popen, folder: Path, prefix: str, timeout: float = 120, delay: float = 0.3) -> None:
    """SIGKILL ``proc`` ``delay`` seconds after its hidden work folder appears."""
    deadline = time.time() + timeout
    while time.time() < deadline and not any(p.name.startswith(prefix) for p in folder.iterdir()):
        assert proc.poll() is None, "finished before it could be killed"
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _trials(run: Path):
    return read_trials(run).drop(columns=list(TIMING_COLUMNS))


def test_sigkill_during_search_then_rerun_is_identical(nashpo_env: dict, tmp_path: Path) -> None:
    args = ["run", "--optimizer", "re", "--dataset", "cifar10", "--seed", "3", "--max-evals", "3000"]
    assert subprocess.run([sys.executable, "-m", "nashpo", *args, "--out", tmp_path / "ref"], env=nashpo_env).returncode == 0
    out = tmp_path / "r"
    proc = _spawn([*args, "--out", out], nashpo_env)
    _kill_when(proc, tmp_path, ".r.tmp")
    assert not out.exists()  # nothing half-written under --out
    res = subprocess.run([sys.executable, "-m", "nashpo", *args, "--out", out], env=nashpo_env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "ref"]  # the killed run's work folder is gone
    assert _trials(out).equals(_trials(tmp_path / "ref"))


def test_sigkill_during_force_overwrite_keeps_the_old_run(nashpo_env: dict, tmp_path: Path, done_run: Path) -> None:
    out = copy_run(done_run, tmp_path / "r")
    before = tree(out)
    proc = _spawn(
        ["run", "--optimizer", "re", "--dataset", "cifar10", "--seed", "4", "--max-evals", "3000", "--out", out, "--force"], nashpo_env
    )
    _kill_when(proc, tmp_path, ".r.tmp")
    assert tree(out) == before  # the old run is complete and untouched


def test_sigkill_during_export_then_rerun_is_identical(nashpo_env: dict, tmp_path: Path) -> None:
    run = tmp_path / "run"  # 2,000 trials: saving and re-loading the export takes long enough to be hit
    nashpo = [sys.executable, "-m", "nashpo"]
    assert subprocess.run([*nashpo, *RUN[:-1], "2000", "--out", run], env=nashpo_env, capture_output=True).returncode == 0
    args = ["to-deepcave", "--from", "trial-log", run]
    assert subprocess.run([*nashpo, *map(str, args), "--out", tmp_path / "ref"], env=nashpo_env, capture_output=True).returncode == 0
    proc = _spawn([*args, "--out", tmp_path / "dc"], nashpo_env)
    _kill_when(proc, tmp_path, ".dc.tmp", timeout=180, delay=0.0)  # while the export is saved and checked
    assert not (tmp_path / "dc").exists()
    res = subprocess.run([*nashpo, *map(str, args), "--out", tmp_path / "dc"], env=nashpo_env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dc", "ref", "run"]
    ref = {p.name: p.read_bytes() for p in (tmp_path / "ref").iterdir() if p.is_file()}
    assert {p.name: p.read_bytes() for p in (tmp_path / "dc").iterdir() if p.is_file()} == ref


# ------------------------------------------------------------------ export of damaged runs


def _export(run: Path, tmp_path: Path) -> list:
    return ["to-deepcave", "--from", "trial-log", run, "--out", tmp_path / "dc"]


def test_export_refuses_to_overwrite_its_source(capsys, tmp_path: Path, done_run: Path) -> None:
    run = copy_run(done_run, tmp_path / "run")
    refused(capsys, [tmp_path], ["to-deepcave", "--from", "trial-log", run, "--out", run, "--force"], "out=", "would overwrite the source")


def test_export_force_never_replaces_a_run(capsys, tmp_path: Path, done_run: Path) -> None:
    run = copy_run(done_run, tmp_path / "run")
    other = copy_run(done_run, tmp_path / "other")
    refused(
        capsys, [tmp_path], ["to-deepcave", "--from", "trial-log", run, "--out", other, "--force"], "is a run folder", "DeepCAVE export"
    )


def test_export_truncated_trials(capsys, tmp_path: Path, done_run: Path) -> None:
    run = copy_run(done_run, tmp_path / "run")
    data = (run / "trials.parquet").read_bytes()
    (run / "trials.parquet").write_bytes(data[: len(data) // 2])
    refused(capsys, [tmp_path], _export(run, tmp_path), str(run / "trials.parquet"), "unreadable")


def test_export_trials_missing_a_column(capsys, tmp_path: Path, done_run: Path) -> None:
    run = copy_run(done_run, tmp_path / "run")
    pq.write_table(pq.read_table(run / "trials.parquet").drop_columns(["objective"]), run / "trials.parquet")
    refused(capsys, [tmp_path], _export(run, tmp_path), str(run / "trials.parquet"), "lacks column(s) objective")


def test_export_zero_trials(capsys, tmp_path: Path, done_run: Path) -> None:
    run = copy_run(done_run, tmp_path / "run")
    pq.write_table(pq.read_table(run / "trials.parquet").slice(0, 0), run / "trials.parquet")
    refused(capsys, [tmp_path], _export(run, tmp_path), "trials.parquet", "0 trials")


@pytest.mark.parametrize(("text", "needle"), [("{not json", "not valid JSON"), ("[1, 2]", "JSON list"), ('{"seed": 0}', "lacks optimizer")])
def test_export_garbage_run_record(capsys, tmp_path: Path, done_run: Path, text: str, needle: str) -> None:
    run = copy_run(done_run, tmp_path / "run")
    (run / "run.json").write_text(text)
    refused(capsys, [tmp_path], _export(run, tmp_path), str(run / "run.json"), needle)


def test_export_full_disk(capsys, tmp_path: Path, done_run: Path) -> None:
    run = copy_run(done_run, tmp_path / "run")
    with mounted(tmp_path / "full", "size=4k") as full:
        rc, err = cli(capsys, "to-deepcave", "--from", "trial-log", run, "--out", full / "dc")
        assert rc == 1, err
        one_line(err, "No space left on device")
        assert list(full.iterdir()) == []


# ------------------------------------------------------------------ wrong or damaged tables


def _tables(data_dir: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(data_dir, data)
    return data


def _rewrite(path: Path, change) -> None:
    table = pq.read_table(path)
    meta = table.schema.metadata
    pq.write_table(change(table).replace_schema_metadata(meta), path)


def test_table_of_another_dataset(capsys, data_dir: Path, tmp_path: Path) -> None:
    data = _tables(data_dir, tmp_path)
    shutil.copy2(table_path(data, "cifar100"), table_path(data, "cifar10"))
    line = refused(capsys, [data], ["--data-dir", data, "query", "--dataset", "cifar10", "--index", "0"], "nb201_cifar10.parquet")
    assert "holds the cifar100 table, not cifar10" in line


def test_table_cut_short(capsys, data_dir: Path, tmp_path: Path) -> None:
    data = _tables(data_dir, tmp_path)
    _rewrite(table_path(data, "cifar10"), lambda t: t.slice(0, 15_000))
    refused(capsys, [data], ["--data-dir", data, "query", "--dataset", "cifar10", "--index", "0"], "nb201_cifar10.parquet", "15000 rows")


def test_table_with_one_value_changed(capsys, data_dir: Path, tmp_path: Path) -> None:
    data = _tables(data_dir, tmp_path)

    def bump(t: pa.Table) -> pa.Table:
        col = t.column("valid_acc@12").to_pylist()
        col[777] += 0.01
        return t.set_column(t.schema.get_field_index("valid_acc@12"), "valid_acc@12", pa.array(col))

    _rewrite(table_path(data, "cifar10"), bump)
    refused(capsys, [data], ["--data-dir", data, *RUN, "--out", tmp_path / "r"], "nb201_cifar10.parquet", "checksum")
    rc, err = cli(capsys, "--data-dir", data, "data", "check")
    assert rc == 2
    one_line(err, "data check", "nb201_cifar10.parquet", "checksum")


def test_data_check_verifies_the_mirror(capsys, data_dir: Path, mirror: Path, tmp_path: Path) -> None:
    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy)
    victim = copy / "help-latency" / "1080ti_1.pt"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    rc, err = cli(capsys, "--data-dir", data_dir, "data", "check", "--mirror", copy)
    assert rc == 2
    one_line(err, "data check", str(victim), "does not match SHA256SUMS")
    assert cli(capsys, "--data-dir", data_dir, "data", "check", "--mirror", mirror)[0] == 0


def test_old_schema_table_is_refused(capsys, data_dir: Path, tmp_path: Path) -> None:
    data = _tables(data_dir, tmp_path)
    path = table_path(data, "cifar10")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[META_KEY])
    meta["schema_version"] = 1
    pq.write_table(table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()}), path)
    refused(
        capsys, [data], ["--data-dir", data, "query", "--dataset", "cifar10", "--index", "0"], "nb201_cifar10.parquet", "schema version"
    )


# ------------------------------------------------------------------ analysis: all or nothing


def test_aggregate_on_a_damaged_run_removes_stale_outputs(capsys, env_data: Path, tmp_path: Path, done_run: Path) -> None:
    runs = [copy_run(done_run, tmp_path / "runs" / "cifar10" / "rs" / "0")]
    rc, err = cli(capsys, *RUN[:6], "1", "--max-evals", "20", "--out", tmp_path / "runs" / "cifar10" / "rs" / "1")
    assert rc == 0, err
    runs.append(tmp_path / "runs" / "cifar10" / "rs" / "1")
    out = tmp_path / "aggregate"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert cli(capsys, "analysis", "aggregate", "--runs", *runs, "--out", out)[0] == 0
    assert (out / "summary.csv").is_file()
    data = (runs[1] / "trials.parquet").read_bytes()
    (runs[1] / "trials.parquet").write_bytes(data[:100])
    rc, err = cli(capsys, "analysis", "aggregate", "--runs", *runs, "--out", out)
    assert rc == 2
    one_line(err, str(runs[1] / "trials.parquet"), "unreadable")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # no stale table stays as if current


def test_stats_failure_removes_its_stale_outputs(capsys, tmp_path: Path) -> None:
    out = tmp_path / "stats"
    out.mkdir()
    (out / "wilcoxon.csv").write_text("stale")
    (tmp_path / ".stats.outputs.json").write_text('["wilcoxon.csv"]')  # written by the last successful call
    (out / "keep.txt").write_text("mine")
    rc, err = cli(capsys, "analysis", "stats", "--aggregate", tmp_path / "nowhere", "--out", out)
    assert rc == 2
    one_line(err, "nowhere", "has no parts.json: run `nashpo analysis aggregate` first")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert not (tmp_path / ".stats.outputs.json").exists()


# ------------------------------------------------------------------ the workflow: config checks before any job, quoting, failures

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY = {
    "results_dir": "results",
    "tasks": [
        {"family": "nb201", "tasks": ["cifar10"], "protocol": "proxy", "budget": {"max_evals": 20}, "seeds": {"start": 0, "count": 2}}
    ],
    "optimizers": {"rs": {}, "re": {"population_size": 8, "sample_size": 3}},
    "importance_seeds": 1,
}
RUNS = "results/runs/workers_1/nb201/cifar10/valid_error"  # one task's runs: {family}/{task}/{objectives}


def entry(**changes) -> list[dict]:
    """TINY's `tasks` with its one entry changed."""
    return [TINY["tasks"][0] | changes]


HOSTILE = "' || touch PWNED || echo '"


def study(tmp: Path, **changes) -> Path:
    import yaml

    root = tmp / "study"
    root.mkdir()
    for item in ("Snakefile", "rules", "schemas", "profiles", "envs", "src"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / item)
    cfg = json.loads(json.dumps(TINY))
    cfg.update(changes)
    (root / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return root


def snakemake(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, NASHPO_NB201_MIRROR=str(REPO.parent / "shared" / "nb201"))
    return subprocess.run([SNAKEMAKE, *args], cwd=root, capture_output=True, text=True, timeout=timeout, env=env)


def config_refused(root: Path, *needles: str) -> None:
    before = sorted(p.name for p in root.iterdir())
    res = snakemake(root, "-n", "--cores", "1")
    assert res.returncode != 0, res.stdout
    lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("Using workflow specific profile")]
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert sorted(p.name for p in root.iterdir() if p.name != ".snakemake") == before  # no job ran, nothing written


@pytest.mark.slow
@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        ({"optimizers": {"re": {"population_size": 0}}}, ("config: optimizers.re.population_size=0", "at least 2")),
        ({"optimizers": {"re": {"sample_size": HOSTILE}}}, ("optimizers.re.sample_size=", "must be of type int")),
        ({"optimizers": {"tpe": {"n_startup_trials": 0}}}, ("optimizers.tpe.n_startup_trials=0",)),
        ({"optimizers": {"dehb": {"strategy": HOSTILE}}}, ("optimizers.dehb.strategy=",)),
        ({"tasks": entry(seeds={"start": 2**32 - 1, "count": 2})}, ("config: tasks[0].seeds=", "4294967296 exceeds 4294967295")),
        ({"tasks": entry(budget={"max_sim_seconds": float("inf")})}, ("config: tasks[0].budget.max_sim_seconds=inf", "finite")),
        ({"noise": "seed"}, ("config: noise='seed'", "tasks[0] searches nb201 with protocol proxy", "re, rs would see no seed noise")),
        ({"nb201_table": {"incumbent_rule": "best"}}, ('config: nb201_table.incumbent_rule="best"', "budget")),
    ],
    ids=[
        "population_size_0",
        "hostile_sample_size",
        "tpe_startup_0",
        "hostile_dehb_strategy",
        "seed_2_32",
        "inf_budget",
        "seed_noise_proxy",
        "bad_incumbent_rule",
    ],
)
def test_config_is_checked_before_any_job(tmp_path: Path, changes: dict, needles: tuple) -> None:
    root = study(tmp_path, **changes)
    config_refused(root, *needles)
    assert not (root / "PWNED").exists()


@pytest.mark.slow
def test_results_dir_with_braces_is_refused(tmp_path: Path) -> None:
    root = study(tmp_path, results_dir="res{dataset}")
    res = snakemake(root, "-n", "--cores", "1")
    lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("Using workflow specific profile")]
    assert res.returncode != 0 and lines == ["config: results_dir=\"res{dataset}\": does not match '^[^{}]*$'"]


def _commands(root: Path, search_export: bool) -> list[list[str]]:
    """The dry run's shell commands, split as the shell would: of the search/export rules, or of the others."""
    import shlex

    res = snakemake(root, "-n", "-p", "--forceall", "--cores", "1")
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line.split("Shell command: ", 1)[1] for line in (res.stdout + res.stderr).splitlines() if "Shell command: " in line]
    return [shlex.split(c) for c in lines if (" run-chunk " in c or " to-deepcave-chunk " in c) == search_export]


HOSTILE_DIR = "r $(touch PWNED) it's é"


def _check_paths(commands: list[list[str]]) -> None:
    assert commands
    for tokens in commands:
        for token in tokens:
            if "PWNED" in token:
                assert token.startswith(HOSTILE_DIR), tokens  # the path is one intact argument


@pytest.mark.slow
def test_analysis_rules_quote_every_path(tmp_path: Path) -> None:
    mine = _commands(study(tmp_path, results_dir=HOSTILE_DIR), search_export=False)
    assert {c[c.index("analysis") + 1] for c in mine if "analysis" in c} == {
        "aggregate",
        "stats",
        "transfer",
        "importance",
        "figures",
        "nb201-table",
    }
    assert sum("prepare" in c for c in mine) == 1
    _check_paths(mine)


@pytest.mark.slow
def test_search_and_export_rules_quote_every_path(tmp_path: Path) -> None:
    _check_paths(_commands(study(tmp_path, results_dir=HOSTILE_DIR), search_export=True))


@pytest.mark.slow
def test_results_dir_with_space_and_non_ascii_end_to_end(tmp_path: Path) -> None:
    root = study(tmp_path, results_dir="résultats/with space")
    res = snakemake(root, "--cores", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    results = root / "résultats" / "with space"
    assert len(list((results / "runs").glob("*/*/*/*/*/*/run.json"))) == 4
    assert (results / "figures" / "cd_diagram.png").is_file() and (
        results / "logs" / "search" / "workers_1" / "nb201" / "cifar10" / "valid_error" / "rs" / "seeds_0-1.log"
    ).is_file()
    assert sorted(p.name for p in root.iterdir() if p.name not in (".snakemake", "résultats")) == sorted(
        ["Snakefile", "rules", "schemas", "profiles", "envs", "src", "config.yaml"]
    )  # no stray log files such as ./résultats/with


@pytest.mark.slow
def test_keep_going_failure_summary_then_analyse_what_finished(tmp_path: Path, data_dir: Path) -> None:
    optimizers = {"rs": {}, "re": {"population_size": 8, "sample_size": 3}, "smac_hb": {"eta": 3}}  # smac_hb fails in its jobs
    root = study(tmp_path, optimizers=optimizers, data_dir=str(data_dir))  # tables prepared once per session
    res = snakemake(root, "--cores", "2", "--keep-going")
    assert res.returncode != 0
    lines = res.stderr.splitlines()
    summary = lines[lines.index("nashpo: 1 job(s) failed:") :]
    line = next(x for x in summary if f"{RUNS}/smac_hb/seeds_0-1.json:" in x)  # one job searches seeds 0 and 1
    assert line.startswith("  FAILED search -> ")
    assert "log results/logs/search/workers_1/nb201/cifar10/valid_error/smac_hb/seeds_0-1.log: nashpo: error: smac_hb.eta=3" in line
    assert any("allow_missing_runs=True" in x for x in summary)
    assert not (root / "results" / "aggregate").exists()  # nothing analysed yet

    res = snakemake(root, "--cores", "2", "--config", "allow_missing_runs=True")
    assert res.returncode == 0, res.stderr[-3000:]
    missing = (root / "results" / "stats" / "missing_runs.csv").read_text().splitlines()
    assert missing == [
        "dataset,optimizer,seed,run_dir",
        f"cifar10,smac_hb,0,{RUNS}/smac_hb/0",
        f"cifar10,smac_hb,1,{RUNS}/smac_hb/1",
    ]
    note = "Missing runs (failed, not analysed): smac_hb on cifar10, seed 0; smac_hb on cifar10, seed 1."
    assert note in (root / "results" / "figures" / "anytime_time.rst").read_text()
    assert note in (root / "results" / "stats" / "summary_table.tex").read_text()
    finals = pd_read(root / "results" / "aggregate" / "per_run_final.parquet")
    assert sorted(set(finals["optimizer"])) == ["re", "rs"] and len(finals) == 4


def pd_read(path: Path):
    import pandas as pd

    return pd.read_parquet(path)
