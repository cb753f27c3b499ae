"""Prometheus metrics of the ingest service, multiprocess-aware under gunicorn.

Each app owns its registry (tests stay independent). Under gunicorn,
``PROMETHEUS_MULTIPROC_DIR`` is set before workers start, every worker writes its
values to files there, and ``/metrics`` aggregates all workers' files.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class IngestMetrics:
    """The counters, gauges and histograms the ingest service updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "logagg_ingest_requests",
            "HTTP requests answered, by route, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "logagg_ingest_request_seconds",
            "Time to answer a request, by route",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.lines_accepted = Counter(
            "logagg_ingest_lines_accepted", "Lines stored for parsing", registry=registry
        )
        self.bytes_accepted = Counter(
            "logagg_ingest_bytes_accepted",
            "Bytes of accepted bodies, after decompression",
            registry=registry,
        )
        self.lines_truncated = Counter(
            "logagg_ingest_lines_truncated", "Lines cut at the line bound", registry=registry
        )
        self.batches_enqueued = Counter(
            "logagg_ingest_batches_enqueued", "Parse jobs enqueued", registry=registry
        )
        self.refused = Counter(
            "logagg_ingest_refused",
            "Requests refused as too large (413), of an unsupported type (415) or "
            "for backpressure or throttling (429)",
            ["status", "reason"],
            registry=registry,
        )
        self.login_failures = Counter(
            "logagg_ingest_login_failures",
            "Failed logins, by reason",
            ["reason"],
            registry=registry,
        )
        self.backlog = Gauge(
            "logagg_ingest_backlog_jobs",
            "Jobs waiting in the pipeline's queues, as last seen",
            registry=registry,
            multiprocess_mode="livemostrecent",
        )
        self.enqueue_seconds = Histogram(
            "logagg_ingest_enqueue_seconds",
            "Time to store one request's batches in Redis",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type; all workers' values under gunicorn."""
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
