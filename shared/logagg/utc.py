"""Times as every payload, receipt and dead letter writes them."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_millis(moment: datetime) -> str:
    """``moment`` (aware) as RFC 3339 UTC with milliseconds: ``2026-11-28T00:52:52.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
