"""The shipper's settings: defaults, the archive target, every problem at once."""

from __future__ import annotations

import pytest

from logagg.errors import SettingsError
from logagg.shipper.settings import ArchiveTarget, ShipperSettings


def test_defaults() -> None:
    settings = ShipperSettings.from_env({})
    assert settings.archive is None
    assert settings.index_layout == "auto"
    assert settings.bulk_max_documents == 2000
    assert settings.bulk_max_bytes == 10 * 1024**2
    assert settings.item_attempts == 5
    assert settings.deadletter_max_entries == 100_000
    assert settings.metrics_port == 9102
    assert settings.elasticsearch.verify_certs is True


def test_archive_target_from_bucket_or_url() -> None:
    assert ShipperSettings.from_env({"S3_BUCKET": "logs-archive"}).archive == ArchiveTarget(
        "s3", "logs-archive"
    )
    local = ShipperSettings.from_env({"LOGAGG_ARCHIVE_URL": "file:///var/lib/logagg/archive"})
    assert local.archive == ArchiveTarget("file", "/var/lib/logagg/archive")
    assert local.archive.url == "file:///var/lib/logagg/archive"


def test_every_problem_is_reported_together() -> None:
    with pytest.raises(SettingsError) as raised:
        ShipperSettings.from_env(
            {
                "LOGAGG_SHIP_BULK_MAX_DOCS": "0",
                "LOGAGG_SHIP_BULK_MAX_BYTES": "lots",
                "LOGAGG_ES_INDEX_LAYOUT": "hourly",
                "LOGAGG_ARCHIVE_URL": "ftp://example.org/x",
                "LOGAGG_ES_TEMPLATE_PREFIX": "Bad Prefix",
            }
        )
    names = sorted(problem.split(":")[0] for problem in raised.value.problems)
    assert names == [
        "LOGAGG_ARCHIVE_URL",
        "LOGAGG_ES_INDEX_LAYOUT",
        "LOGAGG_ES_TEMPLATE_PREFIX",
        "LOGAGG_SHIP_BULK_MAX_BYTES",
        "LOGAGG_SHIP_BULK_MAX_DOCS",
    ]


def test_a_bucket_url_must_agree_with_s3_bucket() -> None:
    with pytest.raises(SettingsError, match="LOGAGG_ARCHIVE_URL"):
        ShipperSettings.from_env({"S3_BUCKET": "one", "LOGAGG_ARCHIVE_URL": "s3://two"})


def test_tls_verification_is_off_only_in_development() -> None:
    with pytest.raises(SettingsError, match="LOGAGG_ES_VERIFY_CERTS: turning TLS verification"):
        ShipperSettings.from_env({"LOGAGG_ES_VERIFY_CERTS": "false"})
    dev = ShipperSettings.from_env({"LOGAGG_ES_VERIFY_CERTS": "false", "LOGAGG_DEV_MODE": "true"})
    assert dev.elasticsearch.verify_certs is False
