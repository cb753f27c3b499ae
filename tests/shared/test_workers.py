"""Job leases: a running job stays leased however long it runs; an abandoned one returns."""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis
from rq import Retry
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from logagg import queues, workers
from logagg.queues import JobSerializer, job_queue

pytestmark = pytest.mark.integration

QUEUE = "lease-test"
# The jobs here only take time: workers run them once told to.
SLEEP = frozenset({"time.sleep"})


@pytest.fixture
def short_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    # RQ keeps lease ends in whole seconds: two seconds is the shortest safe lease
    monkeypatch.setattr(workers, "LEASE_SECONDS", 2)
    monkeypatch.setattr(workers, "LEASE_RENEWAL_SECONDS", 0.2)


def test_a_job_longer_than_its_lease_is_renewed_not_abandoned(
    redis_url: str, short_leases: None
) -> None:
    connection = Redis.from_url(redis_url)
    queue = job_queue(QUEUE, connection)
    job = queue.enqueue("time.sleep", 4, job_timeout=30, retry=Retry(max=1), result_ttl=60)
    started = StartedJobRegistry(QUEUE, connection=connection, serializer=JobSerializer)
    leased: list[bool] = []
    abandoned: list[str] = []
    done = threading.Event()

    def sweep() -> None:
        # What every worker's maintenance does: count lapsed leases as abandoned jobs.
        while not abandoned and not done.wait(0.1):
            before = started.get_job_ids(cleanup=False)
            leased.append(bool(before))
            started.cleanup()
            abandoned.extend(set(before) - set(started.get_job_ids(cleanup=False)))

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    worker = workers.build_worker([QUEUE], connection, allowed_functions=SLEEP)
    try:
        # RQ's worker needs the main thread (signals); it runs the job, then stops.
        assert worker.work(burst=True)
    finally:
        done.set()
        sweeper.join()

    assert abandoned == [], "the lease lapsed while the job ran"
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert FailedJobRegistry(QUEUE, connection=connection).count == 0
    # the sweeper saw the job leased for well past one lease
    assert leased.count(True) >= 20, leased


def test_a_lapsed_lease_returns_the_job_for_a_retry(redis_url: str, short_leases: None) -> None:
    connection = Redis.from_url(redis_url)
    queue = job_queue(QUEUE, connection)
    job = queue.enqueue("time.sleep", 0, job_timeout=30, retry=Retry(max=2, interval=0))
    worker = workers.build_worker([QUEUE], connection, allowed_functions=SLEEP)
    # A worker that took the job and died: leased once, never renewed.
    worker.prepare_execution(job)
    worker.prepare_job_execution(job)
    worker.connection.lrem(queue.key, 0, job.id)
    started = StartedJobRegistry(QUEUE, connection=connection, serializer=JobSerializer)
    assert started.get_job_ids() == [job.id]

    time.sleep(workers.LEASE_SECONDS + 0.2)
    started.cleanup()

    assert started.get_job_ids() == []
    job.refresh()
    assert job.retries_left == 1
    assert job.get_status() in (JobStatus.QUEUED, JobStatus.SCHEDULED)


def test_a_maintenance_lock_left_by_a_killed_worker_holds_the_others_back_briefly(
    redis_url: str, short_leases: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queues, "MAINTENANCE_LOCK_SECONDS", 1)
    connection = Redis.from_url(redis_url)
    queue = job_queue(QUEUE, connection)
    job = queue.enqueue("time.sleep", 0, job_timeout=30, retry=Retry(max=2, interval=0))
    dead = workers.build_worker([QUEUE], connection, name="dead", allowed_functions=SLEEP)
    # A worker that took the job, then died in its maintenance: lock taken, never released.
    dead.prepare_execution(job)
    dead.prepare_job_execution(job)
    connection.lrem(queue.key, 0, job.id)
    assert queue.acquire_maintenance_lock()
    assert 0 < connection.ttl(queue.registry_cleaning_key) <= queues.MAINTENANCE_LOCK_SECONDS

    time.sleep(workers.LEASE_SECONDS + 0.2)
    workers.build_worker([QUEUE], connection, name="alive").clean_registries()

    assert connection.lrange(queue.key, 0, -1) == [job.id.encode()]
    job.refresh()
    assert job.retries_left == 1
