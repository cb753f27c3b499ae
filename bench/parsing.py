"""The parse-only loop: the parser library over the corpus in this one process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from logagg.parser import parse_batch
from logagg.queues import RawBatch


def pure(batches: Sequence[RawBatch], seconds: float) -> tuple[float, float, float]:
    """Best and median lines/s of parse_batch over all ``batches``, for about ``seconds``,
    and lines per second of this process's CPU time over the whole run.

    The best pass is the figure least disturbed by other work on the machine; the CPU
    figure is not disturbed by waiting for a CPU at all.
    """
    for batch in batches[:2]:
        parse_batch(batch)  # warm caches and imports
    rates = []
    total = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or len(rates) < 3:
        lines = 0
        begun = time.perf_counter()
        for batch in batches:
            lines += len(parse_batch(batch)["events"])
        rates.append(lines / (time.perf_counter() - begun))
        total += lines
    cpu_rate = total / (time.process_time() - cpu_started)
    return max(rates), statistics.median(rates), cpu_rate
