"""Mapping key/value records (JSON objects, logfmt pairs) onto ECS fields.

The common keys become ECS fields; everything else is kept under ``labels`` (nested
values allowed), so a record can never set the identity fields (``service``, ``source``,
``host.ip``, ``event``) that come from the batch.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from logagg.parser.fields import Fields
from logagg.parser.timestamps import Clock, TimestampProblem, epoch, from_text

# "t" is log15's key (Grafana's logfmt), taken only when its value reads as a time
TIMESTAMP_KEYS = ("@timestamp", "timestamp", "time", "ts", "t")
LEVEL_KEYS = ("level", "severity", "lvl", "log.level")
MESSAGE_KEYS = ("message", "msg")
LOGGER_KEYS = ("logger", "log.logger", "logger_name")
THREAD_KEYS = ("thread", "thread_name")
# ECS fields a record may name as they are (dotted, as OTLP and Elasticsearch shippers
# send them): they describe the record, never who sent it, so none of the identity fields
# (service, source, host.ip, event) is among them.
ECS_KEYS = {
    name: tuple(name.split("."))
    for name in (
        "trace.id",
        "span.id",
        "transaction.id",
        "error.type",
        "error.message",
        "error.stack_trace",
        "log.origin.function",
        "log.origin.file.name",
        "log.origin.file.line",
        "host.hostname",
        "process.thread.name",
    )
}

# Deeper label values are kept as JSON text: Elasticsearch's flattened fields refuse
# objects nested deeper than 20 levels, and nobody searches that deep.
MAX_LABEL_DEPTH = 10

# pino / bunyan numeric levels
_NUMERIC_LEVELS = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}


def _timestamp(clock: Clock, value: Any) -> Any:
    if isinstance(value, str):
        return from_text(clock, value)
    if isinstance(value, bool):
        return TimestampProblem.INVALID
    if isinstance(value, int | float):
        return epoch(clock, float(value))
    return TimestampProblem.INVALID


def _level(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip().lower() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return _NUMERIC_LEVELS.get(value, str(value))
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return None


def dump(value: Any) -> str:
    """``value`` (JSON-ready) as compact JSON text."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # integers beyond 64 bits, which orjson refuses; the standard library writes them
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _bounded(value: Any, depth: int) -> Any:
    if isinstance(value, dict):
        if depth >= MAX_LABEL_DEPTH:
            return dump(value)
        # Elasticsearch refuses empty field names
        return {key or "_": _bounded(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth >= MAX_LABEL_DEPTH:
            return dump(value)
        return [_bounded(item, depth + 1) for item in value]
    return value


def _put(fields: Fields, log: Fields, path: tuple[str, ...], value: Any) -> bool:
    """Set the ECS field at ``path`` to a text (a line number for ``line``), unless set."""
    wanted = int if path[-1] == "line" else str
    if type(value) is not wanted:
        return False
    target = log if path[0] == "log" else fields
    parts = path[1:] if path[0] == "log" else path
    for part in parts[:-1]:
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            return False
        target = child
    if parts[-1] in target:
        return False
    target[parts[-1]] = value
    return True


def map_record(record: dict[str, Any], clock: Clock, dataset: str) -> Fields:
    """The partial event of a key/value record (keys as found, values JSON-ready)."""
    fields: Fields = {"event": {"dataset": dataset}}
    labels: dict[str, Any] = {}
    log: Fields = {}
    nested_log = record.get("log")
    if isinstance(nested_log, dict):
        record = {**record}
        del record["log"]
        for key, value in nested_log.items():
            record.setdefault(f"log.{key}", value)
    for key, value in record.items():
        if key in TIMESTAMP_KEYS and "@timestamp" not in fields:
            stamp = _timestamp(clock, value)
            if isinstance(stamp, str) or key in ("@timestamp", "timestamp"):
                fields["@timestamp"] = stamp
                continue
        elif key in LEVEL_KEYS and "level" not in log:
            found = _level(value)
            if found is not None:
                log["level"] = found
                continue
        elif key in MESSAGE_KEYS and "message" not in fields:
            text = _text(value)
            if text is not None:
                fields["message"] = text
                continue
        elif key in LOGGER_KEYS and "logger" not in log:
            text = _text(value)
            if text is not None:
                log["logger"] = text
                continue
        elif key in THREAD_KEYS:
            text = _text(value)
            if text is not None:
                fields["process"] = {"thread": {"name": text}}
                continue
        elif key in ECS_KEYS and _put(fields, log, ECS_KEYS[key], value):
            continue
        labels[key or "_"] = _bounded(value, 1)
    if log:
        fields["log"] = log
    if labels:
        fields["labels"] = labels
    return fields
