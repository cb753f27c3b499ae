from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from logagg.utc import parse_time, utc_millis


def test_rfc3339_millis() -> None:
    moment = datetime(2026, 11, 28, 0, 52, 52, 123456, tzinfo=UTC)
    assert utc_millis(moment) == "2026-11-28T00:52:52.123Z"


def test_other_zones_are_converted() -> None:
    moment = datetime(2026, 11, 28, 2, 52, 52, 1000, tzinfo=timezone(timedelta(hours=2)))
    assert utc_millis(moment) == "2026-11-28T00:52:52.001Z"


NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28", datetime(2026, 11, 28, tzinfo=UTC)),
        ("2026-11-28T10:00Z", datetime(2026, 11, 28, 10, tzinfo=UTC)),
        ("2026-11-28T10:00:30.5Z", datetime(2026, 11, 28, 10, 0, 30, 500000, tzinfo=UTC)),
        ("2026-11-28T11:00:00+01:00", datetime(2026, 11, 28, 10, tzinfo=UTC)),
        ("2026-11-28 10:00", datetime(2026, 11, 28, 10, tzinfo=UTC)),
        ("6h", datetime(2026, 11, 28, 6, tzinfo=UTC)),
        ("7d", datetime(2026, 11, 21, 12, tzinfo=UTC)),
    ],
)
def test_times_from_the_command_line(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "28/11/2026", ""])
def test_what_is_not_a_time_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time(text, NOW)
