"""The RQ job around the pure parser: parse a ``RawBatch``, enqueue one job per sink.

Both shipping jobs are enqueued in one Redis transaction, with the batch's receipt, so a
crash cannot ship a batch to one sink only nor record a parse that was not handed on.
The worker process calls :func:`configure` before it starts, so the settings are read
and the formats' regexes compiled once per worker, not once per batch.

The job's timeout raises :class:`JobTimeout`, which is not an ``Exception``: the parser
keeps a line that makes a format fail as one unparsed line (``except Exception``), and a
line that holds a format past the job's timeout must end the job, not be kept.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import cast

from redis import Redis
from rq import get_current_job

from logagg.errors import PermanentError
from logagg.parser.parsing import parse_batch as parse_raw_batch
from logagg.parser.settings import ParserSettings
from logagg.queues import (
    SHIP_ES_JOB,
    SHIP_S3_JOB,
    JobSpec,
    ParsedBatch,
    RawBatch,
    encode_batch,
    enqueue,
)
from logagg.receipts import record_parsed

SINK_JOBS: dict[str, JobSpec] = {"elasticsearch": SHIP_ES_JOB, "s3": SHIP_S3_JOB}


_configured: list[ParserSettings] = []


class JobTimeout(BaseException):
    """The job ran past its timeout.

    A ``BaseException`` so that no ``except Exception`` on the way, the parser's
    catch-all around each format included, can take it for a bug and carry on.
    """


@contextmanager
def timeout_not_swallowed(timeout: float | None) -> Iterator[None]:
    """Within: the job timeout RQ armed raises :class:`JobTimeout` instead of RQ's own
    ``JobTimeoutException`` (an ``Exception``), with the time RQ has left.

    RQ's death penalty (``UnixSignalDeathPenalty``) is a ``SIGALRM``; this takes the
    alarm over and gives it back, with what is left of it, when the block ends. Outside
    the main thread, or with no alarm armed, the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    remaining, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    if remaining <= 0:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise JobTimeout(f"job exceeded its timeout ({timeout} seconds)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, remaining)
    try:
        yield
    finally:
        # blocked while the handlers swap, so an alarm due now meets RQ's handler after
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if left > 0:
                signal.setitimer(signal.ITIMER_REAL, left)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})


def configure(settings: ParserSettings) -> None:
    """Use ``settings`` for the jobs of this process (the worker calls it at start)."""
    _configured[:] = [settings]


def _settings() -> ParserSettings:
    if not _configured:
        configure(ParserSettings.from_env(os.environ))
    return _configured[0]


def ship(
    parsed: ParsedBatch,
    sinks: tuple[str, ...],
    connection: Redis,
    *,
    receipt_ttl: float,
    request_id: str | None = None,
) -> None:
    """Enqueue ``parsed`` for every sink in ``sinks`` and record its receipt, in one
    MULTI/EXEC transaction.

    Both shippers get the events encoded once (:func:`~logagg.queues.encode_batch`):
    each sends or stages every event's JSON as it is.
    """
    payload = encode_batch(parsed)
    with connection.pipeline(transaction=True) as pipeline:
        for sink in sinks:
            enqueue(SINK_JOBS[sink], payload, connection, pipeline=pipeline)
        record_parsed(
            pipeline,
            parsed["batch_id"],
            parsed["events"],
            sinks,
            receipt_ttl,
            request_id=request_id,
        )
        pipeline.execute()


def handle(payload: RawBatch, settings: ParserSettings, connection: Redis) -> int:
    """Parse ``payload`` with ``settings`` and enqueue it to the sinks; the event count."""
    parsed = cast(ParsedBatch, parse_raw_batch(payload, settings.config))
    ship(
        parsed,
        settings.sinks,
        connection,
        receipt_ttl=settings.redis.receipt_ttl,
        request_id=payload.get("request_id"),
    )
    return len(parsed["events"])


def payload_problem(payload: object) -> str | None:
    """What makes ``payload`` unusable as a ``RawBatch``, or None when it is one."""
    if not isinstance(payload, dict):
        return f"payload is a {type(payload).__name__}, not an object"
    for key in ("batch_id", "service"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            return f"payload has no {key}"
    if not isinstance(payload.get("lines"), list):
        return "payload has no list of lines"
    for key in ("truncated", "invalid_utf8"):
        if not isinstance(payload.get(key, []), list):
            return f"payload's {key} is not a list"
    return None


def parse_batch(payload: RawBatch) -> int:
    """RQ entry point (``logagg.parser.jobs.parse_batch``); returns the number of events.

    A malformed payload fails at once with :class:`~logagg.errors.PermanentError` and is
    not retried (it would fail the same way); a Redis failure while enqueueing, or the
    job's timeout (:class:`JobTimeout`), propagates and RQ retries the job.
    """
    job = get_current_job()
    if job is None:
        raise RuntimeError("parse_batch runs inside an RQ worker")
    problem = payload_problem(payload)
    if problem is not None:
        job.retries_left = 0
        raise PermanentError(problem)
    with timeout_not_swallowed(job.timeout):
        return handle(payload, _settings(), job.connection)
