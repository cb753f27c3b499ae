"""Storing accepted batches in Redis, and measuring the backlog that bounds intake."""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis
from redis.client import Pipeline

from logagg.archive_staging import CHUNKS_KEY
from logagg.queues import ALL_QUEUES, PARSE_JOB, RawBatch, enqueue, queue_key, scheduled_key
from logagg.receipts import record_received


def queue_backlog(pipe: Pipeline) -> None:
    """Queue the backlog's parts on ``pipe``; sum the replies for the backlog.

    The backlog is every batch job the pipeline still has to run: waiting in a queue, or
    waiting for a retry after a failure (a sink that is down moves its jobs there, and
    they must hold intake back as much as waiting ones), and every batch's chunk staged
    for the archive and not yet in an object (a stuck archive then refuses intake
    instead of filling Redis).
    """
    for name in ALL_QUEUES:
        pipe.llen(queue_key(name))
        pipe.zcard(scheduled_key(name))
    pipe.zcard(CHUNKS_KEY)


def store_batches(redis: Redis, batches: Sequence[RawBatch], receipt_ttl: float) -> None:
    """Enqueue one parse job per batch, with the batches' receipts, all in one
    transaction: all are stored or none, so a 200 always has a receipt and a 503 none.

    A Redis failure raises ``redis.exceptions.RedisError``; nothing was stored then.
    """
    if not batches:
        return
    with redis.pipeline(transaction=True) as pipe:
        for batch in batches:
            enqueue(PARSE_JOB, batch, redis, pipeline=pipe)
        record_received(pipe, batches, receipt_ttl)
        pipe.execute()
