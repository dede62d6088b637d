"""K simulated workers on one simulated clock: an event heap of running trials (after syne-tune's
simulator backend, without its clock steps: the clock jumps to the next trial's end).

Rules (docs/parallel.md): every free worker is given a trial at once, in worker order; the trial that
ends first is told first, and trials ending at the same instant are told together in the order they
were asked; the workers they free are refilled in worker order.
"""

from __future__ import annotations

import heapq
from typing import Any, NamedTuple

from nashpo.errors import InputError

MAX_WORKERS = 256  # docs/parallel.md: more simulated workers than any study here needs


def check_workers(workers: object, field: str = "workers") -> int:
    """An integer in 1..MAX_WORKERS, else one line naming the field."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InputError(field, workers, f"must be an integer in 1..{MAX_WORKERS}")
    return int(workers)


class Running(NamedTuple):
    """A trial on a worker: it ends at ``end`` on the simulated clock (``seq``: ask order, for ties)."""

    end: float
    seq: int
    worker: int
    start: float
    info: Any
    code: int
    res: dict[str, float]
    cost: float
    t_ask: float


class Workers:
    """The free workers (a min-heap of their ids) and the running trials (a min-heap by end, ask order)."""

    def __init__(self, k: int) -> None:
        self.free: list[int] = list(range(k))
        self.running: list[Running] = []

    def take(self) -> int:
        return heapq.heappop(self.free)

    def start(self, trial: Running) -> None:
        heapq.heappush(self.running, trial)

    def finish_next(self) -> list[Running]:
        """Every trial ending at the earliest end time, in ask order; their workers become free."""
        done = [heapq.heappop(self.running)]
        while self.running and self.running[0].end == done[0].end:
            done.append(heapq.heappop(self.running))
        for trial in done:
            heapq.heappush(self.free, trial.worker)
        return done
