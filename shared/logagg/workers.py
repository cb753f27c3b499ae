"""Running RQ workers the way every LogAggregator worker runs.

One place decides the serializer (JSON), the scheduler (needed for ``Retry`` with
intervals), how jobs run, and shutdown: RQ's worker finishes the job in hand on the first
SIGTERM or Ctrl-C and stops at once on the second.

Jobs run in the worker's own process (RQ's ``SimpleWorker``), not in a fork per job: a
fork costs 20-25 ms per job, more than parsing a whole 1,000-line batch. Job timeouts
still hold (RQ raises in the job on ``SIGALRM``).

A running job holds a short lease in RQ's started registry, renewed by a thread while the
job runs. A worker killed mid-job stops renewing; once the lease lapses, the maintenance
of any worker on that queue counts the job as abandoned and RQ's ``Retry`` runs it again.
So recovery after a ``kill -9`` takes about a lease plus a maintenance interval, however
long the job's timeout.

RQ imports and calls whatever dotted path a job in Redis names (its function and its
callbacks) and sends its webhooks: anyone who can write to Redis could run any code in
the workers. So a worker runs only the pipeline's own job functions
(:data:`PIPELINE_FUNCTIONS`), with no callbacks and no webhooks; any other job fails
without running, and is logged.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from redis import Redis, RedisError
from rq import Queue, SimpleWorker
from rq.job import Job

from logagg.queues import (
    PARSE_JOB,
    SHIP_ES_JOB,
    SHIP_S3_JOB,
    BatchJob,
    BatchQueue,
    JobSerializer,
    job_queue,
)

# How long a running job stays leased without a renewal, how often the lease is renewed,
# and how often workers look for lapsed leases: together they bound recovery after a kill -9.
LEASE_SECONDS = 15
LEASE_RENEWAL_SECONDS = 5
MAINTENANCE_INTERVAL_SECONDS = 5

# The only functions a worker runs: the pipeline's own jobs.
PIPELINE_FUNCTIONS = frozenset({PARSE_JOB.func, SHIP_ES_JOB.func, SHIP_S3_JOB.func})

log = logging.getLogger(__name__)


def refusal(job: Job, allowed_functions: frozenset[str]) -> str | None:
    """Why ``job`` may not run (a function not allowed, a callback, a webhook), or ``None``."""
    if job.func_name not in allowed_functions:
        return f"function {job.func_name!r} is not one of the pipeline's jobs"
    # RQ keeps the dotted paths it would import in these attributes.
    callbacks = (
        job._success_callback_name,
        job._failure_callback_name,
        job._stopped_callback_name,
    )
    if any(callbacks):
        return "pipeline jobs have no callbacks"
    if job.webhooks:
        return "pipeline jobs have no webhooks"
    return None


class LeaseRenewal:
    """Renews the lease of the job ``worker`` is running, every few seconds, until stopped."""

    def __init__(self, worker: BatchWorker, job: Job) -> None:
        self._worker = worker
        self._job = job
        self._stopped = threading.Event()
        # held while renewing, so that once stop() returns no renewal can touch the job's
        # keys again (RQ deletes them as the job ends)
        self._renewing = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._renewing:
            self._stopped.set()

    def join(self) -> None:
        self.stop()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(LEASE_RENEWAL_SECONDS):
            with self._renewing:
                if self._stopped.is_set():
                    return
                try:
                    self._worker.renew_lease(self._job)
                except RedisError as error:  # the next renewal tries again
                    log.warning("could not renew the lease of job %s: %s", self._job.id, error)


class BatchWorker(SimpleWorker):
    """An in-process RQ worker whose running job holds a short, renewed lease."""

    _lease: LeaseRenewal | None = None
    stop_requested = False  # by SIGTERM or Ctrl-C, as opposed to a loop ended by an error
    allowed_functions: frozenset[str] = PIPELINE_FUNCTIONS

    def perform_job(self, job: Job, queue: Queue) -> bool:
        reason = refusal(job, self.allowed_functions)
        if reason is None:
            return bool(super().perform_job(job, queue))
        log.error("refused job %s from queue %s: %s", job.id, queue.name, reason)
        # Failed for good, and none of what it names is imported, called or sent.
        job.retries_left = 0
        job._success_callback_name = None
        job._failure_callback_name = None
        job._stopped_callback_name = None
        job.webhooks = []
        self.prepare_job_execution(job, remove_from_intermediate_queue=len(self.queues) == 1)
        self.handle_job_failure(
            job, queue, started_job_registry=queue.started_job_registry, exc_string=reason
        )
        return False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def get_heartbeat_ttl(self, job: Job) -> int:
        return LEASE_SECONDS

    def unsubscribe(self) -> None:
        # RQ sends UNSUBSCRIBE, then stops its listening thread and waits for it. A thread
        # that reads the reply first is no longer subscribed and waits up to 60 s for a
        # subscription that never comes, holding the worker's exit (and the results whose
        # TTL runs meanwhile). Ending the thread's loop first makes the reply end it.
        thread = self.pubsub_thread
        if thread is not None:
            try:
                thread.stop(timeout=0)
            except TypeError:  # redis-py before 8, whose stop() only ends the loop
                thread.stop()
        super().unsubscribe()  # type: ignore[no-untyped-call]

    def renew_lease(self, job: Job) -> None:
        """Extend the lease of ``job``, which this worker is running, and the worker's own."""
        execution = self.execution
        if execution is None:
            return
        with self.connection.pipeline() as pipe:
            self.heartbeat(self.job_monitoring_interval + 60, pipeline=pipe)
            execution.heartbeat(job.started_job_registry, LEASE_SECONDS, pipeline=pipe)
            pipe.execute()

    def execute_job(self, job: Job, queue: Queue) -> None:
        self._lease = LeaseRenewal(self, job)
        self._lease.start()
        try:
            super().execute_job(job, queue)
        finally:
            self._lease.join()
            self._lease = None

    # The lease ends before RQ records the outcome and removes the job's keys.
    def handle_job_success(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        if self._lease is not None:
            self._lease.stop()
        super().handle_job_success(job, queue, *args, **kwargs)

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        if self._lease is not None:
            self._lease.stop()
        super().handle_job_failure(job, queue, *args, **kwargs)


def build_worker(
    queue_names: Sequence[str],
    connection: Redis,
    *,
    name: str | None = None,
    allowed_functions: frozenset[str] = PIPELINE_FUNCTIONS,
) -> BatchWorker:
    """A worker for ``queue_names`` (highest priority first) with the project's serializer,
    running only jobs whose function is in ``allowed_functions``."""
    queues = [job_queue(queue_name, connection) for queue_name in queue_names]
    worker_name = name or f"{'+'.join(queue_names)}.{socket.gethostname()}.{os.getpid()}"
    worker = BatchWorker(
        queues,
        connection=connection,
        serializer=JobSerializer,
        job_class=BatchJob,
        queue_class=BatchQueue,
        name=worker_name,
        maintenance_interval=MAINTENANCE_INTERVAL_SECONDS,
    )
    worker.allowed_functions = allowed_functions
    return worker


def run_worker(
    queue_names: Sequence[str],
    connection: Redis,
    *,
    name: str | None = None,
    burst: bool = False,
    log_level: str = "INFO",
    allowed_functions: frozenset[str] = PIPELINE_FUNCTIONS,
) -> bool:
    """Work ``queue_names`` until stopped (or until empty with ``burst``).

    RQ's work loop ends when Redis goes away under it; this waits for Redis to answer
    again and starts a new loop, so a restarted Redis needs no restarted workers.
    Returns whether any job was performed, as :meth:`rq.Worker.work` does.
    """
    worked = False
    incarnation = 0
    while True:
        worker = build_worker(
            queue_names,
            connection,
            name=_incarnation_name(name, incarnation),
            allowed_functions=allowed_functions,
        )
        log.info("worker %s on queues %s", worker.name, ", ".join(queue_names))
        try:
            worked = worker.work(burst=burst, with_scheduler=True, logging_level=log_level.upper())
        except RedisError as error:  # registering or tearing down without Redis
            log.warning("worker %s lost Redis: %s", worker.name, error)
        if burst or worker.stop_requested or not _wait_for_redis(connection):
            return worked
        incarnation += 1


def _incarnation_name(name: str | None, incarnation: int) -> str | None:
    # A worker that could not tear down leaves its name registered for a while.
    if incarnation == 0:
        return name
    base = name or f"{socket.gethostname()}.{os.getpid()}"
    return f"{base}.{incarnation}"


def _wait_for_redis(connection: Redis) -> bool:
    """Wait until Redis answers (``True``) or SIGTERM/SIGINT arrives (``False``)."""
    stopping = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stopping.set())
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        delay = 1.0
        while not stopping.wait(delay):
            try:
                connection.ping()
            except RedisError as error:
                log.warning("waiting for Redis: %s", error)
                delay = min(delay * 2, 10.0)
            else:
                return True
        return False
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
