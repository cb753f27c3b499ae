"""The parser's entry points: :func:`parse_line` and :func:`parse_batch`.

Pure functions: lines and the batch's metadata in, events out. No line is ever
dropped and no line can fail the batch: a line no format accepts, or one that makes a
format fail unexpectedly, becomes an ``unparsed`` event holding the whole line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from logagg.parser.config import ParserConfig
from logagg.parser.detect import Detector
from logagg.parser.event import (
    INVALID_UTF8,
    MULTILINE,
    TRUNCATED,
    BatchIdentity,
    finish,
    parse_received,
    unparsed,
)
from logagg.parser.fields import Fields
from logagg.parser.formats.json_object import json_ready, parse_object
from logagg.parser.formats.structured import dump
from logagg.parser.multiline import group_lines
from logagg.parser.timestamps import Clock

log = logging.getLogger(__name__)

DEFAULT_CONFIG = ParserConfig()


def clock_for(service: str, received_at: str, config: ParserConfig) -> Clock:
    """The clock a service's batch received at ``received_at`` is read with."""
    zone, key = config.zone_for(service)
    return Clock.for_batch(parse_received(received_at), zone, key, config.max_future)


def _fields(detector: Detector, line: str, clock: Clock) -> Fields:
    try:
        fields = detector.parse(line, clock)
    except Exception:  # a format bug must cost one line, not the batch
        # and nothing wider than Exception: the job's timeout (jobs.JobTimeout) is a
        # BaseException, so that it ends the job instead of leaving the line unparsed
        log.exception("format failed on a line; keeping it unparsed")
        fields = None
    return unparsed(line) if fields is None else fields


def _as_json(item: Any) -> tuple[Any, str]:
    """``item`` made JSON-ready and its compact JSON text."""
    try:
        ready = json_ready(item)
        return ready, dump(ready)
    except Exception:  # e.g. nesting too deep to walk: one item, not the batch
        log.exception("an item of a structured batch cannot be written as JSON")
        return None, f"<{type(item).__name__} that cannot be written as JSON>"


def _structured(item: Any, clock: Clock) -> tuple[Fields, str]:
    record, raw = _as_json(item)
    if not isinstance(record, dict):
        return unparsed(raw), raw
    try:
        return parse_object(record, clock), raw
    except Exception:  # no wider: the job's timeout, a BaseException, must pass
        log.exception("JSON mapping failed on an object; keeping it unparsed")
        return unparsed(raw), raw


def parse_lines(
    lines: Sequence[str | dict[str, Any]],
    identity: BatchIdentity,
    config: ParserConfig = DEFAULT_CONFIG,
    *,
    truncated: frozenset[int] = frozenset(),
    invalid_utf8: frozenset[int] = frozenset(),
) -> list[dict[str, Any]]:
    """The events of ``lines`` (text lines or decoded JSON objects), in order.

    Stack-trace lines are joined to the event before them; each event's id uses the
    position of its first line. ``truncated`` and ``invalid_utf8`` are positions whose
    events get those tags.
    """
    clock = clock_for(identity.service, identity.received_at, config)
    detector = Detector(config.formats.get(identity.service))
    keep = config.keep_original
    flagged = bool(truncated or invalid_utf8)
    events: list[dict[str, Any]] = []
    for start, end in group_lines(lines):
        item = lines[start]
        if isinstance(item, str):
            raw = item
            fields = _fields(detector, item, clock)
        else:
            fields, raw = _structured(item, clock)
        extra: list[str] | None = None
        if end - start > 1:
            rest = "\n".join(str(line) for line in lines[start + 1 : end])
            raw = raw + "\n" + rest
            fields["message"] = str(fields.get("message", item)) + "\n" + rest
            extra = [MULTILINE]
        if flagged:
            span = range(start, end)
            if any(position in truncated for position in span):
                extra = [*(extra or []), TRUNCATED]
            if any(position in invalid_utf8 for position in span):
                extra = [*(extra or []), INVALID_UTF8]
        events.append(finish(fields, identity, start, raw, keep, extra))
    return events


def parse_line(
    line: str,
    identity: BatchIdentity,
    config: ParserConfig = DEFAULT_CONFIG,
    *,
    position: int = 0,
) -> dict[str, Any]:
    """The event of one line, read alone (no format memory, no multiline joining)."""
    clock = clock_for(identity.service, identity.received_at, config)
    detector = Detector(config.formats.get(identity.service))
    return finish(
        _fields(detector, line, clock), identity, position, line, config.keep_original, None
    )


def parse_batch(batch: Mapping[str, Any], config: ParserConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    """The ``ParsedBatch`` (``batch_id``, ``service``, ``events``) of a ``RawBatch``."""
    identity = BatchIdentity.of(
        str(batch["batch_id"]),
        str(batch["service"]),
        str(batch.get("source_ip") or ""),
        str(batch.get("received_at") or ""),
    )
    events = parse_lines(
        batch.get("lines") or [],
        identity,
        config,
        truncated=frozenset(batch.get("truncated") or ()),
        invalid_utf8=frozenset(batch.get("invalid_utf8") or ()),
    )
    return {"batch_id": identity.batch_id, "service": identity.service, "events": events}
