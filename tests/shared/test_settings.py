from __future__ import annotations

import pytest

from logagg.errors import SettingsError
from logagg.settings import (
    ElasticsearchSettings,
    EnvReader,
    IngestClientSettings,
    LoggingSettings,
    RedisSettings,
    S3Settings,
    Secret,
    mask_url,
    parse_bool,
    parse_duration,
    parse_size,
)


def test_defaults_from_an_empty_environment() -> None:
    assert RedisSettings.from_env({}).url == "redis://127.0.0.1:6379/0"
    es = ElasticsearchSettings.from_env({})
    assert es.url is None
    assert es.verify_certs is True
    assert S3Settings.from_env({}).bucket is None
    assert LoggingSettings.from_env({}).level == "info"


def test_every_problem_is_reported_together_with_its_variable() -> None:
    env = {
        "REDIS_URL": "http://example.com",
        "LOGAGG_REDIS_TIMEOUT": "soon",
        "LOGAGG_REDIS_HEALTH_CHECK": "-5s",
    }
    with pytest.raises(SettingsError) as caught:
        RedisSettings.from_env(env)
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("REDIS_URL: scheme must be one of redis, rediss, unix")
    assert problems[1].startswith("LOGAGG_REDIS_TIMEOUT: not a duration")
    assert problems[2].startswith("LOGAGG_REDIS_HEALTH_CHECK:")
    assert "REDIS_URL" in str(caught.value)


def test_settings_are_frozen() -> None:
    settings = RedisSettings.from_env({})
    with pytest.raises(AttributeError):
        settings.url = "redis://elsewhere"  # type: ignore[misc]


def test_secrets_never_show_in_repr() -> None:
    settings = ElasticsearchSettings.from_env(
        {
            "ELASTICSEARCH_URL": "https://elastic:hunter2@es.internal:9200",
            "ELASTICSEARCH_USERNAME": "elastic",
            "ELASTICSEARCH_PASSWORD": "s3cr3t-pw",
        }
    )
    shown = repr(settings)
    assert "hunter2" not in shown
    assert "s3cr3t-pw" not in shown
    assert "es.internal:9200" in shown
    assert settings.password is not None
    assert settings.password.reveal() == "s3cr3t-pw"
    assert "s3cr3t-pw" not in str(settings.password)


def test_redis_url_password_is_masked() -> None:
    settings = RedisSettings.from_env({"REDIS_URL": "redis://:topsecret@cache:6380/2"})
    assert "topsecret" not in repr(settings)
    assert settings.url == "redis://:topsecret@cache:6380/2"


def test_elasticsearch_credentials_must_be_consistent() -> None:
    with pytest.raises(SettingsError) as caught:
        ElasticsearchSettings.from_env(
            {
                "ELASTICSEARCH_URL": "http://es:9200",
                "ELASTICSEARCH_USERNAME": "elastic",
                "ELASTICSEARCH_API_KEY": "abc",
                "LOGAGG_ES_VERIFY_CERTS": "maybe",
                "LOGAGG_ES_NAMESPACE": "Has Spaces",
            }
        )
    text = "\n".join(caught.value.problems)
    assert "ELASTICSEARCH_PASSWORD: is required with ELASTICSEARCH_USERNAME" in text
    assert "ELASTICSEARCH_API_KEY: give either" in text
    assert "LOGAGG_ES_VERIFY_CERTS: not a boolean" in text
    assert "LOGAGG_ES_NAMESPACE:" in text


def test_booleans_are_parsed_explicitly() -> None:
    assert ElasticsearchSettings.from_env({"LOGAGG_ES_VERIFY_CERTS": "false"}).verify_certs is False
    assert ElasticsearchSettings.from_env({"LOGAGG_ES_VERIFY_CERTS": "No"}).verify_certs is False
    assert ElasticsearchSettings.from_env({"LOGAGG_ES_VERIFY_CERTS": "on"}).verify_certs is True
    for text in ("", "  "):  # blank means unset, so the default holds
        assert ElasticsearchSettings.from_env({"LOGAGG_ES_VERIFY_CERTS": text}).verify_certs
    with pytest.raises(ValueError, match="not a boolean"):
        parse_bool("treu")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30", 30.0),
        ("30s", 30.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("30d", 2592000.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "5 weeks", "-3s", "1.2.3s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"), [("512", 512), ("64k", 64_000), ("10MB", 10_000_000), ("1MiB", 1_048_576)]
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_bad_size_and_integer_bounds_are_reported() -> None:
    read = EnvReader({"A": "lots", "B": "0", "C": "x", "D": "7"})
    read.size("A", 1)
    read.integer("B", 5, minimum=1)
    read.integer("C", 5)
    read.integer("D", 5, maximum=6)
    assert [p.split(":")[0] for p in read.problems] == ["A", "B", "C", "D"]
    with pytest.raises(SettingsError):
        read.finish()


def test_required_values_and_mappings() -> None:
    read = EnvReader({"PINS": "billing=json,web=apache.access,broken"})
    read.required_text("NEEDED")
    read.required_secret("TOKEN")
    assert read.mapping("PINS") == {"billing": "json", "web": "apache.access"}
    assert [p.split(":")[0] for p in read.problems] == ["NEEDED", "TOKEN", "PINS"]


def test_s3_settings() -> None:
    settings = S3Settings.from_env(
        {
            "S3_BUCKET": "team-logs",
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
            "LOGAGG_S3_PATH_STYLE": "true",
            "LOGAGG_S3_SSE": "AES256",
            "AWS_REGION": "eu-west-1",
        }
    )
    assert settings.endpoint_url == "http://127.0.0.1:9000"
    assert settings.path_style is True
    assert settings.server_side_encryption == "AES256"
    assert settings.region == "eu-west-1"
    with pytest.raises(SettingsError, match="S3_BUCKET: not a valid bucket name"):
        S3Settings.from_env({"S3_BUCKET": "Not_A_Bucket"})


def test_mask_url() -> None:
    assert mask_url("https://u:p@h:1/x") == "https://u:********@h:1/x"
    assert mask_url("http://h/x") == "http://h/x"


def test_secret_equality_and_truth() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert not Secret("")


def test_operator_commands_reach_the_local_ingest_as_admin_by_default() -> None:
    settings = IngestClientSettings.from_env({})
    assert (settings.url, settings.admin_username, settings.admin_password) == (
        "http://127.0.0.1:3001",
        "admin",
        None,
    )
    settings = IngestClientSettings.from_env(
        {"LOGAGG_URL": "https://logs.example.com/", "LOGAGG_ADMIN_PASSWORD": "s3cret-s3cret"}
    )
    assert settings.url == "https://logs.example.com"
    assert "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="LOGAGG_URL: scheme must be one of http, https"):
        IngestClientSettings.from_env({"LOGAGG_URL": "redis://x"})
