"""Archive object keys: ``<prefix>service=<name>/date=YYYY-MM-DD/hour=HH/<name>.ndjson.gz``.

An event's partition is its service and the hour that places it
(:mod:`logagg.shipper.routing`: its own time, or its receive time when that is out of
bounds). An object's name is derived from its partition and the first chunk it holds
(:func:`object_name`), never from when the upload happens, so the same chunks always
make the same key and a repeated flush overwrites its own object. Objects written
before compaction are named by their batch id; readers take both.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from logagg.shipper.routing import DEFAULT_BOUNDS, TimeBounds, event_placement

UNDATED = "unknown"
_SAFE = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True, order=True)
class ArchivePartition:
    """The service, UTC date and hour an event belongs to in the archive."""

    service: str
    date: str  # YYYY-MM-DD, or "unknown" for an event without a usable time
    hour: str  # HH, or "unknown"

    @property
    def path(self) -> str:
        """The partition's part of a key (``service=…/date=…/hour=…``), without prefix."""
        return f"service={safe_segment(self.service)}/date={self.date}/hour={self.hour}"


def safe_segment(text: str) -> str:
    """``text`` usable as one path segment: unchanged when it is plain, else percent-encoded.

    The result never holds ``/`` and is never ``.`` or ``..``, so a service name cannot
    climb out of its folder in the local variant.
    """
    if not text:
        return UNDATED
    if _SAFE.fullmatch(text) and text not in (".", ".."):
        return text
    encoded = quote(text, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def partition_of(
    event: dict[str, Any], batch_service: str, bounds: TimeBounds = DEFAULT_BOUNDS
) -> ArchivePartition:
    """The partition of ``event``: its ``service.name`` (else the batch's) and the hour
    that places it."""
    service = event.get("service")
    name = service.get("name") if isinstance(service, dict) else None
    if not isinstance(name, str) or not name:
        name = batch_service
    return hour_partition(name, event_placement(event, bounds).hour)


def hour_partition(service: str, hour: str | None) -> ArchivePartition:
    """The partition of ``service`` for a placement hour ``YYYY-MM-DDTHH`` (or ``None``)."""
    if hour is None:
        return ArchivePartition(service, UNDATED, UNDATED)
    return ArchivePartition(service, hour[:10], hour[11:13])


def normalise_prefix(prefix: str) -> str:
    """``""`` or the prefix with exactly one trailing ``/`` and no leading one."""
    cleaned = prefix.strip().strip("/")
    return f"{cleaned}/" if cleaned else ""


def object_key(prefix: str, partition: ArchivePartition, name: str) -> str:
    """The key of the object ``name`` in ``partition``."""
    return f"{normalise_prefix(prefix)}{partition.path}/{safe_segment(name)}.ndjson.gz"


def object_name(partition_path: str, first_chunk_id: str) -> str:
    """The name of the object made of a partition's chunks, starting with ``first_chunk_id``.

    The first chunk alone names it: a Redis restarted from its log may have lost the
    last seconds of a partition's list, but not a chunk staged before them (chunks
    wait longer than that before they are written), so the object written again from
    what it kept overwrites the first one instead of holding its events a second time.
    """
    seed = f"{partition_path}\n{first_chunk_id}".encode()
    return hashlib.sha1(seed, usedforsecurity=False).hexdigest()


def chunk_id(batch_id: str, partition: ArchivePartition) -> str:
    """The id of a batch's chunk in ``partition``: the same whenever the batch is staged."""
    digest = hashlib.sha1(partition.path.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"{batch_id}:{digest}"


def partition_events(
    events: list[dict[str, Any]], batch_service: str, bounds: TimeBounds = DEFAULT_BOUNDS
) -> dict[ArchivePartition, list[dict[str, Any]]]:
    """The events grouped by partition, partitions sorted, events in batch order."""
    groups: dict[ArchivePartition, list[dict[str, Any]]] = {}
    for event in events:
        groups.setdefault(partition_of(event, batch_service, bounds), []).append(event)
    return {partition: groups[partition] for partition in sorted(groups)}
