"""Running RQ workers the way every LogAggregator worker runs.

One place decides the serializer (JSON), the scheduler (needed for ``Retry`` with
intervals), how jobs run, and shutdown: RQ's worker finishes the job in hand on the first
SIGTERM or Ctrl-C and stops at once on the second.

Jobs run in the worker's own process (RQ's ``SimpleWorker``), not in a fork per job: a
fork costs 20-25 ms per job, more than parsing a whole 1,000-line batch. Job timeouts
still hold (RQ raises in the job on ``SIGALRM``), and a worker killed mid-job leaves the
job in RQ's started registry, from which any worker's maintenance re-enqueues it once
its lease lapses.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence

from redis import Redis
from rq import SimpleWorker
from rq.job import Job

from logagg.queues import JobSerializer, job_queue

# How long past its timeout a job of a vanished worker stays leased to it, and how often
# workers look for such jobs: together they bound recovery after a kill -9.
LEASE_MARGIN_SECONDS = 15
MAINTENANCE_INTERVAL_SECONDS = 15


class BatchWorker(SimpleWorker):
    """An in-process RQ worker whose job leases lapse soon after the job's timeout."""

    def get_heartbeat_ttl(self, job: Job) -> int:
        if job.timeout is None or job.timeout < 0:
            return int(super().get_heartbeat_ttl(job))
        return int(job.timeout) + LEASE_MARGIN_SECONDS


def build_worker(
    queue_names: Sequence[str], connection: Redis, *, name: str | None = None
) -> BatchWorker:
    """A worker for ``queue_names`` (highest priority first) with the project's serializer."""
    queues = [job_queue(queue_name, connection) for queue_name in queue_names]
    worker_name = name or f"{'+'.join(queue_names)}.{socket.gethostname()}.{os.getpid()}"
    return BatchWorker(
        queues,
        connection=connection,
        serializer=JobSerializer,
        name=worker_name,
        maintenance_interval=MAINTENANCE_INTERVAL_SECONDS,
    )


def run_worker(
    queue_names: Sequence[str],
    connection: Redis,
    *,
    name: str | None = None,
    burst: bool = False,
    log_level: str = "INFO",
) -> bool:
    """Work ``queue_names`` until stopped (or until empty with ``burst``).

    Returns whether any job was performed, as :meth:`rq.Worker.work` does.
    """
    worker = build_worker(queue_names, connection, name=name)
    logging.getLogger(__name__).info("worker %s on queues %s", worker.name, ", ".join(queue_names))
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level=log_level.upper()))
