"""A reference burst's rate, also when it all arrives between two polls."""

from __future__ import annotations

from typing import Any, cast

from bench.pipeline import _burst_figures


def test_a_burst_seen_across_polls_is_timed_between_its_10_and_90_percent() -> None:
    series = [(0.0, 0.0), (1.0, 100.0), (2.0, 500.0), (3.0, 900.0), (4.0, 1000.0)]
    figures = _burst_figures(series, 1000, 0.0, cast(Any, _NoSamples()), ("rsyslog",))
    assert figures["complete"]
    assert figures["window"] == "10%-90%"
    assert figures["lines_per_s"] == 400.0  # 800 lines from t=1 to t=3


def test_a_burst_that_arrives_within_one_poll_is_timed_from_start_to_finish() -> None:
    series = [(10.0, 0.0), (12.0, 1000.0)]
    figures = _burst_figures(series, 1000, 10.5, cast(Any, _NoSamples()), ("rsyslog",))
    assert figures["complete"]
    assert figures["window"] == "first_to_last"
    assert figures["lines_per_s"] == 1000 / 1.5
    assert figures["cpu_s_per_million"] == {"rsyslog": None}


class _NoSamples:
    """A sampler that took no readings."""

    def __init__(self) -> None:
        self.samples: list[Any] = []
