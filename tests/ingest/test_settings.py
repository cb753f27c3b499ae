"""The ingest settings: defaults, validation, secrets masked."""

from __future__ import annotations

import ipaddress

import pytest

from logagg.errors import SettingsError
from logagg.ingest.__main__ import main
from logagg.ingest.settings import IngestSettings

SECRET = "s" * 40


def test_defaults() -> None:
    settings = IngestSettings.from_env({"LOGAGG_JWT_SECRET": SECRET})
    assert settings.port == 3001
    assert settings.access_token_ttl == 900
    assert settings.refresh_token_ttl == 30 * 86400
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    assert settings.trusted_proxies == ()
    assert settings.dev_mode is False


def test_no_secret_is_refused_unless_dev_mode() -> None:
    with pytest.raises(SettingsError, match="LOGAGG_JWT_SECRET"):
        IngestSettings.from_env({})
    assert IngestSettings.from_env({"LOGAGG_DEV_MODE": "true"}).jwt_secret is None


def test_every_problem_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        IngestSettings.from_env(
            {
                "LOGAGG_JWT_SECRET": "short",
                "LOGAGG_INGEST_PORT": "99999",
                "LOGAGG_TRUSTED_PROXIES": "10.0.0.0/8, nonsense",
                "LOGAGG_MAX_BODY_BYTES": "bigly",
                "LOGAGG_ADMIN_PASSWORD": "tiny",
                "LOGAGG_ADMIN_USERNAME": "root user",
            }
        )
    text = str(caught.value)
    for name in (
        "LOGAGG_JWT_SECRET",
        "LOGAGG_INGEST_PORT",
        "LOGAGG_TRUSTED_PROXIES",
        "LOGAGG_MAX_BODY_BYTES",
        "LOGAGG_ADMIN_PASSWORD",
        "LOGAGG_ADMIN_USERNAME",
    ):
        assert name in text


def test_parsed_values_and_secrets_masked() -> None:
    settings = IngestSettings.from_env(
        {
            "LOGAGG_JWT_SECRET": SECRET,
            "LOGAGG_ADMIN_PASSWORD": "admin-password-x",
            "LOGAGG_INGEST_PORT": "8080",
            "LOGAGG_ACCESS_TOKEN_TTL": "5m",
            "LOGAGG_MAX_BODY_BYTES": "1MiB",
            "LOGAGG_TRUSTED_PROXIES": "10.0.0.0/8,::1",
            "REDIS_URL": "redis://:hunter2@redis:6379/1",
        }
    )
    assert settings.port == 8080
    assert settings.access_token_ttl == 300
    assert settings.max_body_bytes == 1024**2
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    shown = repr(settings)
    assert SECRET not in shown
    assert "admin-password-x" not in shown
    assert "hunter2" not in shown


def test_main_check_validates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LOGAGG_JWT_SECRET", raising=False)
    monkeypatch.delenv("LOGAGG_DEV_MODE", raising=False)
    assert main(["--check"]) == 2
    assert "LOGAGG_JWT_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("LOGAGG_JWT_SECRET", SECRET)
    assert main(["--check"]) == 0
    assert "IngestSettings(" in capsys.readouterr().out
