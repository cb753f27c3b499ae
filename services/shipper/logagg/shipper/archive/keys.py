"""Archive object keys: ``<prefix>service=<name>/date=YYYY-MM-DD/hour=HH/<batch-id>.ndjson.gz``.

Keys depend only on the batch id and the events' own service and time, never on when the
upload happens, so a retried batch overwrites its own objects and never leaves a second
copy. A batch whose events span two hours (or two services) becomes one object per
partition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from logagg.shipper.timestamps import event_time

UNDATED = "unknown"
_SAFE = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True, order=True)
class ArchivePartition:
    """The service, UTC date and hour an event belongs to in the archive."""

    service: str
    date: str  # YYYY-MM-DD, or "unknown" for an event without a usable time
    hour: str  # HH, or "unknown"


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


def partition_of(event: dict[str, Any], batch_service: str) -> ArchivePartition:
    """The partition of ``event``: its ``service.name`` (else the batch's) and its own time."""
    service = event.get("service")
    name = service.get("name") if isinstance(service, dict) else None
    if not isinstance(name, str) or not name:
        name = batch_service
    moment = event_time(event)
    if moment is None:
        return ArchivePartition(name, UNDATED, UNDATED)
    # plain integer formatting: strftime on an aware datetime is the slowest step here
    day = f"{moment.year}-{moment.month:02d}-{moment.day:02d}"
    return ArchivePartition(name, day, f"{moment.hour:02d}")


def normalise_prefix(prefix: str) -> str:
    """``""`` or the prefix with exactly one trailing ``/`` and no leading one."""
    cleaned = prefix.strip().strip("/")
    return f"{cleaned}/" if cleaned else ""


def object_key(prefix: str, partition: ArchivePartition, batch_id: str) -> str:
    """The key of the object holding ``batch_id``'s events in ``partition``."""
    return (
        f"{normalise_prefix(prefix)}service={safe_segment(partition.service)}/"
        f"date={partition.date}/hour={partition.hour}/{safe_segment(batch_id)}.ndjson.gz"
    )


def partition_events(
    events: list[dict[str, Any]], batch_service: str
) -> dict[ArchivePartition, list[dict[str, Any]]]:
    """The events grouped by partition, partitions sorted, events in batch order."""
    groups: dict[ArchivePartition, list[dict[str, Any]]] = {}
    for event in events:
        groups.setdefault(partition_of(event, batch_service), []).append(event)
    return {partition: groups[partition] for partition in sorted(groups)}
