"""The archive sink: a batch is staged as chunks; a periodic step writes the objects."""

from __future__ import annotations

import time
from typing import Final

from logagg.queues import ShipBatch
from logagg.shipper.archive.compaction import Compactor, StageResult
from logagg.shipper.archive.objects import ObjectStore
from logagg.shipper.metrics import ShipperMetrics

SINK: Final = "archive"


class ArchiveSink:
    """Delivers parsed batches to the archive, through the staging area."""

    def __init__(
        self, store: ObjectStore, compactor: Compactor, *, metrics: ShipperMetrics | None = None
    ) -> None:
        self.store = store
        self.compactor = compactor
        self.metrics = metrics or ShipperMetrics()

    def ship(self, batch: ShipBatch) -> StageResult:
        """Stage ``batch`` (once, however often it comes); a Redis failure propagates,
        for RQ's retry."""
        started = time.perf_counter()
        try:
            result = self.compactor.stage(batch)
        except Exception:
            self.metrics.ship_seconds.labels(SINK, "failed").observe(time.perf_counter() - started)
            raise
        self.metrics.ship_seconds.labels(SINK, "ok").observe(time.perf_counter() - started)
        return result
