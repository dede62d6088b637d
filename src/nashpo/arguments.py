"""Command-line arguments shared by several subcommands (``nashpo run``, ``run-chunk``, ``front``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from nashpo.errors import InputError


def hyperparameters_arg(text: str | None) -> dict[str, Any]:
    """``--hp``: a JSON object, or one line naming the problem."""
    try:
        hp = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise InputError("hp", text, f"is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(hp, dict):
        raise InputError("hp", text, "must be a JSON object")
    return hp


def fidelities_arg(text: str | None) -> list[int] | None:
    """``--fidelities``: comma-separated whole epochs."""
    try:
        return [int(f) for f in text.split(",")] if text else None
    except ValueError:
        raise InputError("fidelities", text, "must be comma-separated whole epochs, e.g. 12,200") from None


def objectives_arg(text: str | None) -> list[str] | None:
    """``--objectives``: comma-separated objective specs (checked against the family by the runner)."""
    return [part.strip() for part in text.split(",")] if text is not None else None


def add_objectives_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--objectives",
        help="comma-separated objectives, error first; two run a multi-objective search, e.g. valid_error,latency:pixel3 (docs/multi_objective.md)",
    )


def workers_arg(text: str) -> int:
    """``--workers``: a whole number (its range is checked by the runner)."""
    try:
        return int(text)
    except ValueError:
        raise InputError("workers", text, "must be an integer (simulated parallel workers)") from None


def add_workers_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", default="1", help="simulated parallel workers on one clock (default: 1; docs/parallel.md)")
