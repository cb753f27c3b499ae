"""The parser's entry points: :func:`parse_line` and :func:`parse_batch`.

Pure functions: lines and the batch's metadata in, events out. No line is ever
dropped and no line can fail the batch: a line no dedicated format accepts goes to the
structure finder with the batch's other such lines, and a line the finder cannot read
either, or one that makes a format fail unexpectedly, becomes an ``unparsed`` event
holding the whole line. Leading whitespace is ignored for reading a line; the event's
``event.original`` keeps it.

The finder's memory of each service's structure (:class:`~logagg.parser.finder.Memory`)
is passed in; :data:`MEMORY` is the one a worker process uses when none is given.
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
from logagg.parser.finder import Finder, Memory
from logagg.parser.formats.json_object import json_ready, parse_object
from logagg.parser.formats.structured import dump
from logagg.parser.multiline import group_lines
from logagg.parser.timestamps import Clock

log = logging.getLogger(__name__)

DEFAULT_CONFIG = ParserConfig()
MEMORY = Memory()


def clock_for(service: str, received_at: str, config: ParserConfig) -> Clock:
    """The clock a service's batch received at ``received_at`` is read with."""
    zone, key = config.zone_for(service)
    return Clock.for_batch(parse_received(received_at), zone, key, config.max_future)


def _fields(detector: Detector, line: str, clock: Clock) -> Fields | None:
    """The dedicated formats' reading of ``line``, None when none takes it."""
    try:
        return detector.parse(line.lstrip(), clock)
    except Exception:  # a format bug must cost one line, not the batch
        # and nothing wider than Exception: the job's timeout (jobs.JobTimeout) is a
        # BaseException, so that it ends the job instead of leaving the line unparsed
        log.exception("format failed on a line; keeping it unparsed")
        return unparsed(line)


def _found(finder: Finder, lines: list[str]) -> list[Fields]:
    """The finder's readings of ``lines``; unparsed events where it finds nothing."""
    if not lines:
        return []
    try:
        found = finder.parse_all([line.lstrip() for line in lines])
    except Exception:  # a finder bug must not cost the batch
        log.exception("structure finder failed on a batch; keeping its lines unparsed")
        return [unparsed(line) for line in lines]
    return [
        unparsed(line) if fields is None else fields
        for line, fields in zip(lines, found, strict=True)
    ]


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
    memory: Memory | None = None,
) -> list[dict[str, Any]]:
    """The events of ``lines`` (text lines or decoded JSON objects), in order.

    Stack-trace lines are joined to the event before them; each event's id uses the
    position of its first line. ``truncated`` and ``invalid_utf8`` are positions whose
    events get those tags. ``memory`` holds the finder's structures (:data:`MEMORY`
    when None).
    """
    clock = clock_for(identity.service, identity.received_at, config)
    pinned = config.formats.get(identity.service)
    detector = Detector(pinned, config.dedicated_formats)
    finder = Finder(clock, MEMORY if memory is None else memory, identity.service)
    keep = config.keep_original
    flagged = bool(truncated or invalid_utf8)
    groups = group_lines(lines)
    readings: list[tuple[Fields | None, str]] = []
    left: list[int] = []
    for start, _ in groups:
        item = lines[start]
        if isinstance(item, str):
            fields = _fields(detector, item, clock)
            if fields is None and pinned is None:  # a pinned format has the last word
                left.append(len(readings))
            readings.append((fields, item))
        else:
            readings.append(_structured(item, clock))
    for index, fields in zip(left, _found(finder, [readings[i][1] for i in left]), strict=True):
        readings[index] = (fields, readings[index][1])
    events: list[dict[str, Any]] = []
    for (start, end), (found, raw) in zip(groups, readings, strict=True):
        fields = unparsed(raw) if found is None else found
        item = lines[start]
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
    pinned = config.formats.get(identity.service)
    fields = _fields(Detector(pinned, config.dedicated_formats), line, clock)
    if fields is None:
        fields = unparsed(line) if pinned is not None else _found(Finder(clock), [line])[0]
    return finish(fields, identity, position, line, config.keep_original, None)


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
