"""``POST /log``: authenticate, bound, decode, batch, enqueue, answer 200."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from logagg.ingest.batches import Sender, build_batches, new_request_id
from logagg.ingest.bodies import (
    check_encoding,
    content_kind,
    decode_body,
    gunzip_bounded,
    read_bounded,
)
from logagg.ingest.context import current
from logagg.ingest.intake import queue_backlog, store_batches
from logagg.ingest.routes.identity import request_credential, sender_address
from logagg.ingest.routes.writer import check_backlog
from logagg.utc import utc_millis

blueprint = Blueprint("logs", __name__)


@blueprint.post("/log")
def post_log() -> tuple[Response, int]:
    """Accept a body of log lines: checks cheapest first, then store all batches or none."""
    context = current()
    credential = request_credential()
    kind = content_kind(request.headers.get("Content-Type"))
    gzipped = check_encoding(request.headers.get("Content-Encoding"))

    # One round trip: the user (and key) as stored now, and the depth of every queue.
    user, depths = credential.writer(queue_backlog)
    backlog = sum(int(depth) for depth in depths)
    context.metrics.backlog.set(backlog)
    # Refused before the body is read when full already; checked again with the
    # request's own batches once they are known.
    check_backlog(backlog, 1)

    received_at = utc_millis(datetime.now(UTC))
    limits = context.body_limits
    data = read_bounded(request.stream, request.content_length, limits.max_body_bytes)
    if gzipped:
        data = gunzip_bounded(
            data,
            limits.max_decompressed_bytes,
            max_ratio=limits.max_compression_ratio,
            max_members=limits.max_gzip_members,
        )
    decoded = decode_body(data, kind, limits.max_line_bytes, limits.max_lines)

    request_id = new_request_id()
    sender = Sender(service=user.username, source_ip=sender_address(), received_at=received_at)
    batches = build_batches(request_id, decoded, sender, context.batch_limits)
    check_backlog(backlog, len(batches))
    started = time.perf_counter()
    store_batches(context.redis, batches, context.settings.redis.receipt_ttl)
    context.metrics.enqueue_seconds.observe(time.perf_counter() - started)

    accepted = len(decoded.lines)
    context.metrics.lines_accepted.inc(accepted)
    context.metrics.bytes_accepted.inc(len(data))
    context.metrics.lines_truncated.inc(len(decoded.truncated))
    context.metrics.batches_enqueued.inc(len(batches))
    return jsonify(
        status="queued",
        batch_id=request_id,
        batches=[batch["batch_id"] for batch in batches],
        accepted=accepted,
        truncated=len(decoded.truncated),
    ), 200
