"""Timestamps: zones, fractions, yearless dates around New Year, invalid and absurd dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from logagg.parser.timestamps import (
    Clock,
    TimestampProblem,
    epoch,
    from_text,
    local_parts,
    yearless,
)


def clock(received: str = "2025-04-18T10:15:00+00:00", zone: str | None = None) -> Clock:
    tz = ZoneInfo(zone) if zone else None
    return Clock.for_batch(datetime.fromisoformat(received), tz, zone or "UTC", timedelta(days=1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-18T10:12:01Z", "2025-04-18T10:12:01.000Z"),
        ("2025-04-18T10:12:01.5Z", "2025-04-18T10:12:01.500Z"),
        ("2025-04-18 10:12:01,123", "2025-04-18T10:12:01.123Z"),
        ("2025-04-18T10:12:01.123456789Z", "2025-04-18T10:12:01.123456Z"),
        ("2025-04-18T12:12:01+02:00", "2025-04-18T10:12:01.000Z"),
        ("2025-04-18T05:12:01-0500", "2025-04-18T10:12:01.000Z"),
        ("2025-01-01T00:30:00+01:00", "2024-12-31T23:30:00.000Z"),
        ("2025-04-18T10:12", "2025-04-18T10:12:00.000Z"),
        ("1713435121", "2024-04-18T10:12:01.000Z"),
        ("1713435121123", "2024-04-18T10:12:01.123Z"),
    ],
)
def test_text_forms(text: str, expected: str) -> None:
    assert from_text(clock(), text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2025-02-30T10:00:00Z", TimestampProblem.INVALID),
        ("2023-02-29 10:00:00", TimestampProblem.INVALID),
        ("2025-04-18T25:00:00Z", TimestampProblem.INVALID),
        ("2025-04-18T10:61:00Z", TimestampProblem.INVALID),
        ("2025-13-01T10:00:00Z", TimestampProblem.INVALID),
        ("2025-04-18T10:00:00+25:00", TimestampProblem.INVALID),
        ("2999-01-01T00:00:00Z", TimestampProblem.OUT_OF_RANGE),
        ("2025-04-20T10:15:01Z", TimestampProblem.OUT_OF_RANGE),
        ("0001-01-01T00:00:00Z", TimestampProblem.OUT_OF_RANGE),
        ("tomorrow", TimestampProblem.INVALID),
        ("nan", TimestampProblem.INVALID),
    ],
)
def test_bad_dates_are_problems_not_exceptions(text: str, problem: TimestampProblem) -> None:
    assert from_text(clock(), text) is problem


def test_leap_day_exists_in_leap_years() -> None:
    assert from_text(clock(), "2024-02-29T10:00:00Z") == "2024-02-29T10:00:00.000Z"


def test_a_day_ahead_is_still_accepted() -> None:
    assert from_text(clock(), "2025-04-19T10:00:00Z") == "2025-04-19T10:00:00.000Z"


def test_zone_less_time_is_read_in_the_clock_zone() -> None:
    paris = clock(zone="Europe/Paris")
    # summer time: UTC+2
    assert local_parts(paris, "k1", "2025", "04", "18", "12", "12", "01", "5") == (
        "2025-04-18T10:12:01.500Z"
    )
    # winter time: UTC+1
    assert local_parts(paris, "k2", "2025", "01", "18", "12", "12", "01") == (
        "2025-01-18T11:12:01.000Z"
    )


def test_same_text_in_different_zones_is_not_confused_by_the_cache() -> None:
    key = "2025-04-18 12:00:00"
    utc = local_parts(clock(), key, "2025", "04", "18", "12", "00", "00")
    tokyo = local_parts(clock(zone="Asia/Tokyo"), key, "2025", "04", "18", "12", "00", "00")
    assert (utc, tokyo) == ("2025-04-18T12:00:00.000Z", "2025-04-18T03:00:00.000Z")


@pytest.mark.parametrize(
    ("received", "month", "day", "expected"),
    [
        ("2025-04-18T10:00:00+00:00", "Jun", "14", "2024-06-14T15:16:01.000Z"),
        ("2025-04-18T10:00:00+00:00", "Apr", "18", "2025-04-18T15:16:01.000Z"),
        # more than LOGAGG_PARSER_MAX_FUTURE (1 day here) ahead: last year's
        ("2025-04-18T10:00:00+00:00", "May", "10", "2024-05-10T15:16:01.000Z"),
        ("2026-11-28T02:00:00+00:00", "Dec", "10", "2025-12-10T15:16:01.000Z"),
        ("2025-04-18T16:00:00+00:00", "Apr", "19", "2025-04-19T15:16:01.000Z"),
        # a Dec 31 line received just after New Year belongs to the year before
        ("2026-01-01T00:05:00+00:00", "Dec", "31", "2025-12-31T15:16:01.000Z"),
        # a Jan 1 line received on Dec 31 (sender's clock ahead) belongs to the next year
        ("2025-12-31T23:55:00+00:00", "Jan", "1", "2026-01-01T15:16:01.000Z"),
        ("2025-12-31T23:55:00+00:00", "Dec", "30", "2025-12-30T15:16:01.000Z"),
        # Feb 29 goes to the latest leap year
        ("2027-03-05T00:00:00+00:00", "Feb", "29", "2024-02-29T15:16:01.000Z"),
    ],
)
def test_yearless_dates(received: str, month: str, day: str, expected: str) -> None:
    assert yearless(clock(received), month, day, "15", "16", "01") == expected


def test_yearless_impossible_day() -> None:
    assert yearless(clock(), "Feb", "31", "10", "00", "00") is TimestampProblem.INVALID


def test_epoch_nanoseconds_and_garbage() -> None:
    assert epoch(clock(), 1713435121123456789) == "2024-04-18T10:12:01.123Z"
    assert epoch(clock(), float("inf")) is TimestampProblem.INVALID
    assert epoch(clock(), 1e30) is TimestampProblem.OUT_OF_RANGE


def test_clock_latest_follows_receive_time() -> None:
    moment = datetime(2025, 4, 18, 10, 15, tzinfo=UTC)
    late = Clock.for_batch(moment, None, "UTC", timedelta(hours=1))
    assert from_text(late, "2025-04-18T11:14:00Z") == "2025-04-18T11:14:00.000Z"
    assert from_text(late, "2025-04-18T11:16:00Z") is TimestampProblem.OUT_OF_RANGE
