"""The analysis stages' groups: run one at a time or in forked processes, failures as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nashpo.analysis.study import GroupFailed, run_groups
from nashpo.errors import InputError


def write(path: Path, text: str) -> None:
    path.write_text(text)


def refuse(field: str) -> None:
    raise InputError(field, 3, "is not a run")


def crash() -> None:
    raise ZeroDivisionError("division by zero")


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_every_group_runs_once(tmp_path: Path, jobs: int) -> None:
    run_groups([(write, (tmp_path / f"{i}.txt", str(i))) for i in range(5)], jobs)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {f"{i}.txt": str(i) for i in range(5)}


def test_a_failing_group_in_a_worker_is_one_line_after_the_others_end(tmp_path: Path) -> None:
    with pytest.raises(GroupFailed) as err:
        run_groups([(refuse, ("runs",)), (write, (tmp_path / "done.txt", "x"))], jobs=2)
    assert str(err.value) == "runs=3: is not a run"
    assert (tmp_path / "done.txt").read_text() == "x"


def test_a_bug_in_a_worker_names_the_group_and_leaves_its_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(GroupFailed) as err:
        run_groups([(crash, ()), (crash, ())], jobs=2)
    assert str(err.value) == "crash failed with ZeroDivisionError: division by zero (traceback above)"
    assert "Traceback (most recent call last)" in capfd.readouterr().err


def test_one_job_runs_in_this_process_and_raises_the_error_itself() -> None:
    with pytest.raises(InputError, match="runs=3"):
        run_groups([(refuse, ("runs",))], jobs=1)
