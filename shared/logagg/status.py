"""``logagg status``: the pipeline's queues, workers, dead letters and archive staging at a
glance.

Reads Redis only (``REDIS_URL``), and only reads: registry counts are taken without RQ's
clean-up, so looking at the pipeline never changes it. Collecting the figures is one
function; laying them out (table or JSON) is pure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.utils import utcparse

from logagg.archive_staging import CHUNKS_KEY, FLUSHES_KEY, PARTITIONS_KEY, STATS_KEY
from logagg.command_line import fail, help_parser, settings_message
from logagg.deadletter_keys import DROPPED_KEY, ORDER_KEY, letter_sink
from logagg.errors import SettingsError
from logagg.queues import ALL_QUEUES, job_queue
from logagg.redis_connection import connect_redis
from logagg.settings import RedisSettings, mask_url
from logagg.utc import utc_millis

PROG = "logagg status"


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """One RQ queue: what waits, who works it, what failed or waits for a retry."""

    name: str
    waiting: int  # jobs in the queue
    oldest_waiting_seconds: float | None  # age of the job at the head; None when empty
    workers: int  # workers registered for the queue (alive: their key has not lapsed)
    running: int  # jobs a worker has started
    retrying: int  # jobs scheduled to run later (RQ's Retry intervals)
    failed: int  # jobs in the failed registry


@dataclass(frozen=True, slots=True)
class DeadLetterCounts:
    """The shipper's dead-letter store: entries per sink, and those dropped over its cap."""

    total: int
    by_sink: dict[str, int] = field(default_factory=dict)
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class StagingStatus:
    """The archive's staging area: chunks waiting to become objects, and flushes begun."""

    chunks: int
    bytes: int  # compressed, as Redis holds them
    raw_bytes: int  # the events' JSON
    partitions: int
    pending_flushes: int
    oldest_staged_seconds: float | None


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    """Everything ``logagg status`` shows, as of ``time``."""

    time: str  # RFC 3339 UTC
    redis: str  # the URL, credentials masked
    queues: list[QueueStatus]
    dead_letters: DeadLetterCounts
    staging: StagingStatus = StagingStatus(0, 0, 0, 0, 0, None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _oldest_age(redis: Redis, job_id: str | None, now: float) -> float | None:
    if job_id is None:
        return None
    # one field, not the whole job: a job hash holds its compressed batch
    raw = redis.hget(Job.key_for(job_id), "enqueued_at")
    if not raw:
        return None
    enqueued = utcparse(raw.decode() if isinstance(raw, bytes) else str(raw))
    return max(0.0, now - enqueued.timestamp())


def queue_status(redis: Redis, name: str, now: float) -> QueueStatus:
    """The figures of the queue ``name``."""
    queue = job_queue(name, redis)
    head = queue.get_job_ids(0, 1)
    return QueueStatus(
        name=name,
        waiting=queue.count,
        oldest_waiting_seconds=_oldest_age(redis, head[0] if head else None, now),
        workers=len(Worker.all(queue=queue)),
        running=StartedJobRegistry(queue=queue).get_job_count(cleanup=False),
        retrying=ScheduledJobRegistry(queue=queue).get_job_count(cleanup=False),  # type: ignore[no-untyped-call]
        failed=FailedJobRegistry(queue=queue).get_job_count(cleanup=False),
    )


def dead_letter_counts(redis: Redis) -> DeadLetterCounts:
    """Entries per sink (from their ids, without decoding them) and the dropped count."""
    pipe = redis.pipeline(transaction=False)
    pipe.zrange(ORDER_KEY, 0, -1)
    pipe.get(DROPPED_KEY)
    ids, dropped = pipe.execute()
    sinks = Counter(letter_sink(raw.decode()) for raw in ids)
    return DeadLetterCounts(
        total=len(ids), by_sink=dict(sorted(sinks.items())), dropped=int(dropped or 0)
    )


def staging_status(redis: Redis, now: float) -> StagingStatus:
    """The staged chunks' figures (counters kept by the staging scripts; no chunk read)."""
    pipe = redis.pipeline(transaction=False)
    pipe.zcard(CHUNKS_KEY)
    pipe.hmget(STATS_KEY, "bytes", "raw")
    pipe.zcard(PARTITIONS_KEY)
    pipe.zcard(FLUSHES_KEY)
    pipe.zrange(CHUNKS_KEY, 0, 0, withscores=True)
    chunks, (compressed, raw), partitions, flushes, oldest = pipe.execute()
    return StagingStatus(
        chunks=int(chunks),
        bytes=int(compressed or 0),
        raw_bytes=int(raw or 0),
        partitions=int(partitions),
        pending_flushes=int(flushes),
        oldest_staged_seconds=max(0.0, now - float(oldest[0][1])) if oldest else None,
    )


def collect_status(
    redis: Redis, url: str, *, clock: Callable[[], float] = time.time
) -> PipelineStatus:
    """The pipeline's status read from ``redis`` now."""
    now = clock()
    return PipelineStatus(
        time=utc_millis(datetime.fromtimestamp(now, UTC)),
        redis=mask_url(url),
        queues=[queue_status(redis, name, now) for name in ALL_QUEUES],
        dead_letters=dead_letter_counts(redis),
        staging=staging_status(redis, now),
    )


def format_age(seconds: float | None) -> str:
    """A short age: ``-`` for none, ``42s``, ``3m05s``, ``2h10m``, ``3d04h``."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_bytes(count: int) -> str:
    """A short size: ``512 B``, ``3.4 KiB``, ``12.0 MiB``, ``1.2 GiB``."""
    size = float(count)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


COLUMNS = ("queue", "waiting", "oldest", "workers", "running", "retrying", "failed")


def render_table(status: PipelineStatus) -> str:
    """The status as an aligned text table with the dead letters below it."""
    rows = [COLUMNS] + [
        (
            queue.name,
            str(queue.waiting),
            format_age(queue.oldest_waiting_seconds),
            str(queue.workers),
            str(queue.running),
            str(queue.retrying),
            str(queue.failed),
        )
        for queue in status.queues
    ]
    widths = [max(len(row[n]) for row in rows) for n in range(len(COLUMNS))]
    lines = [f"LogAggregator at {status.time}  (redis {status.redis})", ""]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    letters = status.dead_letters
    per_sink = ", ".join(f"{sink} {count}" for sink, count in letters.by_sink.items())
    staged = status.staging
    lines += [
        "",
        f"dead letters: {letters.total}"
        + (f" ({per_sink})" if per_sink else "")
        + f"; dropped over the cap: {letters.dropped}",
        f"archive staging: {staged.chunks} chunks, {format_bytes(staged.bytes)} "
        f"({format_bytes(staged.raw_bytes)} of events) in {staged.partitions} partitions, "
        f"oldest {format_age(staged.oldest_staged_seconds)}; "
        f"flushes under way: {staged.pending_flushes}",
    ]
    return "\n".join(lines) + "\n"


EXAMPLES = """
  logagg status                       the table once
  logagg status --json | jq .queues   machine-readable
  logagg status --watch               refresh every 2 seconds until Ctrl-C
  logagg status --watch 10            every 10 seconds
  REDIS_URL=redis://redis:6379/0 logagg status

columns: waiting jobs, age of the oldest waiting job, workers registered for the queue,
jobs running, jobs waiting for a retry (RQ's scheduled registry), failed jobs
(RQ's failed registry). Dead letters are the shipper's (`logagg dlq`). Archive staging:
batches' chunks waiting to become archive objects (they count in ingest's backlog).
"""


def _parser() -> argparse.ArgumentParser:
    parser = help_parser(
        PROG,
        "Queue depths, workers, retries, failures and dead letters of the pipeline, read "
        "from Redis (REDIS_URL).",
        EXAMPLES,
    )
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    parser.add_argument(
        "--watch",
        nargs="?",
        type=float,
        const=2.0,
        metavar="SECONDS",
        help="refresh every SECONDS (default 2) until Ctrl-C",
    )
    return parser


def show(status: PipelineStatus, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(status.to_json(), sort_keys=True) + "\n")
    else:
        out.write(render_table(status))
    out.flush()


CLEAR_SCREEN = "\x1b[H\x1b[2J"


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    if args.watch is not None and args.watch <= 0:
        return fail(PROG, f"--watch needs a positive number of seconds, not {args.watch:g}")
    try:
        settings = RedisSettings.from_env(os.environ)
    except SettingsError as error:
        return fail(PROG, settings_message(error))
    redis = connect_redis(settings)
    try:
        while True:
            status = collect_status(redis, settings.url)
            if args.watch is not None and not args.json and out.isatty():
                out.write(CLEAR_SCREEN)
            show(status, args.json, out)
            if args.watch is None:
                return 0
            sleep(args.watch)
    except RedisError as error:
        return fail(PROG, f"Redis at {mask_url(settings.url)} did not answer: {error}")
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
