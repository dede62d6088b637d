"""Errors that the CLI turns into one clear line and a nonzero exit."""

from __future__ import annotations

from typing import Any


class NashpoError(Exception):
    """Base class for user-facing errors."""


class InputError(NashpoError, ValueError):
    """Bad user input: names the field and the offending value."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}={value!r}: {problem}")


class DataError(NashpoError, RuntimeError):
    """Missing or corrupt benchmark data: names the file and how to fix it."""

    def __init__(self, path: Any, problem: str, fix: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}. Fix: {fix}")
