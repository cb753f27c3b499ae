"""The shipper's settings: the shared connections plus bulk bounds, retries and stores."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

from logagg.settings import (
    ElasticsearchSettings,
    EnvReader,
    LoggingSettings,
    RedisSettings,
    S3Settings,
    SettingsBase,
)
from logagg.shipper.routing import TimeBounds

IndexLayout = Literal["auto", "data_stream", "daily"]


@dataclasses.dataclass(frozen=True, slots=True)
class ArchiveTarget:
    """Where archive objects go: an S3 bucket (``s3``) or a local folder (``file``)."""

    kind: Literal["s3", "file"]
    location: str  # bucket name, or folder path

    @property
    def url(self) -> str:
        return f"s3://{self.location}" if self.kind == "s3" else f"file://{self.location}"


def _archive_target(read: EnvReader, s3: S3Settings) -> ArchiveTarget | None:
    raw = read.url("LOGAGG_ARCHIVE_URL", None, schemes=("s3", "file"))
    if raw is None:
        return ArchiveTarget("s3", s3.bucket) if s3.bucket else None
    parts = urlsplit(raw)
    if parts.scheme == "file":
        path = unquote(parts.path)
        if not path.startswith("/"):
            read.problems.append(f"LOGAGG_ARCHIVE_URL: a file URL needs an absolute path: {raw!r}")
        return ArchiveTarget("file", path)
    bucket = parts.hostname or ""
    if s3.bucket and s3.bucket != bucket:
        read.problems.append(
            f"LOGAGG_ARCHIVE_URL: names bucket {bucket!r} but S3_BUCKET is {s3.bucket!r}"
        )
    return ArchiveTarget("s3", bucket)


@dataclasses.dataclass(frozen=True, slots=True)
class CompactionSettings:
    """When staged archive chunks become an object: at ``object_bytes`` of uncompressed
    events in one partition, or once its oldest chunk waited ``flush_age`` seconds."""

    object_bytes: int = 64 * 1024**2
    flush_age: float = 300.0


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class ShipperSettings(SettingsBase):
    """Everything a shipper worker reads from the environment."""

    redis: RedisSettings
    elasticsearch: ElasticsearchSettings
    s3: S3Settings
    logging: LoggingSettings
    archive: ArchiveTarget | None
    index_layout: IndexLayout
    template_prefix: str
    bulk_max_documents: int
    bulk_max_bytes: int
    item_attempts: int
    backoff_base: float
    backoff_cap: float
    deadletter_max_entries: int
    metrics_port: int
    dev_mode: bool
    startup_timeout: float
    compaction: CompactionSettings
    time_bounds: TimeBounds

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        s3 = S3Settings.read(read)
        layout = read.choice("LOGAGG_ES_INDEX_LAYOUT", "auto", ("auto", "data_stream", "daily"))
        settings = cls(
            redis=RedisSettings.read(read),
            elasticsearch=ElasticsearchSettings.read(read),
            s3=s3,
            logging=LoggingSettings.read(read),
            archive=_archive_target(read, s3),
            index_layout=layout,  # type: ignore[arg-type]  # checked by choice()
            template_prefix=read.text("LOGAGG_ES_TEMPLATE_PREFIX", "logagg"),
            bulk_max_documents=read.integer(
                "LOGAGG_SHIP_BULK_MAX_DOCS", 2000, minimum=1, maximum=100_000
            ),
            bulk_max_bytes=read.size("LOGAGG_SHIP_BULK_MAX_BYTES", 10 * 1024**2, minimum=1024),
            item_attempts=read.integer("LOGAGG_SHIP_ITEM_ATTEMPTS", 5, minimum=1, maximum=50),
            backoff_base=read.duration("LOGAGG_SHIP_BACKOFF_BASE", 0.2, minimum=0),
            backoff_cap=read.duration("LOGAGG_SHIP_BACKOFF_CAP", 10.0, minimum=0),
            deadletter_max_entries=read.integer(
                "LOGAGG_DLQ_MAX_ENTRIES", 100_000, minimum=1, maximum=100_000_000
            ),
            startup_timeout=read.duration("LOGAGG_SHIPPER_STARTUP_TIMEOUT", 120.0, minimum=0),
            dev_mode=read.boolean("LOGAGG_DEV_MODE", False),
            metrics_port=read.integer(
                "LOGAGG_SHIPPER_METRICS_PORT", 9102, minimum=0, maximum=65535
            ),
            compaction=CompactionSettings(
                object_bytes=read.size("LOGAGG_ARCHIVE_OBJECT_BYTES", 64 * 1024**2, minimum=1024),
                flush_age=read.duration("LOGAGG_ARCHIVE_FLUSH_AGE", 300.0, minimum=1.0),
            ),
            time_bounds=TimeBounds(
                max_age=timedelta(
                    seconds=read.duration("LOGAGG_MAX_EVENT_AGE", 30 * 86400.0, minimum=3600.0)
                ),
                # the parser's bound: beyond it the parser already used the receive time
                max_future=timedelta(
                    seconds=read.duration("LOGAGG_PARSER_MAX_FUTURE", 86400.0, minimum=0)
                ),
            ),
        )
        if not settings.elasticsearch.verify_certs and not settings.dev_mode:
            read.problems.append(
                "LOGAGG_ES_VERIFY_CERTS: turning TLS verification off is for development only; "
                "set LOGAGG_DEV_MODE=true as well, or give ELASTICSEARCH_CA_CERTS instead"
            )
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,60}", settings.template_prefix):
            read.problems.append(
                "LOGAGG_ES_TEMPLATE_PREFIX: lower-case letters, digits, '-' and '_' only; "
                f"got {settings.template_prefix!r}"
            )
        return settings
