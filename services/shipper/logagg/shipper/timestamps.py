"""The time an event happened, as the index layout and the archive keys need it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def event_time(event: dict[str, Any]) -> datetime | None:
    """The event's own ``@timestamp`` in UTC, else ``event.ingested``, else ``None``.

    Both sinks place an event by this time, never by the time it was shipped, so a
    retried event lands in the same index and the same archive object.
    """
    candidates = [event.get("@timestamp")]
    meta = event.get("event")
    if isinstance(meta, dict):
        candidates.append(meta.get("ingested"))
    for value in candidates:
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
    return None
