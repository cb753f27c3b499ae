"""The archive sink: a batch becomes one object per partition, written to a store."""

from __future__ import annotations

import time
from typing import Final

from logagg.queues import ParsedBatch
from logagg.shipper.archive.objects import ArchiveObject, ObjectStore, build_objects
from logagg.shipper.errors import ArchiveWriteFailed, Undelivered
from logagg.shipper.metrics import ShipperMetrics

SINK: Final = "archive"


class ArchiveSink:
    """Delivers parsed batches to the archive."""

    def __init__(
        self, store: ObjectStore, *, prefix: str, metrics: ShipperMetrics | None = None
    ) -> None:
        self.store = store
        self.prefix = prefix  # object_key() normalises it
        self.metrics = metrics or ShipperMetrics()

    def ship(self, batch: ParsedBatch) -> list[ArchiveObject]:
        """Write every object of ``batch``; on a failure raise :class:`Undelivered` with
        the whole batch (objects are cheap to rewrite and keys make that idempotent)."""
        started = time.perf_counter()
        objects = build_objects(batch, self.prefix)
        try:
            for obj in objects:
                self.store.put(obj)
                self.metrics.archive_objects.labels(self.store.kind).inc()
                self.metrics.archive_bytes.labels(self.store.kind).inc(len(obj.body))
                self.metrics.archive_events.labels(self.store.kind).inc(obj.event_count)
        except ArchiveWriteFailed as error:
            self.metrics.ship_seconds.labels(SINK, "failed").observe(time.perf_counter() - started)
            raise Undelivered(error.reason, error.detail, list(batch["events"])) from error
        self.metrics.ship_seconds.labels(SINK, "ok").observe(time.perf_counter() - started)
        return objects
