"""Prometheus metrics of a shipper worker, served on ``LOGAGG_SHIPPER_METRICS_PORT``.

Shipper workers run jobs in their own process (no fork per job), so one registry per
process sees every job.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

_SHIP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ShipperMetrics:
    """The counters and histograms the sinks update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.documents_indexed = Counter(
            "logagg_shipper_documents_indexed",
            "Documents Elasticsearch holds after a bulk item (201 created or 409 already there)",
            registry=registry,
        )
        self.bulk_items = Counter(
            "logagg_shipper_bulk_items",
            "Bulk items answered, by outcome and HTTP status",
            ["outcome", "status"],
            registry=registry,
        )
        self.bulk_requests = Counter(
            "logagg_shipper_bulk_requests",
            "Bulk requests sent, by result (ok, partial, failed, split)",
            ["result"],
            registry=registry,
        )
        self.retries = Counter(
            "logagg_shipper_retries",
            "Retries, by sink and kind (item: failed bulk items again; job: the batch via RQ)",
            ["sink", "kind"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "logagg_shipper_dead_lettered_events",
            "Events put into the dead-letter store, by sink and reason",
            ["sink", "reason"],
            registry=registry,
        )
        self.dead_letters_dropped = Counter(
            "logagg_shipper_dead_letters_dropped",
            "Old dead-letter entries dropped to stay under LOGAGG_DLQ_MAX_ENTRIES",
            registry=registry,
        )
        self.archive_objects = Counter(
            "logagg_shipper_archive_objects",
            "Archive objects written, by store (s3, file)",
            ["store"],
            registry=registry,
        )
        self.archive_bytes = Counter(
            "logagg_shipper_archive_bytes",
            "Compressed bytes written to the archive, by store",
            ["store"],
            registry=registry,
        )
        self.archive_events = Counter(
            "logagg_shipper_archive_events",
            "Events written to the archive, by store",
            ["store"],
            registry=registry,
        )
        self.ship_seconds = Histogram(
            "logagg_shipper_ship_seconds",
            "Time to ship one batch, by sink and result",
            ["sink", "result"],
            buckets=_SHIP_BUCKETS,
            registry=registry,
        )

    def serve(self, port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from outside
        """Serve ``/metrics`` on ``port`` from a background thread."""
        start_http_server(port, addr=host, registry=self.registry)
