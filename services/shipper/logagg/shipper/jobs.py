"""The RQ jobs of the shipper (enqueued by dotted path, see :mod:`logagg.queues`).

Thin: take the batch, hand it to the sink, and on the job's last try put what is still
undelivered into the dead-letter store instead of failing into silence. Earlier tries
re-raise, so RQ's ``Retry`` runs the batch again after a growing interval.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

from rq import get_current_job

from logagg.queues import ShipBatch, decoded_batch
from logagg.receipts import record_shipped
from logagg.redis_connection import connect_redis
from logagg.shipper.deadletter import DeadLetter, Sink, batch_letter_id, now_rfc3339
from logagg.shipper.elasticsearch.outcomes import MAX_REASON_LENGTH
from logagg.shipper.errors import SinkUnavailable, Undelivered
from logagg.shipper.retry import Verdict, job_verdict
from logagg.shipper.runtime import ShipperRuntime
from logagg.shipper.settings import ShipperSettings

log = logging.getLogger(__name__)

_runtime: ShipperRuntime | None = None


def install_runtime(runtime: ShipperRuntime | None) -> None:
    """Give this process's jobs their runtime (the worker's start does this)."""
    # RQ calls jobs by dotted path with the payload only: the worker's connections and
    # sinks reach them through this one per-process slot, filled before work starts.
    global _runtime
    _runtime = runtime


def current_runtime() -> ShipperRuntime:
    """The installed runtime, or one built from the environment on first use (a worker
    started by plain ``rq worker`` rather than ``logagg shipper``)."""
    global _runtime
    if _runtime is None:
        settings = ShipperSettings.from_env(os.environ)
        _runtime = ShipperRuntime(settings, connect_redis(settings.redis))
    return _runtime


def _job_attempt() -> tuple[int, bool]:
    """``(try number, whether this is the last try)`` of the running job."""
    job = get_current_job()
    if job is None:
        return 1, True
    attempt = (job.number_of_retries or 0) + 1
    return attempt, job_verdict(job.retries_left) is Verdict.DEAD_LETTER


def _give_up(
    runtime: ShipperRuntime, sink: Sink, batch: ShipBatch, failure: Undelivered, attempt: int
) -> int:
    letter = DeadLetter(
        id=batch_letter_id(sink, batch["batch_id"]),
        sink=sink,
        reason=failure.reason,
        detail=failure.detail[:MAX_REASON_LENGTH],
        time=now_rfc3339(),
        attempts=attempt,
        batch_id=batch["batch_id"],
        service=batch["service"],
        events=failure.events,
    )
    dropped = runtime.deadletters.add([letter])
    runtime.metrics.dead_lettered.labels(sink, failure.reason).inc(len(failure.events))
    if dropped:
        runtime.metrics.dead_letters_dropped.inc(dropped)
    log.error(
        "gave up on %d event(s) of batch %s for %s after %d tries: %s",
        len(failure.events),
        batch["batch_id"],
        sink,
        attempt,
        failure,
    )
    return len(failure.events)


def _record(
    runtime: ShipperRuntime,
    sink: Sink,
    batch: ShipBatch,
    delivered: int,
    dead_letter_reasons: Mapping[str, int],
) -> None:
    """Record in the batch's receipt that ``sink``'s job is over (absolute counts, so a
    retried or repeated job rewrites the same numbers)."""
    record_shipped(
        runtime.redis,
        sink,
        batch["batch_id"],
        delivered,
        dead_letter_reasons,
        runtime.settings.redis.receipt_ttl,
    )


def _failed(
    runtime: ShipperRuntime,
    sink: Sink,
    batch: ShipBatch,
    error: Exception,
    attempt: int,
    last: bool,
) -> dict[str, Any]:
    """Re-raise for RQ's retry, or on the last try dead-letter what is owed.

    An :class:`Undelivered` knows which events are still owed and why; a sink that could
    not be made ready owes the whole batch. Anything else is unexpected: on the last try
    the batch is dead-lettered (so it can be replayed) and the error still fails the job
    (so it is seen).
    """
    if not last:
        runtime.metrics.retries.labels(sink, "job").inc()
        raise error
    if isinstance(error, Undelivered):
        dead = _give_up(runtime, sink, batch, error, attempt)
        reasons = Counter(error.dead_letter_reasons)
        reasons[error.reason] += dead
        _record(runtime, sink, batch, error.delivered, reasons)
        return {"dead_lettered": dead}
    reason = "sink_unavailable" if isinstance(error, SinkUnavailable) else type(error).__name__
    failure = Undelivered(reason, str(error), list(decoded_batch(batch)["events"]))
    dead = _give_up(runtime, sink, batch, failure, attempt)
    _record(runtime, sink, batch, 0, {reason: dead})
    if isinstance(error, SinkUnavailable):
        return {"dead_lettered": dead}
    raise error


def ship_to_elasticsearch(payload: ShipBatch) -> dict[str, Any]:
    """Index one parsed batch (as the parser encodes it, or as replays send it)."""
    runtime = current_runtime()
    attempt, last = _job_attempt()
    try:
        report = runtime.elasticsearch_sink().ship(payload, attempt=attempt)
    except Exception as error:
        return _failed(runtime, "elasticsearch", payload, error, attempt, last)
    _record(runtime, "elasticsearch", payload, report.delivered, report.rejected_reasons)
    return {
        "created": report.created,
        "already_there": report.already_there,
        "rejected": report.rejected,
        "item_retries": report.item_retries,
    }


def ship_to_archive(payload: ShipBatch) -> dict[str, Any]:
    """Stage one parsed batch for the archive (S3 or the local folder).

    The receipt says ``archived`` once the object holding the batch's last chunk is
    written (the compaction step records it); a batch without events is archived now.
    """
    runtime = current_runtime()
    attempt, last = _job_attempt()
    try:
        result = runtime.archive_sink().ship(payload)
    except Exception as error:
        return _failed(runtime, "archive", payload, error, attempt, last)
    if result.chunks == 0:
        _record(runtime, "archive", payload, 0, {})
    if result.full:
        runtime.wake_compaction()
    return {"staged_chunks": result.chunks, "events": result.events}
