"""Timing helpers shared by the benchmark scripts (medians over repeats, fresh-process timings)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable

# A fresh interpreter: ``imports`` run before the clock starts, ``body`` is timed.
COLD = """
import time
{imports}
t = time.perf_counter()
{body}
print(time.perf_counter() - t)
"""


def median_per_call(fn: Callable[[int], None], calls: int, repeats: int) -> float:
    """Median seconds per call of ``fn(calls)`` over ``repeats`` rounds."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(calls)
        times.append((time.perf_counter() - t) / calls)
    return statistics.median(times)


def cold(imports: str, body: str, repeats: int) -> float:
    """Median seconds of ``body`` in fresh processes."""
    runs = []
    for _ in range(repeats):
        res = subprocess.run([sys.executable, "-c", COLD.format(imports=imports, body=body)], capture_output=True, text=True, check=True)
        runs.append(float(res.stdout.split()[-1]))
    return statistics.median(runs)
