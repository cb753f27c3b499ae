"""Cutting accepted lines into batches and building their job payloads.

Pure functions: a request's decoded lines in, :class:`~logagg.queues.RawBatch` payloads
out. A batch is bounded in lines and in bytes so that one job stays cheap to move and
to retry, however large the request.
"""

from __future__ import annotations

import bisect
import dataclasses
import secrets
import time

from logagg.ingest.bodies import DecodedLines
from logagg.queues import RawBatch


@dataclasses.dataclass(frozen=True, slots=True)
class BatchLimits:
    """At most ``max_lines`` lines and about ``max_bytes`` bytes per batch."""

    max_lines: int
    max_bytes: int


@dataclasses.dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a request, and when it arrived."""

    service: str
    source_ip: str
    received_at: str


def new_request_id() -> str:
    """A URL-safe id for one request: time-ordered prefix, random suffix, no ``:``."""
    return f"{time.time_ns() // 1_000_000:011x}{secrets.token_hex(8)}"


def batch_bounds(sizes: list[int], limits: BatchLimits) -> list[tuple[int, int]]:
    """``(start, end)`` ranges over lines of ``sizes`` bytes, each within ``limits``.

    A single line larger than ``max_bytes`` still gets a batch of its own (lines are
    bounded separately, and never dropped).
    """
    if len(sizes) <= limits.max_lines and sum(sizes) <= limits.max_bytes:
        return [(0, len(sizes))] if sizes else []
    bounds: list[tuple[int, int]] = []
    start = 0
    batch_bytes = 0
    for index, size in enumerate(sizes):
        count = index - start
        if count and (count >= limits.max_lines or batch_bytes + size > limits.max_bytes):
            bounds.append((start, index))
            start, batch_bytes = index, 0
        batch_bytes += size
    if start < len(sizes):
        bounds.append((start, len(sizes)))
    return bounds


def _positions_within(positions: list[int], start: int, end: int) -> list[int]:
    low = bisect.bisect_left(positions, start)
    high = bisect.bisect_left(positions, end)
    return [p - start for p in positions[low:high]]


def build_batches(
    request_id: str, decoded: DecodedLines, sender: Sender, limits: BatchLimits
) -> list[RawBatch]:
    """The job payloads for one request: ids ``<request_id>-0``, ``-1``... in line order."""
    batches: list[RawBatch] = []
    for number, (start, end) in enumerate(batch_bounds(decoded.sizes, limits)):
        batches.append(
            RawBatch(
                batch_id=f"{request_id}-{number}",
                service=sender.service,
                source_ip=sender.source_ip,
                received_at=sender.received_at,
                content_kind=decoded.kind,
                lines=decoded.lines[start:end],
                truncated=_positions_within(decoded.truncated, start, end),
                invalid_utf8=_positions_within(decoded.invalid_utf8, start, end),
                request_id=request_id,
            )
        )
    return batches
