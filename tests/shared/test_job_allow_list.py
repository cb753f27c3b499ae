"""Workers run the pipeline's own jobs only: a job written into Redis naming anything else
fails without running."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from redis import Redis
from rq.job import Callback, JobStatus
from rq.registry import FailedJobRegistry

from logagg import workers
from logagg.queues import PARSE, PARSE_JOB, JobSerializer, job_queue

pytestmark = pytest.mark.integration


def test_a_foreign_job_fails_without_running(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    connection = Redis.from_url(redis_url)
    marker = tmp_path / "ran"
    # What an attacker with access to Redis would write: any importable callable.
    job = job_queue(PARSE, connection).enqueue("os.mkdir", str(marker))
    with caplog.at_level(logging.ERROR, logger="logagg.workers"):
        worker = workers.build_worker([PARSE], connection)
        worker.work(burst=True, logging_level="ERROR")
    assert not marker.exists(), "the foreign job ran"
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    failed = FailedJobRegistry(PARSE, connection=connection, serializer=JobSerializer)
    assert job.id in failed.get_job_ids()
    assert any("os.mkdir" in record.getMessage() for record in caplog.records)


def test_a_pipeline_job_with_a_callback_fails_without_running(redis_url: str) -> None:
    connection = Redis.from_url(redis_url)
    job = job_queue(PARSE, connection).enqueue(
        PARSE_JOB.func,
        {"batch_id": "x", "lines": []},
        on_failure=Callback("logging.getLogger"),
    )
    workers.build_worker([PARSE], connection).work(burst=True, logging_level="ERROR")
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    result = job.latest_result()
    assert result is not None
    # Refused before the parser ran (it would have failed with "payload has no service").
    assert result.exc_string == "pipeline jobs have no callbacks"


def test_the_pipeline_functions_are_the_job_specs() -> None:
    assert PARSE_JOB.func in workers.PIPELINE_FUNCTIONS
    assert "os.getenv" not in workers.PIPELINE_FUNCTIONS
