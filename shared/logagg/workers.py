"""Running RQ workers the way every LogAggregator worker runs.

One place decides the serializer (JSON), the scheduler (needed for ``Retry`` with
intervals), and shutdown: RQ's worker finishes the job in hand on the first SIGTERM or
Ctrl-C and stops at once on the second.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence

from redis import Redis
from rq import Worker
from rq.serializers import JSONSerializer

from logagg.queues import job_queue


def build_worker(
    queue_names: Sequence[str], connection: Redis, *, name: str | None = None
) -> Worker:
    """A worker for ``queue_names`` (highest priority first) with the JSON serializer."""
    queues = [job_queue(queue_name, connection) for queue_name in queue_names]
    worker_name = name or f"{'+'.join(queue_names)}.{socket.gethostname()}.{os.getpid()}"
    return Worker(queues, connection=connection, serializer=JSONSerializer, name=worker_name)


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
