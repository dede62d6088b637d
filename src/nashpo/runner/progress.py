"""Progress lines of a search on stderr, at most one every ``every_s`` seconds (and a last one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """``[label] trials N  sim S  <status>``; ``status`` tells the incumbent (single objective) or the front."""

    def __init__(self, label: str, stream: TextIO | None, status: Callable[[], str], every_s: float = 2.0) -> None:
        self.label, self.stream, self.status, self.every_s = label, stream, status, every_s
        self.last = 0.0

    def __call__(self, n: int, sim: float, force: bool = False) -> None:
        now = time.monotonic()
        if self.stream is None or (not force and now - self.last < self.every_s):
            return
        self.last = now
        print(self.line(n, sim), file=self.stream, flush=True)

    def line(self, n: int, sim: float) -> str:
        return f"[{self.label}] trials {n:>6}  sim {sim:>12.0f}s  {self.status()}"
