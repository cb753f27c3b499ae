"""The RQ job: parse a RawBatch, enqueue one ParsedBatch per configured sink."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
from redis import Redis
from rq import Retry

from logagg.parser import jobs
from logagg.parser.settings import ParserSettings
from logagg.queues import (
    PARSE,
    PARSE_JOB,
    SHIP_ES,
    SHIP_ES_JOB,
    SHIP_S3,
    RawBatch,
    decoded_batch,
    enqueue,
    is_encoded,
    job_queue,
)
from logagg.workers import build_worker

LINES: list[str | dict[str, Any]] = [
    "2025-04-18 10:12:01,123 - 10.0.0.7 - 4242 - ERROR - resolve - dns.py - lookup failed - retry",
    "not a known format",
]


def raw_batch(batch_id: str = "01HXBATCH") -> RawBatch:
    return {
        "batch_id": batch_id,
        "service": "billing",
        "source_ip": "198.51.100.7",
        "received_at": "2025-04-18T10:15:00.000Z",
        "content_kind": "text",
        "lines": LINES,
        "truncated": [],
        "invalid_utf8": [],
    }


def shipped(connection: Redis, queue: str) -> list[Any]:
    return [job.args[0] for job in job_queue(queue, connection).get_jobs()]


@pytest.fixture
def fake() -> Iterator[Redis]:
    connection = fakeredis.FakeRedis()
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("sinks", "expected"),
    [("elasticsearch,s3", (1, 1)), ("s3", (0, 1)), ("elasticsearch", (1, 0))],
)
def test_handle_enqueues_one_job_per_sink(
    fake: Redis, sinks: str, expected: tuple[int, int]
) -> None:
    settings = ParserSettings.from_env({"LOGAGG_SINKS": sinks})
    assert jobs.handle(raw_batch(), settings, fake) == 2
    es, s3 = shipped(fake, SHIP_ES), shipped(fake, SHIP_S3)
    assert (len(es), len(s3)) == expected
    # both shippers' batches come encoded
    assert all(is_encoded(payload) for payload in es + s3)
    for payloads in ([decoded_batch(p) for p in es], [decoded_batch(p) for p in s3]):
        for payload in payloads:
            assert payload["batch_id"] == "01HXBATCH"
            assert payload["service"] == "billing"
            assert [e["event"]["id"] for e in payload["events"]] == ["01HXBATCH-0", "01HXBATCH-1"]
            assert payload["events"][0]["message"] == "lookup failed - retry"


def test_a_repeated_batch_replaces_its_shipping_jobs(fake: Redis) -> None:
    settings = ParserSettings.from_env({})
    jobs.handle(raw_batch(), settings, fake)
    jobs.handle(raw_batch(), settings, fake)
    ids = [job.id for job in job_queue(SHIP_ES, fake).get_jobs()]
    assert set(ids) == {SHIP_ES_JOB.job_id("01HXBATCH")}


@pytest.mark.integration
def test_worker_parses_a_queued_batch(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("LOGAGG_SINKS", "elasticsearch,s3")
    jobs._configured.clear()
    connection = Redis.from_url(redis_url)
    try:
        enqueue(PARSE_JOB, raw_batch("01HXREAL"), connection)
        worker = build_worker([PARSE], connection)
        assert worker.work(burst=True)
        es, s3 = shipped(connection, SHIP_ES), shipped(connection, SHIP_S3)
        assert es == s3
        assert len(es) == 1
        events = decoded_batch(s3[0])["events"]
        assert es[0]["routes"] == [
            [
                event["event"]["id"],
                event["event"].get("dataset"),
                event["@timestamp"],
                event["event"]["ingested"],
            ]
            for event in events
        ]
        assert [e["event"]["id"] for e in events] == ["01HXREAL-0", "01HXREAL-1"]
        assert job_queue(PARSE, connection).count == 0
        assert len(job_queue(PARSE, connection).failed_job_registry) == 0
    finally:
        jobs._configured.clear()
        connection.close()


@pytest.mark.integration
def test_main_runs_a_burst_worker(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from logagg.parser.__main__ import main

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("LOGAGG_SINKS", "s3")
    jobs._configured.clear()
    connection = Redis.from_url(redis_url)
    try:
        enqueue(PARSE_JOB, raw_batch("01HXMAIN"), connection)
        assert main(["--burst"]) == 0
        assert len(shipped(connection, SHIP_S3)) == 1
        assert shipped(connection, SHIP_ES) == []
    finally:
        jobs._configured.clear()
        connection.close()


def test_main_refuses_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from logagg.parser.__main__ import main

    monkeypatch.setenv("LOGAGG_SINKS", "kafka")
    assert main([]) == 2
    assert "LOGAGG_SINKS" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([], "payload is a list, not an object"),
        ({"service": "s", "lines": []}, "payload has no batch_id"),
        ({"batch_id": "b", "service": "", "lines": []}, "payload has no service"),
        ({"batch_id": "b", "service": "s", "lines": "x"}, "payload has no list of lines"),
        ({"batch_id": "b", "service": "s", "lines": [], "truncated": 3}, "truncated"),
    ],
)
def test_payload_problems(payload: object, problem: str) -> None:
    found = jobs.payload_problem(payload)
    assert found is not None
    assert problem in found


def test_a_good_payload_has_no_problem() -> None:
    assert jobs.payload_problem(raw_batch()) is None


@pytest.mark.integration
def test_a_malformed_payload_fails_without_retry(redis_url: str) -> None:
    connection = Redis.from_url(redis_url)
    try:
        queue = job_queue(PARSE, connection)
        job = queue.enqueue(
            PARSE_JOB.func,
            {"batch_id": "bad", "lines": []},
            job_id="bad",
            retry=Retry(max=3, interval=60),
        )
        jobs.configure(ParserSettings.from_env({}))
        assert build_worker([PARSE], connection).work(burst=True)
        job.refresh()
        assert job.is_failed
        result = job.latest_result()
        assert result is not None
        assert "PermanentError: payload has no service" in (result.exc_string or "")
        assert queue.count == 0
        assert len(queue.scheduled_job_registry) == 0
    finally:
        jobs._configured.clear()
        connection.close()
