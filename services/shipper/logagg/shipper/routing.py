"""Event-time routing: which hour places an event in both sinks (daily index, archive partition).

An event is placed by its own time (``@timestamp``) when that time lies within bounds of
its receive time (``event.ingested``): at most ``max_age`` before it and ``max_future``
after it. An event outside those bounds keeps its ``@timestamp`` (what an analyst
searches by, and what a backfill of old logs must stay searchable by) but gets the
``event_time_out_of_bounds`` tag and is placed by its receive time, so that a batch opens
the indices and archive partitions of a few receive days and hours instead of one per
distinct day since 1970. The decision reads only the event, never the clock, so a
retried event lands where it landed the first time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from logagg.eventjson import dumps, loads
from logagg.shipper.timestamps import event_time

OUT_OF_BOUNDS_TAG: Final = "event_time_out_of_bounds"
# "YYYY-MM-DDTHH:MM:SS.sssZ", the only form the parser writes
_CANONICAL_LENGTH: Final = 24


@dataclass(frozen=True, slots=True)
class TimeBounds:
    """How far an event's own time may lie before and after its receive time."""

    max_age: timedelta = timedelta(days=30)
    max_future: timedelta = timedelta(days=1)


DEFAULT_BOUNDS: Final = TimeBounds()


class Placement(NamedTuple):
    """Where an event goes: ``hour`` is ``YYYY-MM-DDTHH`` in UTC (``None`` without any
    usable time); ``out_of_bounds`` says that the receive time placed it."""

    hour: str | None
    out_of_bounds: bool


def _canonical(text: str) -> bool:
    return len(text) == _CANONICAL_LENGTH and text[10] == "T" and text[-1] == "Z"


def _utc_text(value: object) -> str | None:
    """``value`` as a canonical UTC time text, or ``None`` when it is no time."""
    if not isinstance(value, str):
        return None
    if _canonical(value):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return None
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=256)
def _window(received: str, bounds: TimeBounds) -> tuple[str, str] | None:
    # a batch's events share their receive time: its bounds are worked out once
    try:
        moment = datetime.fromisoformat(received)
    except ValueError:
        return None
    try:
        earliest = moment - bounds.max_age
    except OverflowError:
        earliest = datetime.min.replace(tzinfo=UTC)
    try:
        latest = moment + bounds.max_future
    except OverflowError:
        latest = datetime.max.replace(tzinfo=UTC)
    return _utc_text(earliest.isoformat()) or "", _utc_text(latest.isoformat()) or "~"


def place(stamp: object, received: object, bounds: TimeBounds = DEFAULT_BOUNDS) -> Placement:
    """The placement of an event with ``@timestamp`` ``stamp`` received at ``received``.

    Canonical UTC texts compare as text, which is their time order, so the common case
    parses nothing but the receive time, once per batch. Without a usable ``@timestamp``
    the receive time places the event (not tagged: nothing was out of bounds); without
    a receive time the bounds cannot be judged and the event's own time places it.
    """
    own = _utc_text(stamp)
    arrival = _utc_text(received)
    if own is None:
        return Placement(arrival[:13] if arrival else None, False)
    if arrival is None:
        return Placement(own[:13], False)
    window = _window(arrival, bounds)
    if window is None or window[0] <= own <= window[1]:
        return Placement(own[:13], False)
    return Placement(arrival[:13], True)


def event_placement(event: dict[str, Any], bounds: TimeBounds = DEFAULT_BOUNDS) -> Placement:
    """:func:`place` for a decoded event."""
    meta = event.get("event")
    received = meta.get("ingested") if isinstance(meta, dict) else None
    return place(event.get("@timestamp"), received, bounds)


def placement_time(event: dict[str, Any]) -> datetime | None:
    """The time that placed an event, read back from the event alone (for replays): its
    receive time when it carries the out-of-bounds tag, else its own."""
    tags = event.get("tags")
    meta = event.get("event")
    received = meta.get("ingested") if isinstance(meta, dict) else None
    out = isinstance(tags, list) and OUT_OF_BOUNDS_TAG in tags
    for value in (received, event.get("@timestamp")) if out else (event.get("@timestamp"),):
        text = _utc_text(value)
        if text is not None:
            return datetime.fromisoformat(text)
    return event_time(event)


def tagged(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` (modified in place) with the out-of-bounds tag, added once."""
    tags = event.get("tags")
    if not isinstance(tags, list):
        event["tags"] = [OUT_OF_BOUNDS_TAG]
    elif OUT_OF_BOUNDS_TAG not in tags:
        tags.append(OUT_OF_BOUNDS_TAG)
    return event


def tagged_source(source: bytes) -> bytes:
    """An encoded event's JSON with the out-of-bounds tag (the rare event that needs one
    is decoded and encoded again; every other event's bytes go on untouched)."""
    return dumps(tagged(loads(source)))


def route_fields(
    route: list[str | None], source: bytes
) -> tuple[str | None, str | None, str | None, str | None]:
    """``(event.id, event.dataset, @timestamp, event.ingested)`` of an encoded event's
    route; a route written before it carried the receive time has it read from ``source``."""
    if len(route) >= 4:
        return route[0], route[1], route[2], route[3]
    meta = loads(source).get("event")
    received = meta.get("ingested") if isinstance(meta, dict) else None
    return route[0], route[1], route[2], received if isinstance(received, str) else None
