from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from logagg.utc import utc_millis


def test_rfc3339_millis() -> None:
    moment = datetime(2026, 11, 28, 0, 52, 52, 123456, tzinfo=UTC)
    assert utc_millis(moment) == "2026-11-28T00:52:52.123Z"


def test_other_zones_are_converted() -> None:
    moment = datetime(2026, 11, 28, 2, 52, 52, 1000, tzinfo=timezone(timedelta(hours=2)))
    assert utc_millis(moment) == "2026-11-28T00:52:52.001Z"
