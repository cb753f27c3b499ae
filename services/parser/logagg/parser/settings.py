"""The parser's settings, read once from the environment.

| variable | default | meaning |
|---|---|---|
| ``LOGAGG_SINKS`` | ``elasticsearch,s3`` | sinks to enqueue shipping jobs for |
| ``LOGAGG_DEFAULT_TIMEZONE`` | ``UTC`` | zone of timestamps written without one |
| ``LOGAGG_PARSER_TIMEZONES`` | none | per service: ``billing=Europe/Paris,web=UTC`` |
| ``LOGAGG_PARSER_FORMATS`` | none (detect) | per service: ``web=access,legacy=pattern:legacy`` |
| ``LOGAGG_PARSER_PATTERNS`` | none | JSON object of named custom patterns |
| ``LOGAGG_KEEP_ORIGINAL`` | ``true`` | keep the raw line in ``event.original`` |
| ``LOGAGG_PARSER_MAX_FUTURE`` | ``1d`` | later timestamps are replaced by the receive time |
| ``LOGAGG_PARSER_DEDICATED_FORMATS`` | ``true`` | ``false``: text lines go to the finder alone |
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import timedelta, tzinfo
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logagg.parser.config import ParserConfig
from logagg.parser.formats import BY_NAME, Format, PatternError, custom_format
from logagg.settings import EnvReader, LoggingSettings, RedisSettings, SettingsBase

SINKS = ("elasticsearch", "s3")


def _zone(read: EnvReader, name: str, text: str) -> tzinfo | None:
    if text.upper() in ("UTC", "Z", "ETC/UTC"):
        return None
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        read.problems.append(f"{name}: unknown time zone {text!r} (use e.g. UTC, Europe/Paris)")
        return None


def _patterns(read: EnvReader) -> dict[str, Format]:
    name = "LOGAGG_PARSER_PATTERNS"
    text = read.optional_text(name)
    if text is None:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        read.problems.append(f'{name}: not a JSON object of name: pattern (e.g. {{"app": "..."}})')
        return {}
    if not isinstance(raw, dict):
        read.problems.append(f"{name}: must be a JSON object of name: pattern")
        return {}
    patterns: dict[str, Format] = {}
    for key, pattern in raw.items():
        if not isinstance(pattern, str):
            read.problems.append(f"{name}: pattern {key!r} must be a string")
            continue
        try:
            patterns[key] = custom_format(key, pattern)
        except PatternError as error:
            read.problems.append(f"{name}: pattern {key!r}: {error}")
    return patterns


def _formats(read: EnvReader, patterns: Mapping[str, Format]) -> dict[str, Format]:
    name = "LOGAGG_PARSER_FORMATS"
    pinned: dict[str, Format] = {}
    for service, format_name in read.mapping(name).items():
        if format_name.startswith("pattern:"):
            pattern = patterns.get(format_name.removeprefix("pattern:"))
            if pattern is None:
                read.problems.append(
                    f"{name}: {service}: no pattern {format_name!r} in LOGAGG_PARSER_PATTERNS"
                )
                continue
            pinned[service] = pattern
        elif format_name in BY_NAME:
            pinned[service] = BY_NAME[format_name]
        else:
            known = ", ".join([*BY_NAME, "pattern:<name>"])
            read.problems.append(f"{name}: {service}: unknown format {format_name!r} ({known})")
    return pinned


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class ParserSettings(SettingsBase):
    """Everything a parser worker reads from the environment."""

    redis: RedisSettings
    logging: LoggingSettings
    sinks: tuple[str, ...]
    config: ParserConfig

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        sinks = tuple(
            sink.strip().lower()
            for sink in read.text("LOGAGG_SINKS", ",".join(SINKS)).split(",")
            if sink.strip()
        )
        for sink in sinks:
            if sink not in SINKS:
                read.problems.append(
                    f"LOGAGG_SINKS: unknown sink {sink!r} (use {', '.join(SINKS)})"
                )
        if not sinks:
            read.problems.append("LOGAGG_SINKS: name at least one sink")
        default_zone = _zone(
            read, "LOGAGG_DEFAULT_TIMEZONE", read.text("LOGAGG_DEFAULT_TIMEZONE", "UTC")
        )
        zones = {
            service: _zone(read, "LOGAGG_PARSER_TIMEZONES", zone)
            for service, zone in read.mapping("LOGAGG_PARSER_TIMEZONES").items()
        }
        max_future = read.duration("LOGAGG_PARSER_MAX_FUTURE", 86400.0, minimum=0)
        config = ParserConfig(
            default_zone=default_zone,
            zones=zones,
            formats=_formats(read, _patterns(read)),
            keep_original=read.boolean("LOGAGG_KEEP_ORIGINAL", True),
            max_future=timedelta(seconds=max_future),
            dedicated_formats=read.boolean("LOGAGG_PARSER_DEDICATED_FORMATS", True),
        )
        return cls(
            redis=RedisSettings.read(read),
            logging=LoggingSettings.read(read),
            sinks=tuple(dict.fromkeys(sink for sink in sinks if sink in SINKS)),
            config=config,
        )


__all__ = ["SINKS", "ParserSettings"]
