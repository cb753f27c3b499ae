"""Times as every payload, receipt and dead letter writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logagg.settings import parse_duration


def utc_millis(moment: datetime) -> str:
    """``moment`` (aware) as RFC 3339 UTC with milliseconds: ``2026-11-28T00:52:52.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str, now: datetime) -> datetime:
    """An RFC 3339 / ISO 8601 time or date (``2026-11-28``, ``2026-11-28T10:00Z``; UTC
    when it names no zone), or a duration back from ``now`` (``15m``, ``2h``, ``7d``)."""
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use e.g. 2026-11-28, 2026-11-28T10:00Z, 15m, 2h, 7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
