"""``logagg replay``: send archived events of a time window to Elasticsearch again.

Reads the archive (S3, or the local folder of ``LOGAGG_ARCHIVE_URL=file://…``), lists only
the objects whose partitions overlap the window, keeps the events whose own time is in
``[since, until)`` and enqueues them as ship-es jobs, the way every batch reaches
Elasticsearch. Events keep their ``event.id``, so documents keep their ``_id``: what is
still indexed is left as it is (a 409 is success) and a replay run twice leaves one copy.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from redis import Redis
from redis.exceptions import RedisError
from tqdm import tqdm

from logagg.command_line import fail, help_parser, settings_message
from logagg.errors import SettingsError
from logagg.queues import SHIP_ES_JOB, enqueue, job_queue
from logagg.redis_connection import connect_redis
from logagg.settings import mask_url
from logagg.shipper.archive.reader import (
    ArchiveListing,
    Window,
    read_events,
    replay_batches,
    select_objects,
    service_of_key,
)
from logagg.shipper.errors import ArchiveReadFailed, SinkUnavailable
from logagg.shipper.runtime import ShipperRuntime
from logagg.shipper.settings import ShipperSettings
from logagg.utc import parse_time

PROG = "logagg replay"
DEFAULT_BATCH_EVENTS = 1000

EXAMPLES = """
  logagg replay --since 2026-11-28 --until 2026-11-29          one UTC day, every service
  logagg replay --since 2026-11-28T10:00Z --until 2026-11-28T12:00Z --service billing
  logagg replay --since 6h --dry-run                           what the last 6 hours would send
  LOGAGG_ARCHIVE_URL=file:///srv/logagg/archive logagg replay --since 2026-11-27

The archive is S3_BUCKET (with AWS_ENDPOINT_URL_S3, LOGAGG_S3_PREFIX) or
LOGAGG_ARCHIVE_URL; the jobs go to the ship-es queue in REDIS_URL, where the
Elasticsearch shippers take them. Times without a zone are UTC; --until defaults to now.
"""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    objects: int  # archive objects read
    events: int  # events in the window
    batches: int  # ship-es jobs they make
    already_waiting: int = 0  # of those, jobs an earlier replay left waiting in the queue


def _parser() -> argparse.ArgumentParser:
    parser = help_parser(
        PROG,
        "Re-ship archived events whose @timestamp is in [--since, --until) to Elasticsearch "
        "through the ship-es queue. Documents keep their ids: replaying never makes a "
        "second copy.",
        EXAMPLES,
    )
    parser.add_argument(
        "--since", required=True, help="start, included: 2026-11-28, 2026-11-28T10:00Z or 6h ago"
    )
    parser.add_argument("--until", help="end, excluded (default: now)")
    parser.add_argument(
        "--service",
        action="append",
        default=[],
        help="only this service's objects (repeat for several; default: every service)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the objects and event counts; enqueue nothing"
    )
    parser.add_argument(
        "--batch-events",
        type=int,
        default=DEFAULT_BATCH_EVENTS,
        metavar="N",
        help=f"at most N events per ship-es job (default {DEFAULT_BATCH_EVENTS})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def parse_window(since: str, until: str | None, now: datetime) -> Window:
    """The window the command line names; ``ValueError`` with a one-line reason if bad."""
    start = parse_time(since, now)
    end = parse_time(until, now) if until else now
    return Window(start, end)


def replay(
    store: ArchiveListing,
    prefix: str,
    window: Window,
    services: Sequence[str],
    redis: Redis | None,
    *,
    batch_events: int = DEFAULT_BATCH_EVENTS,
    out: TextIO | None = None,
    progress: bool = False,
) -> ReplayReport:
    """Enqueue the window's archived events as ship-es jobs (or, without ``redis``, only
    describe them on ``out``)."""
    keys = select_objects(store, prefix, window, services)
    events = batches = already = 0
    # An earlier replay's job still waiting holds the same events (same object, same
    # window, same id): it stays, instead of a second copy of its id in the queue.
    waiting = set(job_queue(SHIP_ES_JOB.queue, redis).get_job_ids()) if redis else set()
    with tqdm(
        total=len(keys), unit="object", disable=not progress, file=sys.stderr, leave=False
    ) as bar:
        for key in keys:
            kept = read_events(store, key, window)
            chunks = replay_batches(key, service_of_key(key, prefix), kept, window, batch_events)
            if redis is None:
                if out is not None and kept:
                    out.write(f"{len(kept):>8}  {key}\n")
            else:
                for batch in chunks:
                    if SHIP_ES_JOB.job_id(batch["batch_id"]) in waiting:
                        already += 1
                    else:
                        enqueue(SHIP_ES_JOB, batch, redis)
            events += len(kept)
            batches += len(chunks)
            bar.update(1)
            bar.set_postfix(events=events, refresh=False)
    return ReplayReport(len(keys), events, batches, already)


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    if args.batch_events < 1:
        return fail(PROG, "--batch-events must be at least 1")
    try:
        window = parse_window(args.since, args.until, datetime.now(UTC))
    except ValueError as error:
        return fail(PROG, str(error))
    try:
        settings = ShipperSettings.from_env(os.environ)
    except SettingsError as error:
        return fail(PROG, settings_message(error))
    redis = connect_redis(settings.redis)
    try:
        store = ShipperRuntime(settings, redis).archive_store()
        store.check_readable()
        report = replay(
            store,
            settings.s3.prefix,
            window,
            args.service,
            None if args.dry_run else redis,
            batch_events=args.batch_events,
            out=out,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except (SinkUnavailable, ArchiveReadFailed) as error:
        return fail(PROG, str(error))
    except RedisError as error:
        return fail(PROG, f"Redis at {mask_url(settings.redis.url)} did not answer: {error}")
    what = "would enqueue" if args.dry_run else "enqueued"
    out.write(
        f"{what} {report.events} event(s) in {report.batches} ship-es job(s) from "
        f"{report.objects} archive object(s) [{window.since.isoformat()}, "
        f"{window.until.isoformat()})"
        + (
            f"; {report.already_waiting} job(s) were waiting already"
            if report.already_waiting
            else ""
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
