"""The SLURM profile on a real one-node SLURM cluster (Debian's slurm-wlm + munge, accounting off, default
partition named "main"): `snakemake --profile profiles/slurm` with no other flags runs the tiny study
through SLURM, and its outputs equal a local `--cores 2` run byte for byte.

tests/slurm/cluster.sh installs the packages if missing, starts the daemons for this host and stops them
at the end. It needs root; without root the test is skipped with one line saying so.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_workflow import REPO, checkout, logs, snakemake

CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
COMPARED = ("aggregate", "stats", "transfer", "importance", "deepcave", "figures")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip(f"SLURM test cluster not started: munged, slurmctld and slurmd need root (running as uid {os.geteuid()})")
    state = tmp_path_factory.mktemp("slurm")
    started = time.perf_counter()
    proc = subprocess.run(["bash", str(CLUSTER), "start", str(state)], capture_output=True, text=True, timeout=900)
    if proc.returncode in (3, 4):  # cannot run the daemons here, or the host has a SLURM of its own
        pytest.skip(proc.stderr.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"SLURM one-node cluster set up in {time.perf_counter() - started:.1f} s")
    try:
        yield state
    finally:
        subprocess.run(["bash", str(CLUSTER), "stop", str(state)], check=True, timeout=60)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for d in COMPARED for p in sorted((root / "results" / d).rglob("*")) if p.is_file()}


def scontrol(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"(\w+)=(\S+)", out))


def test_profile_runs_unmodified_on_slurm(slurm: Path, tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "slurm").mkdir()
    local, cluster = checkout(tmp_path / "local"), checkout(tmp_path / "slurm")

    started = time.perf_counter()
    res = snakemake(local, "--cores", "2")
    local_s = time.perf_counter() - started
    assert res.returncode == 0, res.stderr[-3000:]

    started = time.perf_counter()
    res = snakemake(cluster, "--profile", "profiles/slurm", timeout=900)
    slurm_s = time.perf_counter() - started
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-5000:]

    # Every job but the target rule went through SLURM: the table preparations, one "search" group (searches
    # and exports), one "analysis" group.
    assert re.findall(r"^localrule (\w+):", out, re.M) == ["all"]
    submitted = re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/(\w+?)/", out)
    assert sorted(name for _, name in submitted).count("rule_prepare_data") == 2, submitted
    assert sum(name.startswith("group_search_") for _, name in submitted) == 1, submitted
    assert sum(name.startswith("group_analysis_") for _, name in submitted) == 1, submitted
    for job_id, _ in submitted:
        job = scontrol(job_id)
        assert job["JobState"] == "COMPLETED" and job["Partition"] == "main", job  # SLURM's default partition
        assert int(job["NumCPUs"]) <= os.cpu_count() and job["NumNodes"] == "1", job  # a group fits one node
    print(f"SLURM job IDs: {', '.join(j for j, _ in submitted)}; wall time: SLURM {slurm_s:.0f} s, local --cores 2 {local_s:.0f} s")

    a, b = logs(local), logs(cluster)
    assert len(a) == 8 and a.keys() == b.keys()
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])
    ours, theirs = files(local), files(cluster)
    assert len(ours) > 90 and ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []
