"""Archive objects: a batch's events per partition as gzip-compressed NDJSON."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any, Protocol

from logagg.eventjson import dumps
from logagg.queues import ParsedBatch
from logagg.shipper.archive.keys import object_key, partition_events

CONTENT_TYPE = "application/x-ndjson"
CONTENT_ENCODING = "gzip"


@dataclass(frozen=True, slots=True)
class ArchiveObject:
    """One object to write: its key, compressed body and how many events it holds."""

    key: str
    body: bytes
    event_count: int
    batch_id: str

    @property
    def metadata(self) -> dict[str, str]:
        return {"event-count": str(self.event_count), "batch-id": self.batch_id}


def encode_events(events: list[dict[str, Any]]) -> bytes:
    """The events as gzip NDJSON, byte for byte the same for the same events.

    The gzip header's time is fixed, so a retried batch writes identical bytes.
    """
    text = b"".join(dumps(event) + b"\n" for event in events)
    return gzip.compress(text, compresslevel=6, mtime=0)


def build_objects(batch: ParsedBatch, prefix: str) -> list[ArchiveObject]:
    """The objects a batch becomes: one per (service, date, hour) among its events."""
    return [
        ArchiveObject(
            key=object_key(prefix, partition, batch["batch_id"]),
            body=encode_events(events),
            event_count=len(events),
            batch_id=batch["batch_id"],
        )
        for partition, events in partition_events(batch["events"], batch["service"]).items()
    ]


class ObjectStore(Protocol):
    """Where archive objects are written (S3 or a local folder)."""

    kind: str

    def check(self) -> None:
        """Raise :class:`~logagg.shipper.errors.SinkUnavailable` if writing cannot work."""

    def put(self, obj: ArchiveObject) -> None:
        """Write ``obj``, replacing any object with the same key; raise
        :class:`~logagg.errors.TransientError` on failure."""
