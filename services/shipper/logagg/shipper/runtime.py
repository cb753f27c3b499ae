"""What a shipper process holds: settings, connections and sinks, built once on demand.

Nothing connects at import time; a worker builds one runtime at start and jobs use it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from elasticsearch.serializer import OrjsonSerializer
from redis import Redis

from logagg.elasticsearch_client import connect_elasticsearch
from logagg.s3_client import connect_s3
from logagg.shipper.archive.compaction import CompactionTimer, Compactor, timer_interval
from logagg.shipper.archive.local import LocalObjectStore
from logagg.shipper.archive.s3 import S3ObjectStore
from logagg.shipper.archive.sink import ArchiveSink
from logagg.shipper.deadletter import DeadLetterStore
from logagg.shipper.elasticsearch.cluster import (
    ClientBulkTransport,
    DailyIndexPreparer,
    prepare_cluster,
)
from logagg.shipper.elasticsearch.sink import BulkBounds, ElasticsearchSink
from logagg.shipper.errors import SinkUnavailable
from logagg.shipper.metrics import ShipperMetrics
from logagg.shipper.retry import BackoffPolicy
from logagg.shipper.settings import ShipperSettings


class ShipperRuntime:
    """The sinks of one shipper process, each made on first use."""

    def __init__(
        self, settings: ShipperSettings, redis: Redis, metrics: ShipperMetrics | None = None
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.metrics = metrics or ShipperMetrics()
        self.deadletters = DeadLetterStore(redis, max_entries=settings.deadletter_max_entries)
        self._lock = threading.Lock()
        self._es_sink: ElasticsearchSink | None = None
        self._archive_sink: ArchiveSink | None = None
        self._timer: CompactionTimer | None = None

    def elasticsearch_sink(self) -> ElasticsearchSink:
        """The Elasticsearch sink; the first call installs the templates."""
        with self._lock:
            if self._es_sink is None:
                settings = self.settings
                if settings.elasticsearch.url is None:
                    raise SinkUnavailable("ELASTICSEARCH_URL is not set")
                # bulk answers hold one object per document: read them with orjson
                client = connect_elasticsearch(
                    settings.elasticsearch, serializer=OrjsonSerializer()
                )
                layout = prepare_cluster(
                    client,
                    prefix=settings.template_prefix,
                    namespace=settings.elasticsearch.namespace,
                    layout=settings.index_layout,
                )
                self._es_sink = ElasticsearchSink(
                    ClientBulkTransport(client),
                    namespace=settings.elasticsearch.namespace,
                    layout=layout,
                    bounds=BulkBounds(settings.bulk_max_documents, settings.bulk_max_bytes),
                    policy=BackoffPolicy(
                        settings.item_attempts, settings.backoff_base, settings.backoff_cap
                    ),
                    deadletters=self.deadletters,
                    metrics=self.metrics,
                    prepare_index=DailyIndexPreparer(client),
                    time_bounds=settings.time_bounds,
                )
            return self._es_sink

    def archive_store(self) -> LocalObjectStore | S3ObjectStore:
        target = self.settings.archive
        if target is None:
            raise SinkUnavailable("no archive configured: set S3_BUCKET or LOGAGG_ARCHIVE_URL")
        if target.kind == "file":
            return LocalObjectStore(Path(target.location))
        return S3ObjectStore(
            connect_s3(self.settings.s3),
            target.location,
            server_side_encryption=self.settings.s3.server_side_encryption,
        )

    def archive_sink(self) -> ArchiveSink:
        """The archive sink; the first call checks the bucket or folder."""
        with self._lock:
            if self._archive_sink is None:
                store = self.archive_store()
                store.check()
                compactor = Compactor(
                    self.redis,
                    store,
                    prefix=self.settings.s3.prefix,
                    settings=self.settings.compaction,
                    receipt_ttl=self.settings.redis.receipt_ttl,
                    bounds=self.settings.time_bounds,
                    metrics=self.metrics,
                )
                self._archive_sink = ArchiveSink(store, compactor, metrics=self.metrics)
            return self._archive_sink

    def start_compaction(self) -> CompactionTimer:
        """Start this process's periodic compaction step (an archive worker does this)."""
        with self._lock:
            if self._timer is None:
                self._timer = CompactionTimer(
                    lambda: self.archive_sink().compactor,
                    timer_interval(self.settings.compaction),
                )
                self._timer.start()
            return self._timer

    def wake_compaction(self) -> None:
        """Ask the compaction step to run now (a partition is full)."""
        if self._timer is not None:
            self._timer.wake()

    def stop_compaction(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()
