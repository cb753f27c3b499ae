from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from logagg.errors import SettingsError
from logagg.stack import StackSettings, _banner, first_start_password, plan_services


def settings(tmp_path: Path, **env: str) -> StackSettings:
    return StackSettings.from_env({"LOGAGG_DATA_DIR": str(tmp_path), **env})


def test_local_defaults_use_the_folder_archive_and_both_sinks(tmp_path: Path) -> None:
    services = plan_services(
        settings(tmp_path),
        redis_url="redis://127.0.0.1:6379/0",
        elasticsearch_url="http://127.0.0.1:9200",
        admin_password="pw",
    )
    assert [s.name for s in services] == ["ingest", "parser-0", "shipper-es-0", "shipper-s3-0"]
    assert [s.args for s in services] == [
        ("ingest",),
        ("parser",),
        ("shipper", "es"),
        ("shipper", "s3"),
    ]
    env = services[0].env
    assert env["LOGAGG_ARCHIVE_URL"] == (tmp_path / "archive").as_uri()
    assert env["LOGAGG_SINKS"] == "elasticsearch,s3"
    assert env["LOGAGG_ADMIN_PASSWORD"] == "pw"
    assert env["ELASTICSEARCH_URL"] == "http://127.0.0.1:9200"
    metrics_ports = [s.env.get("LOGAGG_SHIPPER_METRICS_PORT") for s in services]
    assert metrics_ports == [None, None, "9102", "9112"]


def test_without_elasticsearch_only_the_archive_is_shipped(tmp_path: Path) -> None:
    services = plan_services(
        settings(tmp_path, LOGAGG_RUN_PARSERS="2"),
        redis_url="redis://r:1/0",
        elasticsearch_url=None,
        admin_password=None,
    )
    assert [s.name for s in services] == ["ingest", "parser-0", "parser-1", "shipper-s3-0"]
    assert services[0].env["LOGAGG_SINKS"] == "s3"
    assert "ELASTICSEARCH_URL" not in services[0].env
    assert "LOGAGG_ADMIN_PASSWORD" not in services[0].env


def test_a_given_bucket_replaces_the_local_archive(tmp_path: Path) -> None:
    services = plan_services(
        settings(tmp_path, S3_BUCKET="team-logs"),
        redis_url="redis://r:1/0",
        elasticsearch_url=None,
        admin_password=None,
    )
    assert "LOGAGG_ARCHIVE_URL" not in services[0].env


def test_the_admin_password_is_made_once_and_kept_private(tmp_path: Path) -> None:
    password, new = first_start_password(tmp_path, {})
    assert new is True
    assert password is not None
    assert len(password) >= 20
    assert stat.S_IMODE((tmp_path / "admin-password").stat().st_mode) == 0o600
    assert first_start_password(tmp_path, {}) == (password, False)
    assert first_start_password(tmp_path, {"LOGAGG_ADMIN_PASSWORD": "x" * 12}) == (None, False)


def test_banner_shows_the_password_only_on_first_start(tmp_path: Path) -> None:
    config = settings(tmp_path)
    common = {
        "redis_url": "redis://127.0.0.1:6379/0",
        "elasticsearch_url": None,
        "elasticsearch_note": "",
        "archive": (tmp_path / "archive").as_uri(),
    }
    first = _banner(config, password="s3cret-first", new_password=True, **common)
    later = _banner(config, password="s3cret-first", new_password=False, **common)
    assert "s3cret-first" in first
    assert "s3cret-first" not in later
    assert "http://127.0.0.1:3001/auth/login" in later
    assert str(tmp_path / "admin-password") in later


def test_bad_settings_are_reported_together(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        settings(tmp_path, LOGAGG_ES_HEAP="lots", LOGAGG_RUN_PARSERS="0", REDIS_URL="ftp://x")
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "LOGAGG_ES_HEAP",
        "REDIS_URL",
        "LOGAGG_RUN_PARSERS",
    ]


def test_stopping_before_anything_started_is_clean(tmp_path: Path) -> None:
    from logagg.stack import Stack

    out = io.StringIO()
    Stack(settings(tmp_path), out=out).stop()
    assert out.getvalue().endswith("stopped.\n")
