"""The arithmetic of the benchmarks: percentiles, steady-window rates, summaries.

Pure functions over plain lists, no I/O, so that the unit tests (``tests/bench``) pin
exactly how every printed figure is computed. A *series* is a list of ``(time, count)``
samples in time order, ``count`` being the cumulative lines a stage had done by ``time``
as the benchmark observed it (so a stage is credited at the sample that first saw its
work, never earlier).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Series = Sequence[tuple[float, float]]


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks.

    The same definition as ``numpy.percentile``'s default and ``statistics.quantiles``
    with ``method="inclusive"``; ``nan`` for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def count_at(series: Series, moment: float) -> float:
    """The count last observed at or before ``moment`` (0 before the first sample)."""
    seen = 0.0
    for time, count in series:
        if time > moment:
            break
        seen = count
    return seen


def time_reaching(series: Series, count: float) -> float | None:
    """The time of the first sample whose count is at least ``count`` (``None``: never)."""
    for time, seen in series:
        if seen >= count:
            return time
    return None


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of a run and how much a stage did in it."""

    start: float
    end: float
    lines: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else math.nan


def window_between(series: Series, start: float, end: float) -> Window:
    """What ``series`` did between ``start`` and ``end`` (its steady window)."""
    if end <= start:
        raise ValueError(f"empty window {start}..{end}")
    return Window(start, end, count_at(series, end) - count_at(series, start))


def window_by_fraction(series: Series, total: float, head: float, tail: float) -> Window:
    """The window from when ``head`` of ``total`` was reached to when ``tail`` was.

    For a burst that is loaded as fast as it goes: the first ``head`` (start-up, empty
    caches, the first index creations) and the part after ``tail`` (the last requests
    in flight, a partial refresh) are left out.
    """
    if not 0 <= head < tail <= 1:
        raise ValueError(f"bad fractions {head}, {tail}")
    start = time_reaching(series, head * total) if head > 0 else series[0][0]
    end = time_reaching(series, tail * total)
    if start is None or end is None or end <= start:
        raise ValueError(f"the series never covers {head:.0%}..{tail:.0%} of {total}")
    return window_between(series, start, end)


def steady_window(
    series: Series, total: float, load_end: float, head: float = 0.1, tail: float = 0.9
) -> Window:
    """The steady window of a sustained load: the pipeline saturated, warm-up left out.

    It starts when ``head`` of the ``total`` lines were delivered (queues filled,
    caches warm). It ends when the load generator stopped posting (``load_end``: the
    drain after it, with ingest idle, is not counted) or when ``tail`` of the lines
    were delivered, whichever comes first. When every line was posted before the
    window even began (a small run that the bounded backlog never held back), the
    pipeline is still saturated by its backlog, and the window runs to ``tail``.
    """
    if not 0 < head < tail <= 1:
        raise ValueError(f"bad fractions {head}, {tail}")
    start = time_reaching(series, head * total)
    end = time_reaching(series, tail * total)
    if start is None or end is None or end <= start:
        raise ValueError(f"the series never covers {head:.0%}..{tail:.0%} of {total}")
    if start < load_end < end:
        end = load_end
    return window_between(series, start, end)


def min_series(first: Series, second: Series) -> list[tuple[float, float]]:
    """The lines done by *both* stages: at each sample time, the smaller count.

    Both series must be sampled at the same times (the benchmark reads both sinks in one
    poll); a line is delivered end to end when it is searchable AND archived.
    """
    if [t for t, _ in first] != [t for t, _ in second]:
        raise ValueError("series sampled at different times")
    return [(t, min(a, b)) for (t, a), (_, b) in zip(first, second, strict=True)]


def cumulative(events: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """A series from ``(time, lines)`` events in any order: lines done by each time."""
    total = 0.0
    series = []
    for time, lines in sorted(events):
        total += lines
        series.append((time, total))
    return series


def rates_over_time(
    series: Series, origin: float, bucket: float = 1.0
) -> list[tuple[float, float]]:
    """Lines/s in consecutive ``bucket``-second intervals from ``origin`` (for charts)."""
    if not series:
        return []
    end = series[-1][0]
    points = []
    left = origin
    while left < end:
        right = left + bucket
        done = count_at(series, right) - count_at(series, left)
        points.append((left + bucket / 2 - origin, done / bucket))
        left = right
    return points


def summarise(values: Sequence[float]) -> dict[str, Any]:
    """Median and spread (min–max) of repeated runs' figures, with the values kept."""
    kept = [v for v in values if v is not None and not math.isnan(v)]
    if not kept:
        return {"median": None, "min": None, "max": None, "runs": len(values), "values": []}
    return {
        "median": statistics.median(kept),
        "min": min(kept),
        "max": max(kept),
        "runs": len(kept),
        "values": list(kept),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``; ``None`` when either is missing or the divisor is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    if math.isnan(numerator) or math.isnan(denominator):
        return None
    return numerator / denominator


def per_million(cpu_seconds: float, lines: float) -> float | None:
    """CPU seconds per million lines."""
    return cpu_seconds / lines * 1e6 if lines > 0 else None


def mean_in_window(series: Series, start: float, end: float) -> float | None:
    """The mean of a sampled gauge (e.g. a queue's depth) over samples in the window."""
    inside = [value for time, value in series if start <= time <= end]
    return statistics.fmean(inside) if inside else None


def bottleneck(
    mean_depths: Mapping[str, float | None],
    busy_cores: float | None = None,
    cores: int | None = None,
    threshold: float = 1.0,
    saturation: float = 0.9,
) -> str:
    """What limits the pipeline in its steady window.

    The queue deepest on average, when one holds at least ``threshold`` waiting jobs: its
    consumers are the slow stage. When no queue waits, the workers hold every job in
    hand; if the machine's CPUs were at least ``saturation`` busy, the limit is CPU (all
    the processes sharing the cores), otherwise the load offered (or ingest).
    """
    known = {name: depth for name, depth in mean_depths.items() if depth is not None}
    if known and max(known.values()) >= threshold:
        return max(known, key=lambda name: known[name])
    if busy_cores is not None and cores and busy_cores >= saturation * cores:
        return f"CPU ({busy_cores:.1f} of {cores} cores busy; no queue waits)"
    return "none queued: workers keep up (input-bound: load or ingest)"
