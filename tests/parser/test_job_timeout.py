"""The job timeout ends a parse job; it is never kept as one more unparsed line."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from rq import Retry

from logagg.parser import BatchIdentity, ParserConfig, jobs, parse_line, parse_lines
from logagg.parser.formats import Format, custom_format
from logagg.parser.settings import ParserSettings
from logagg.queues import PARSE, PARSE_JOB, SHIP_S3, job_queue
from logagg.workers import build_worker

IDENTITY = BatchIdentity.of("b", "slow", "10.0.0.1", "2025-01-02T04:00:00.000Z")
# A pattern that backtracks exponentially: on this line it would run for centuries.
SLOW_PATTERN = "(a|aa)+$"
SLOW_LINE = "a" * 80 + "b"
SLOW = ParserConfig(formats={"slow": custom_format("slow", SLOW_PATTERN)})


class RQTimeout(Exception):  # stands for RQ's JobTimeoutException, an Exception
    pass


@pytest.fixture
def rq_alarm() -> Iterator[None]:
    """SIGALRM armed as RQ's death penalty arms it: a handler raising an ``Exception``."""

    def expire(signum: int, frame: Any) -> None:
        raise RQTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_format_bug_costs_one_line_but_a_job_timeout_propagates() -> None:
    def bug(line: str, clock: Any) -> Any:
        raise RuntimeError("format bug")

    def timeout(line: str, clock: Any) -> Any:
        raise jobs.JobTimeout("job exceeded its timeout")

    for parse, expectation in ((bug, None), (timeout, jobs.JobTimeout)):
        config = ParserConfig(formats={"slow": Format("x", "x", parse)})
        if expectation is None:
            events = parse_lines(["one", "two"], IDENTITY, config)
            assert [event["tags"] for event in events] == [["unparsed"], ["unparsed"]]
            assert parse_line("one", IDENTITY, config)["message"] == "one"
        else:
            with pytest.raises(expectation):
                parse_lines(["one", "two"], IDENTITY, config)
            with pytest.raises(expectation):
                parse_line("one", IDENTITY, config)


def test_a_job_timeout_in_a_structured_item_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    def timeout(record: Any, clock: Any) -> Any:
        raise jobs.JobTimeout("job exceeded its timeout")

    monkeypatch.setattr("logagg.parser.parsing.parse_object", timeout)
    with pytest.raises(jobs.JobTimeout):
        parse_lines([{"message": "x"}], IDENTITY)


def test_rqs_alarm_raises_job_timeout_inside_the_block(rq_alarm: None) -> None:
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    with pytest.raises(jobs.JobTimeout), jobs.timeout_not_swallowed(1):
        parse_lines([SLOW_LINE], IDENTITY, SLOW)
    # RQ's handler is back once the block is left
    assert signal.getsignal(signal.SIGALRM).__name__ == "expire"


def test_a_block_that_ends_in_time_gives_rq_its_alarm_back(rq_alarm: None) -> None:
    handler = signal.getsignal(signal.SIGALRM)
    signal.setitimer(signal.ITIMER_REAL, 30)
    with jobs.timeout_not_swallowed(30):
        assert signal.getsignal(signal.SIGALRM) is not handler
        parse_lines(["a line"], IDENTITY)
    assert signal.getsignal(signal.SIGALRM) is handler
    left, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < left <= 30


def test_without_an_alarm_the_block_runs_as_it_is() -> None:
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    handler = signal.getsignal(signal.SIGALRM)
    with jobs.timeout_not_swallowed(None):
        assert signal.getsignal(signal.SIGALRM) is handler
        assert len(parse_lines(["a line"], IDENTITY)) == 1


@pytest.mark.integration
def test_a_line_past_the_job_timeout_fails_the_job_and_it_is_retried(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    handle = jobs.handle

    def counted(payload: Any, settings: Any, connection: Any) -> int:
        runs.append(payload["batch_id"])
        return handle(payload, settings, connection)

    monkeypatch.setattr(jobs, "handle", counted)
    connection = Redis.from_url(redis_url)
    try:
        jobs.configure(
            ParserSettings.from_env(
                {
                    "LOGAGG_SINKS": "s3",
                    "LOGAGG_PARSER_PATTERNS": f'{{"slow": "{SLOW_PATTERN}"}}',
                    "LOGAGG_PARSER_FORMATS": "slow=pattern:slow",
                }
            )
        )
        queue = job_queue(PARSE, connection)
        payload = {
            "batch_id": "01HXSLOW",
            "service": "slow",
            "source_ip": "198.51.100.7",
            "received_at": "2025-01-02T04:00:00.000Z",
            "content_kind": "text",
            "lines": ["aaa", SLOW_LINE, "aa"],
            "truncated": [],
            "invalid_utf8": [],
        }
        job = queue.enqueue(
            PARSE_JOB.func,
            payload,
            job_id="slow",
            job_timeout=1,
            retry=Retry(max=1, interval=0),
            result_ttl=0,
            failure_ttl=3600,
        )
        # burst: the first run times out, the retry goes back to the queue and times out too
        assert build_worker([PARSE], connection).work(burst=True)
        assert runs == ["01HXSLOW", "01HXSLOW"]
        job.refresh()
        assert job.is_failed
        assert job.retries_left == 0
        result = job.latest_result()
        assert result is not None
        assert result.type == result.Type.FAILED
        assert "JobTimeout: job exceeded its timeout (1 seconds)" in (result.exc_string or "")
        # nothing was handed on: the batch did not complete with the line unparsed
        assert job_queue(SHIP_S3, connection).count == 0
        assert queue.count == 0
    finally:
        jobs._configured.clear()
        connection.close()
