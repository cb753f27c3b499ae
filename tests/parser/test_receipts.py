"""The parse job records what it made of a batch in the batch's receipt, in the same
transaction as the shipping jobs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
import redis.exceptions as redis_errors
from redis import Redis

from logagg.parser import jobs
from logagg.parser.settings import ParserSettings
from logagg.queues import SHIP_ES, SHIP_S3, RawBatch, job_queue
from logagg.receipts import batch_key, read_receipt, receipt_answer, request_key

LINES: list[str | dict[str, Any]] = [
    "not a known format",
    "2025-04-18 10:12:01,123 - 10.0.0.7 - 4242 - ERROR - resolve - dns.py - lookup failed - x",
    "Traceback (most recent call last):",
    '  File "app.py", line 3, in <module>',
    "ValueError: boom",
    '{"message": "structured", "level": "info"}',
]


def raw_batch() -> RawBatch:
    return {
        "batch_id": "req-0",
        "service": "billing",
        "source_ip": "198.51.100.7",
        "received_at": "2025-04-18T10:15:00.000Z",
        "content_kind": "text",
        "lines": LINES,
        "truncated": [],
        "invalid_utf8": [],
        "request_id": "req",
    }


@pytest.fixture
def fake() -> Iterator[Redis]:
    connection = fakeredis.FakeRedis()
    yield connection
    connection.close()


def test_the_parse_is_recorded_with_the_sinks(fake: Redis) -> None:
    fake.rpush(request_key("req"), "req-0")
    settings = ParserSettings.from_env(
        {"LOGAGG_SINKS": "elasticsearch,s3", "LOGAGG_RECEIPT_TTL": "1h"}
    )
    events = jobs.handle(raw_batch(), settings, fake)
    stored = read_receipt(fake, "req-0")
    assert stored is not None
    ((_, fields),) = stored.batches
    found = receipt_answer("req-0", fields)
    assert found["status"] == "parsed"
    assert found["sinks"] == ["elasticsearch", "archive"]
    counts = found["counts"]
    assert counts["events"] == events
    # the traceback is joined to the line before it: 6 lines, 3 events, one unparsed
    assert (counts["events"], counts["unparsed"], counts["parsed"]) == (3, 1, 2)
    assert 0 < fake.ttl(batch_key("req-0")) <= 3600
    assert 0 < fake.ttl(request_key("req")) <= 3600


def test_a_retried_parse_writes_the_same_numbers(fake: Redis) -> None:
    settings = ParserSettings.from_env({"LOGAGG_SINKS": "s3"})
    jobs.handle(raw_batch(), settings, fake)
    first = fake.hgetall(batch_key("req-0"))
    jobs.handle(raw_batch(), settings, fake)
    second = fake.hgetall(batch_key("req-0"))
    first.pop(b"parsed_at")
    second.pop(b"parsed_at")
    assert first == second
    assert second[b"sinks"] == b"archive"


def test_no_receipt_without_the_shipping_jobs(fake: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline_class = type(fake.pipeline())

    def fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise redis_errors.ConnectionError("connection lost during EXEC")

    monkeypatch.setattr(pipeline_class, "execute", fail)
    with pytest.raises(redis_errors.ConnectionError):
        jobs.handle(raw_batch(), ParserSettings.from_env({}), fake)
    monkeypatch.undo()
    assert fake.keys("logagg:receipt:*") == []
    assert job_queue(SHIP_ES, fake).count == 0
    assert job_queue(SHIP_S3, fake).count == 0
