"""The writer of a shipper's request, and storing what it sent, for the intake routes.

:func:`request_writer` is the one place the bulk and OTLP routes ask "who sent this",
with the credentials ``POST /log`` takes (:func:`~logagg.ingest.routes.identity.
writer_for_request`): a Bearer access token, an API key with the ``ingest`` scope
(``Bearer`` or ``ApiKey``), or ``Authorization: Basic`` with a user's password (what
Elasticsearch outputs send), verified once and then remembered briefly.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

from flask import request

from logagg.ingest.auth.users import User
from logagg.ingest.batches import Sender, build_batches, new_request_id
from logagg.ingest.bodies import DecodedLines, check_encoding, gunzip_bounded, read_bounded
from logagg.ingest.context import current
from logagg.ingest.errors import ApiError
from logagg.ingest.intake import queue_backlog, store_batches
from logagg.ingest.routes.identity import sender_address, writer_for_request
from logagg.utc import utc_millis

BATCH_ID_HEADER = "X-Logagg-Batch-Id"


@dataclasses.dataclass(frozen=True, slots=True)
class Stored:
    """What one request stored: its receipt id and the event id of each document."""

    request_id: str
    document_ids: list[str]
    truncated: int


def request_writer() -> User:
    """The user this request writes as (admin or writer), or a 401/403 ``ApiError``."""
    user, _ = writer_for_request()
    return user


def read_body() -> bytes:
    """The request body within ``POST /log``'s bounds, gunzipped when it says it is gzip."""
    limits = current().body_limits
    gzipped = check_encoding(request.headers.get("Content-Encoding"))
    data = read_bounded(request.stream, request.content_length, limits.max_body_bytes)
    if not gzipped:
        return data
    return gunzip_bounded(
        data,
        limits.max_decompressed_bytes,
        max_ratio=limits.max_compression_ratio,
        max_members=limits.max_gzip_members,
    )


def refuse_when_backlogged() -> int:
    """The backlog now; ``429`` with ``Retry-After`` when it is at its bound already, as
    ``POST /log`` answers before it reads a body."""
    context = current()
    with context.redis.pipeline(transaction=False) as pipe:
        queue_backlog(pipe)
        depths = pipe.execute()
    backlog = sum(int(depth) for depth in depths)
    context.metrics.backlog.set(backlog)
    check_backlog(backlog, 1)
    return backlog


def check_backlog(backlog: int, batches: int) -> None:
    """Refuse with 429 when ``batches`` more jobs would take the backlog past its bound."""
    context = current()
    if batches and backlog + batches > context.settings.max_backlog:
        context.metrics.refused.labels("429", "backlog").inc()
        raise ApiError(
            429,
            "backlog_full",
            f"{backlog} batches are waiting and this request makes {batches}; "
            "nothing was accepted, retry later",
            headers={"Retry-After": str(context.settings.backlog_retry_after)},
        )


def store_documents(decoded: DecodedLines, user: User, received: datetime, backlog: int) -> Stored:
    """Batch ``decoded`` as ``POST /log`` does and store every batch, or none: ``413`` past
    the lines bound of a request, ``429`` when its batches would pass the backlog bound."""
    context = current()
    max_lines = context.body_limits.max_lines
    if len(decoded.lines) > max_lines:
        raise ApiError(413, "too_many_lines", f"a request may carry at most {max_lines} records")
    request_id = new_request_id()
    sender = Sender(
        service=user.username, source_ip=sender_address(), received_at=utc_millis(received)
    )
    batches = build_batches(request_id, decoded, sender, context.batch_limits)
    check_backlog(backlog, len(batches))
    started = time.perf_counter()
    store_batches(context.redis, batches, context.settings.redis.receipt_ttl)
    context.metrics.enqueue_seconds.observe(time.perf_counter() - started)
    context.metrics.lines_accepted.inc(len(decoded.lines))
    context.metrics.bytes_accepted.inc(sum(decoded.sizes))
    context.metrics.lines_truncated.inc(len(decoded.truncated))
    context.metrics.batches_enqueued.inc(len(batches))
    # The parser's event id is the batch id and the line's position in it.
    ids = [f"{batch['batch_id']}-{n}" for batch in batches for n in range(len(batch["lines"]))]
    return Stored(request_id, ids, len(decoded.truncated))


def now() -> datetime:
    return datetime.now(UTC)
