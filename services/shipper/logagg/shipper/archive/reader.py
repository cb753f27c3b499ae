"""Reading the archive back: which objects a time window touches, and their events.

The key layout (:mod:`logagg.shipper.archive.keys`) partitions objects by service, UTC
date and hour that placed the events (their own time, or their receive time when that
was out of bounds: :mod:`logagg.shipper.routing`), so a window maps to a few key prefixes: a whole
day inside the window is one ``date=`` prefix, a day the window cuts is one ``hour=``
prefix per hour it covers. Only objects under those prefixes are listed and read.
Everything here but :func:`select_objects` and :func:`read_events` is pure.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import unquote

import orjson

from logagg.queues import ParsedBatch
from logagg.shipper.archive.keys import normalise_prefix, safe_segment
from logagg.shipper.errors import ArchiveReadFailed
from logagg.shipper.routing import placement_time

OBJECT_SUFFIX = ".ndjson.gz"
SERVICE_FIELD = "service="


@dataclass(frozen=True, slots=True)
class Window:
    """The instants ``since <= t < until``, both aware."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("a window's bounds must carry a time zone")
        if self.until <= self.since:
            raise ValueError(
                f"the window is empty: --until {self.until.isoformat()} is not after "
                f"--since {self.since.isoformat()}"
            )

    def holds(self, moment: datetime) -> bool:
        return self.since <= moment < self.until


def _hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def partition_prefixes(window: Window) -> list[str]:
    """The ``date=…/`` and ``date=…/hour=…/`` key parts whose objects may hold events of
    ``window`` (relative to a service's folder), oldest first."""
    first = _hour_start(window.since)
    last = window.until.astimezone(UTC)
    hours_by_day: dict[date, list[int]] = {}
    hour = first
    while hour < last:
        hours_by_day.setdefault(hour.date(), []).append(hour.hour)
        hour += timedelta(hours=1)
    prefixes = []
    for day, hours in hours_by_day.items():
        if len(hours) == 24:
            prefixes.append(f"date={day.isoformat()}/")
        else:
            prefixes += [f"date={day.isoformat()}/hour={h:02d}/" for h in hours]
    return prefixes


def service_prefix(prefix: str, service: str) -> str:
    """The key prefix of one service's objects."""
    return f"{normalise_prefix(prefix)}{SERVICE_FIELD}{safe_segment(service)}/"


def service_of_key(key: str, prefix: str) -> str:
    """The service an object key names (``service=`` segment, percent-decoded)."""
    rest = key[len(normalise_prefix(prefix)) :]
    segment = rest.split("/", 1)[0]
    if not segment.startswith(SERVICE_FIELD):
        raise ValueError(f"not an archive object key: {key!r}")
    return unquote(segment[len(SERVICE_FIELD) :])


def decode_events(body: bytes) -> list[dict[str, Any]]:
    """The events of one archive object (gzip NDJSON)."""
    text = gzip.decompress(body)
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def events_in_window(events: Sequence[dict[str, Any]], window: Window) -> list[dict[str, Any]]:
    """The events placed in ``window`` (their own time, or their receive time when they
    carry the out-of-bounds tag, as the partitions were chosen), in their order."""
    kept = []
    for event in events:
        moment = placement_time(event)
        if moment is not None and window.holds(moment):
            kept.append(event)
    return kept


def replay_batch_id(key: str, window: Window, part: int) -> str:
    """A batch id that is the same whenever the same object is replayed for the same window.

    Its ship-es job id follows from it, so replaying again while the first replay's job
    still waits replaces that job instead of queueing a second one.
    """
    seed = f"{key}\n{window.since.isoformat()}\n{window.until.isoformat()}"
    return f"replay-{hashlib.sha256(seed.encode()).hexdigest()[:24]}-{part}"


def replay_batches(
    key: str, service: str, events: Sequence[dict[str, Any]], window: Window, max_events: int
) -> list[ParsedBatch]:
    """``events`` (of the object ``key``) as batches of at most ``max_events``."""
    return [
        ParsedBatch(
            batch_id=replay_batch_id(key, window, start // max_events),
            service=service,
            events=list(events[start : start + max_events]),
        )
        for start in range(0, len(events), max_events)
    ]


class ArchiveListing(Protocol):
    """What reading the archive needs of a store (S3 or a local folder)."""

    def check_readable(self) -> None:
        """Raise :class:`~logagg.shipper.errors.SinkUnavailable` if reading cannot work."""

    def list_children(self, prefix: str) -> list[str]:
        """The ``…/`` sub-prefixes directly under ``prefix``."""

    def list_keys(self, prefix: str) -> Iterator[str]:
        """The object keys under ``prefix``, at any depth, in key order."""

    def get(self, key: str) -> bytes:
        """The body of the object ``key``."""


def select_objects(
    store: ArchiveListing, prefix: str, window: Window, services: Sequence[str] = ()
) -> list[str]:
    """The keys of the archive objects whose partitions overlap ``window``, for
    ``services`` (every service in the archive when none is given)."""
    if services:
        folders = [service_prefix(prefix, name) for name in services]
    else:
        root = normalise_prefix(prefix)
        folders = [
            child
            for child in store.list_children(root)
            if child[len(root) :].startswith(SERVICE_FIELD)
        ]
    keys = []
    for folder in folders:
        for part in partition_prefixes(window):
            keys += [k for k in store.list_keys(folder + part) if k.endswith(OBJECT_SUFFIX)]
    return keys


def read_events(store: ArchiveListing, key: str, window: Window) -> list[dict[str, Any]]:
    """The events of the object ``key`` that fall in ``window``."""
    body = store.get(key)
    try:
        events = decode_events(body)
    except (OSError, EOFError, ValueError) as error:
        raise ArchiveReadFailed(f"{key} is not gzip NDJSON: {error}") from error
    return events_in_window(events, window)
