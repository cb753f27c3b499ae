"""Parser settings from a plain mapping: defaults, every option, every problem at once."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from logagg.errors import SettingsError
from logagg.parser import BatchIdentity, parse_line
from logagg.parser.formats import BY_NAME
from logagg.parser.settings import ParserSettings


def test_defaults() -> None:
    settings = ParserSettings.from_env({})
    assert settings.sinks == ("elasticsearch", "s3")
    assert settings.config.default_zone is None
    assert settings.config.keep_original is True
    assert settings.config.formats == {}
    assert settings.config.max_future == timedelta(days=1)
    assert settings.config.dedicated_formats is True


def test_every_option() -> None:
    patterns = {
        "legacy": r"%{TIMESTAMP_ISO8601:timestamp} \| %{LOGLEVEL:level} \| %{GREEDYDATA:message}"
    }
    settings = ParserSettings.from_env(
        {
            "LOGAGG_SINKS": "s3",
            "LOGAGG_DEFAULT_TIMEZONE": "Europe/Paris",
            "LOGAGG_PARSER_TIMEZONES": "billing=UTC,web=Asia/Tokyo",
            "LOGAGG_PARSER_FORMATS": "web=access,old=pattern:legacy",
            "LOGAGG_PARSER_PATTERNS": json.dumps(patterns),
            "LOGAGG_KEEP_ORIGINAL": "false",
            "LOGAGG_PARSER_MAX_FUTURE": "2h",
            "LOGAGG_PARSER_DEDICATED_FORMATS": "false",
        }
    )
    config = settings.config
    assert settings.sinks == ("s3",)
    assert config.default_zone == ZoneInfo("Europe/Paris")
    assert config.zones == {"billing": None, "web": ZoneInfo("Asia/Tokyo")}
    assert config.formats["web"] is BY_NAME["access"]
    assert config.formats["old"].name == "pattern:legacy"
    assert config.keep_original is False
    assert config.max_future == timedelta(hours=2)
    assert config.dedicated_formats is False
    event = parse_line(
        "2025-04-18 12:00:00 | WARN | disk - almost full",
        BatchIdentity.of("b", "old", "", "2025-04-18T12:00:00.000Z"),
        config,
    )
    assert event["@timestamp"] == "2025-04-18T10:00:00.000Z"  # Paris summer time
    assert event["log"] == {"level": "warn"}
    assert event["message"] == "disk - almost full"
    assert event["event"]["dataset"] == "custom.legacy"


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        ParserSettings.from_env(
            {
                "LOGAGG_SINKS": "elasticsearch,kafka",
                "LOGAGG_DEFAULT_TIMEZONE": "Mars/Olympus",
                "LOGAGG_PARSER_TIMEZONES": "a=Nowhere/Land",
                "LOGAGG_PARSER_FORMATS": "a=xml,b=pattern:missing",
                "LOGAGG_PARSER_PATTERNS": '{"bad": "(unclosed", "unknown": "%{NOPE:x}"}',
                "LOGAGG_KEEP_ORIGINAL": "maybe",
            }
        )
    text = "\n".join(raised.value.problems)
    for needle in (
        "LOGAGG_SINKS: unknown sink 'kafka'",
        "LOGAGG_DEFAULT_TIMEZONE: unknown time zone 'Mars/Olympus'",
        "LOGAGG_PARSER_TIMEZONES: unknown time zone 'Nowhere/Land'",
        "unknown format 'xml'",
        "no pattern 'pattern:missing'",
        "pattern 'bad': not a valid regular expression",
        "unknown pattern %{NOPE}",
        "LOGAGG_KEEP_ORIGINAL",
    ):
        assert needle in text


def test_patterns_must_be_a_json_object() -> None:
    with pytest.raises(SettingsError, match="LOGAGG_PARSER_PATTERNS"):
        ParserSettings.from_env({"LOGAGG_PARSER_PATTERNS": "[1, 2]"})
