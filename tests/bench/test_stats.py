"""The arithmetic behind the benchmark's figures (bench/stats.py): pure, no servers."""

from __future__ import annotations

import math
import statistics

import pytest

from bench import stats


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 100) == 4.0
    assert stats.percentile(values, 50) == 2.5
    # the same definition as statistics.quantiles(method="inclusive")
    data = [float(v) for v in range(1, 102)]
    assert stats.percentile(data, 99) == pytest.approx(
        statistics.quantiles(data, n=100, method="inclusive")[98]
    )
    assert stats.percentile([0.0, 10.0], 95) == pytest.approx(9.5)


def test_percentile_of_nothing_is_nan_and_out_of_range_is_refused() -> None:
    assert math.isnan(stats.percentile([], 50))
    assert stats.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError, match="outside"):
        stats.percentile([1.0], 101)


SERIES = [(0.0, 0.0), (1.0, 100.0), (2.0, 300.0), (3.0, 600.0), (4.0, 900.0), (5.0, 1000.0)]


def test_count_at_is_the_last_observation_not_an_interpolation() -> None:
    assert stats.count_at(SERIES, -1) == 0
    assert stats.count_at(SERIES, 1.5) == 100
    assert stats.count_at(SERIES, 2.0) == 300
    assert stats.count_at(SERIES, 99) == 1000


def test_time_reaching_is_the_first_sample_that_saw_the_count() -> None:
    assert stats.time_reaching(SERIES, 300) == 2.0
    assert stats.time_reaching(SERIES, 301) == 3.0
    assert stats.time_reaching(SERIES, 1001) is None


def test_window_by_fraction_leaves_out_the_start_and_the_tail() -> None:
    window = stats.window_by_fraction(SERIES, 1000, 0.1, 0.9)
    assert (window.start, window.end) == (1.0, 4.0)
    assert window.lines == 800
    assert window.rate == pytest.approx(800 / 3)
    with pytest.raises(ValueError, match="never covers"):
        stats.window_by_fraction(SERIES[:3], 1000, 0.1, 0.9)


def test_steady_window_ends_when_the_load_stopped() -> None:
    # delivered 10% at t=1, 90% at t=4; the load generator stopped posting at t=3
    window = stats.steady_window(SERIES, 1000, load_end=3.0)
    assert (window.start, window.end) == (1.0, 3.0)
    assert window.rate == pytest.approx((600 - 100) / 2)


def test_steady_window_of_a_load_posted_before_it_began_runs_to_the_tail() -> None:
    # everything was posted at t=0.2, before 10% was delivered: a saturated drain
    window = stats.steady_window(SERIES, 1000, load_end=0.2)
    assert (window.start, window.end) == (1.0, 4.0)
    # a load that outlasted the deliveries does not stretch the window either
    assert stats.steady_window(SERIES, 1000, load_end=60.0).end == 4.0


def test_min_series_is_what_both_sinks_have() -> None:
    indexed = [(0.0, 0.0), (1.0, 500.0), (2.0, 900.0)]
    archived = [(0.0, 0.0), (1.0, 300.0), (2.0, 1000.0)]
    assert stats.min_series(indexed, archived) == [(0.0, 0.0), (1.0, 300.0), (2.0, 900.0)]
    with pytest.raises(ValueError, match="different times"):
        stats.min_series(indexed, [(0.0, 0.0)])


def test_cumulative_sorts_events_by_time() -> None:
    assert stats.cumulative([(2.0, 5.0), (1.0, 3.0), (3.0, 1.0)]) == [
        (1.0, 3.0),
        (2.0, 8.0),
        (3.0, 9.0),
    ]


def test_rates_over_time_in_buckets() -> None:
    points = stats.rates_over_time(SERIES, origin=0.0, bucket=1.0)
    assert points[:3] == [(0.5, 100.0), (1.5, 200.0), (2.5, 300.0)]


def test_summary_is_median_and_spread_of_the_runs() -> None:
    summary = stats.summarise([3.0, 1.0, 2.0, float("nan")])
    assert summary == {"median": 2.0, "min": 1.0, "max": 3.0, "runs": 3, "values": [3.0, 1.0, 2.0]}
    assert stats.summarise([])["median"] is None
    assert stats.summarise([4.0, 2.0])["median"] == 3.0


def test_ratio_refuses_missing_figures() -> None:
    assert stats.ratio(800.0, 1000.0) == 0.8
    assert stats.ratio(1.0, 0.0) is None
    assert stats.ratio(None, 1.0) is None
    assert stats.ratio(1.0, float("nan")) is None


def test_cpu_per_million_lines() -> None:
    assert stats.per_million(3.0, 100_000) == pytest.approx(30.0)
    assert stats.per_million(3.0, 0) is None


def test_bottleneck_is_the_deepest_queue_unless_none_waits() -> None:
    assert stats.bottleneck({"parse": 0.2, "ship-es": 1.0, "ship-s3": 14.5}) == "ship-s3"
    assert stats.bottleneck({"parse": 0.1, "ship-es": 0.0, "ship-s3": None}).startswith("none")
    # no queue waits, every core busy: the processes share too few CPUs
    assert stats.bottleneck({"parse": 0.1}, busy_cores=1.9, cores=2).startswith("CPU (1.9 of 2")
    assert stats.bottleneck({"parse": 0.1}, busy_cores=1.0, cores=2).startswith("none")
    # a queue that waits names its stage whatever the CPU
    assert stats.bottleneck({"ship-s3": 5.0}, busy_cores=2.0, cores=2) == "ship-s3"
    assert stats.mean_in_window([(0.0, 9.0), (1.0, 2.0), (2.0, 4.0), (3.0, 9.0)], 1.0, 2.0) == 3.0
    assert stats.mean_in_window([(0.0, 1.0)], 5.0, 6.0) is None
