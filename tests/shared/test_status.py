"""``logagg status``: the pure layout, and the figures read from a real Redis."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from redis import Redis

from logagg import status
from logagg.queues import (
    PARSE,
    PARSE_JOB,
    SHIP_ES,
    SHIP_ES_JOB,
    SHIP_S3,
    ParsedBatch,
    RawBatch,
    enqueue,
    job_queue,
)
from logagg.shipper.deadletter import DeadLetter, DeadLetterStore
from logagg.status import (
    DeadLetterCounts,
    PipelineStatus,
    QueueStatus,
    StagingStatus,
    format_age,
)
from logagg.workers import build_worker


def test_ages_are_short_and_readable() -> None:
    assert [format_age(s) for s in (None, 0, 42.9, 185, 7800, 3 * 86400 + 4 * 3600)] == [
        "-",
        "0s",
        "42s",
        "3m05s",
        "2h10m",
        "3d04h",
    ]


def sample() -> PipelineStatus:
    return PipelineStatus(
        time="2026-11-28T10:00:00.000Z",
        redis="redis://:********@redis:6379/0",
        queues=[
            QueueStatus(PARSE, 1234, 65.0, 2, 1, 0, 0),
            QueueStatus(SHIP_ES, 0, None, 1, 0, 3, 12),
            QueueStatus(SHIP_S3, 7, 5.0, 0, 0, 0, 0),
        ],
        dead_letters=DeadLetterCounts(5, {"archive": 1, "elasticsearch": 4}, 2),
        staging=StagingStatus(12, 3 * 1024**2, 40 * 1024**2, 2, 1, 75.0),
    )


def test_the_table_aligns_every_column() -> None:
    lines = status.render_table(sample()).splitlines()
    assert (
        lines[0]
        == "LogAggregator at 2026-11-28T10:00:00.000Z  (redis redis://:********@redis:6379/0)"
    )
    header, parse, ship_es, ship_s3 = lines[2:6]
    assert header.split() == list(status.COLUMNS)
    assert parse.split() == ["parse", "1234", "1m05s", "2", "1", "0", "0"]
    assert ship_es.split() == ["ship-es", "0", "-", "1", "0", "3", "12"]
    assert ship_s3.split() == ["ship-s3", "7", "5s", "0", "0", "0", "0"]
    # numbers are right-aligned under their heading's right edge
    for line in (parse, ship_es, ship_s3):
        assert len(line) == len(header)
    assert lines[-2] == "dead letters: 5 (archive 1, elasticsearch 4); dropped over the cap: 2"
    assert lines[-1] == (
        "archive staging: 12 chunks, 3.0 MiB (40.0 MiB of events) in 2 partitions, "
        "oldest 1m15s; flushes under way: 1"
    )


def test_the_json_holds_every_figure() -> None:
    answer = sample().to_json()
    assert answer["queues"][1] == {
        "name": "ship-es",
        "waiting": 0,
        "oldest_waiting_seconds": None,
        "workers": 1,
        "running": 0,
        "retrying": 3,
        "failed": 12,
    }
    assert answer["dead_letters"] == {
        "total": 5,
        "by_sink": {"archive": 1, "elasticsearch": 4},
        "dropped": 2,
    }


def test_watch_needs_a_positive_interval(capsys: pytest.CaptureFixture[str]) -> None:
    assert status.main(["--watch", "0"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "logagg status: --watch needs a positive number of seconds, not 0"


# -- against a real Redis -----------------------------------------------------------------


def raw_batch(batch_id: str) -> RawBatch:
    return RawBatch(
        batch_id=batch_id,
        service="billing",
        source_ip="198.51.100.7",
        received_at="2026-11-28T10:00:00.000Z",
        content_kind="text",
        lines=["one line"],
        truncated=[],
        invalid_utf8=[],
    )


def parsed_batch(batch_id: str) -> ParsedBatch:
    return ParsedBatch(batch_id=batch_id, service="billing", events=[{"event": {"id": "e"}}])


def letter(n: int, sink: Any) -> DeadLetter:
    return DeadLetter(
        id=f"{sink}:e{n}",
        sink=sink,
        reason="document_parsing_exception",
        detail="bad",
        time="2026-11-28T10:00:00.000Z",
        attempts=1,
        batch_id="b",
        service="billing",
    )


def fill(redis: Redis) -> None:
    """Three parse jobs waiting, a parser worker registered, one ship-es job waiting for a
    retry, one ship-s3 job failed, three dead letters (one dropped over a cap of two)."""
    for n in range(3):
        enqueue(PARSE_JOB, raw_batch(f"p{n}"), redis)
    job_queue(SHIP_ES, redis).enqueue_in(
        timedelta(minutes=5), SHIP_ES_JOB.func, parsed_batch("later")
    )
    job_queue(SHIP_S3, redis).enqueue("logagg.no_such_module.no_such_job", parsed_batch("x"))
    build_worker([SHIP_S3], redis).work(burst=True, logging_level="ERROR")
    store = DeadLetterStore(redis, max_entries=2)
    store.add([letter(0, "elasticsearch")])
    store.add([letter(1, "elasticsearch")])
    store.add([letter(2, "archive")])


@pytest.mark.integration
def test_status_reads_depths_ages_workers_retries_failures_and_dead_letters(
    redis_url: str,
) -> None:
    redis = Redis.from_url(redis_url)
    fill(redis)
    worker = build_worker([PARSE], redis, name="status-test-parser")
    worker.register_birth()
    try:
        later = time.time() + 90
        found = status.collect_status(redis, redis_url, clock=lambda: later)
    finally:
        worker.register_death()
    queues = {queue.name: queue for queue in found.queues}
    assert list(queues) == [PARSE, SHIP_ES, SHIP_S3]
    parse = queues[PARSE]
    assert (parse.waiting, parse.workers, parse.retrying, parse.failed) == (3, 1, 0, 0)
    assert parse.oldest_waiting_seconds is not None
    assert 89 <= parse.oldest_waiting_seconds <= 120
    ship_es = queues[SHIP_ES]
    assert (ship_es.waiting, ship_es.oldest_waiting_seconds, ship_es.retrying) == (0, None, 1)
    ship_s3 = queues[SHIP_S3]
    assert (ship_s3.waiting, ship_s3.failed, ship_s3.workers) == (0, 1, 0)
    assert found.dead_letters == DeadLetterCounts(2, {"archive": 1, "elasticsearch": 1}, 1)


@pytest.mark.integration
def test_the_command_prints_json_and_watches_until_interrupted(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis = Redis.from_url(redis_url)
    fill(redis)
    monkeypatch.setenv("REDIS_URL", redis_url)
    out = io.StringIO()
    assert status.main(["--json"], out=out) == 0
    answer = json.loads(out.getvalue())
    assert set(answer) == {"time", "redis", "queues", "dead_letters", "staging"}
    assert [q["name"] for q in answer["queues"]] == [PARSE, SHIP_ES, SHIP_S3]
    assert answer["queues"][0]["waiting"] == 3
    assert answer["queues"][0]["oldest_waiting_seconds"] >= 0
    assert answer["dead_letters"]["total"] == 2

    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    out = io.StringIO()
    assert status.main(["--watch", "0.5"], out=out, sleep=sleep) == 0
    assert naps == [0.5, 0.5]
    assert out.getvalue().count("dead letters: 2") == 2


@pytest.mark.integration
def test_an_unreachable_redis_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from logagg.embedded import free_port

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("LOGAGG_REDIS_TIMEOUT", "500ms")
    assert status.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("logagg status: Redis at redis://127.0.0.1:")
    assert len(err.strip().splitlines()) == 1
