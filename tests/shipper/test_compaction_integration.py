"""Compaction against a real Redis and the S3 server: batches staged as chunks, one
object per partition, and a flusher stopped at any step leaves work that the next one
finishes with the same object, nothing lost, nothing twice."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis

from logagg.archive_staging import CHUNKS_KEY, FLUSHES_KEY, STATS_KEY
from logagg.queues import SHIP_S3_JOB, encode_batch, enqueue
from logagg.receipts import read_receipt, receipt_answer
from logagg.s3_client import connect_s3
from logagg.shipper import jobs
from logagg.shipper.archive import compaction
from logagg.shipper.archive.compaction import Compactor
from logagg.shipper.archive.objects import ArchiveObject
from logagg.shipper.runtime import ShipperRuntime
from logagg.status import staging_status

from .conftest import MakeRuntime, drain
from .events import make_batch

pytestmark = pytest.mark.integration

BUCKET = "logs-archive"


class Killed(Exception):
    """Stands for the flusher's process dying at this point."""


def s3_runtime(make_runtime: MakeRuntime, endpoint: str, **extra: str) -> ShipperRuntime:
    runtime = make_runtime(
        **{
            "S3_BUCKET": BUCKET,
            "AWS_ENDPOINT_URL_S3": endpoint,
            "LOGAGG_S3_PATH_STYLE": "true",
            "LOGAGG_ARCHIVE_FLUSH_AGE": "1s",
            **extra,
        }
    )
    connect_s3(runtime.settings.s3).create_bucket(Bucket=BUCKET)
    # the durability margin is Redis' fsync window; these tests kill no Redis
    runtime.archive_sink().compactor.margin = 0.0
    return runtime


def objects(runtime: ShipperRuntime) -> dict[str, bytes]:
    s3 = connect_s3(runtime.settings.s3)
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in listed
    }


def archived_ids(runtime: ShipperRuntime) -> list[str]:
    return [
        json.loads(line)["event"]["id"]
        for body in objects(runtime).values()
        for line in gzip.decompress(body).splitlines()
    ]


def until(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.1)


def is_archived(redis: Redis, batch_id: str) -> bool:
    """Whether the batch's receipt says archived (no receipt: nothing said it yet)."""
    stored = read_receipt(redis, batch_id)
    return stored is not None and receipt(redis, batch_id)["stages"]["archived"] is True


def receipt(redis: Redis, batch_id: str) -> dict[str, Any]:
    stored = read_receipt(redis, batch_id)
    assert stored is not None
    ((found_id, fields),) = stored.batches
    return receipt_answer(found_id, fields)


def test_batches_of_one_partition_become_one_object_once_it_is_due(
    s3_endpoint_url: str, make_runtime: MakeRuntime
) -> None:
    runtime = s3_runtime(make_runtime, s3_endpoint_url)
    compactor = runtime.archive_sink().compactor
    batches = [make_batch(f"p{n}", 50) for n in range(4)]
    for batch in batches:
        jobs.ship_to_archive(encode_batch(batch))
    assert objects(runtime) == {}
    assert not is_archived(runtime.redis, "p0")
    assert staging_status(runtime.redis, time.time()).chunks == 4
    until(compactor.step, "an object written")
    (key,) = objects(runtime)
    assert key.startswith("logs/service=billing/date=2025-04-18/hour=10/")
    assert sorted(archived_ids(runtime)) == sorted(
        e["event"]["id"] for b in batches for e in b["events"]
    )
    for batch in batches:
        found = receipt(runtime.redis, batch["batch_id"])
        assert found["stages"]["archived"] is True
        assert found["counts"]["archived"] == 50
    status = staging_status(runtime.redis, time.time())
    assert (status.chunks, status.bytes, status.raw_bytes, status.pending_flushes) == (0, 0, 0, 0)


def test_a_full_partition_is_written_without_waiting_for_its_age(
    s3_endpoint_url: str, make_runtime: MakeRuntime
) -> None:
    runtime = s3_runtime(
        make_runtime,
        s3_endpoint_url,
        LOGAGG_ARCHIVE_FLUSH_AGE="1h",
        LOGAGG_ARCHIVE_OBJECT_BYTES="64KiB",
    )
    compactor = runtime.archive_sink().compactor
    assert compactor.step() == 0
    result = compactor.stage(make_batch("f1", 300))  # well over 64 KiB of events
    assert result.full
    assert compactor.step() == 1
    assert len(archived_ids(runtime)) == 300


def test_a_repeated_job_stages_nothing_twice_even_after_its_object_exists(
    s3_endpoint_url: str, make_runtime: MakeRuntime
) -> None:
    runtime = s3_runtime(make_runtime, s3_endpoint_url)
    compactor = runtime.archive_sink().compactor
    batch = make_batch("r1", 20)
    jobs.ship_to_archive(encode_batch(batch))
    jobs.ship_to_archive(batch)  # the same batch, as a replayed job would carry it
    until(compactor.step, "an object written")
    assert jobs.ship_to_archive(encode_batch(batch))["staged_chunks"] is None
    assert compactor.step() == 0
    ids = archived_ids(runtime)
    assert sorted(ids) == sorted(e["event"]["id"] for e in batch["events"])
    assert receipt(runtime.redis, "r1")["counts"]["archived"] == 20


def test_a_batch_over_two_hours_is_archived_once_both_objects_exist(
    s3_endpoint_url: str, make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = s3_runtime(make_runtime, s3_endpoint_url)
    compactor = runtime.archive_sink().compactor
    batch = make_batch("h1", 6, start="2025-04-18T10:59:57.000Z", step_seconds=1)
    jobs.ship_to_archive(encode_batch(batch))
    written: list[str] = []
    put = compactor.store.put

    def first_only(obj: ArchiveObject) -> None:
        if written:
            raise Killed
        put(obj)
        written.append(obj.key)

    monkeypatch.setattr(compactor.store, "put", first_only)
    with pytest.raises(Killed):
        until(compactor.step, "a step")
    assert len(objects(runtime)) == 1
    assert not is_archived(runtime.redis, "h1")
    monkeypatch.setattr(compactor.store, "put", put)
    monkeypatch.setattr(compaction, "FLUSH_LEASE_SECONDS", 0.5)
    runtime.redis.zadd(FLUSHES_KEY, dict.fromkeys(runtime.redis.zrange(FLUSHES_KEY, 0, -1), 0))
    until(compactor.step, "the second object")
    assert len(objects(runtime)) == 2
    found = receipt(runtime.redis, "h1")
    assert found["stages"]["archived"] is True
    assert found["counts"]["archived"] == 6


@pytest.mark.parametrize("step", ["before_put", "after_put"])
def test_a_flusher_killed_mid_flush_leaves_a_flush_the_next_worker_completes(
    s3_endpoint_url: str,
    make_runtime: MakeRuntime,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    monkeypatch.setattr(compaction, "FLUSH_LEASE_SECONDS", 1.0)
    runtime = s3_runtime(make_runtime, s3_endpoint_url)
    dying = runtime.archive_sink().compactor
    batches = [make_batch(f"k{n}", 30) for n in range(3)]
    for batch in batches:
        dying.stage(encode_batch(batch))
    put = dying.store.put
    seen: list[ArchiveObject] = []

    def killed(obj: ArchiveObject) -> None:
        seen.append(obj)
        if step == "after_put":
            put(obj)
        raise Killed

    monkeypatch.setattr(dying.store, "put", killed)
    with pytest.raises(Killed):
        until(dying.step, "a flush begun")
    first = objects(runtime)
    assert len(first) == (1 if step == "after_put" else 0)
    assert runtime.redis.zcard(FLUSHES_KEY) == 1
    # chunks staged after the take go to a new list, not into the pending flush
    dying.stage(encode_batch(make_batch("k9", 5)))
    for batch in batches:
        assert not is_archived(runtime.redis, batch["batch_id"])

    # another worker: its own compactor over the same Redis and bucket
    successor = Compactor(
        runtime.redis,
        runtime.archive_store(),
        prefix=runtime.settings.s3.prefix,
        settings=runtime.settings.compaction,
        receipt_ttl=3600,
        margin=0.0,
    )
    assert successor.recover() == 0  # the lease has not lapsed yet
    until(successor.recover, "the pending flush completed")
    (key,) = [obj.key for obj in seen]
    assert objects(runtime)[key] == seen[0].body
    if step == "after_put":
        assert objects(runtime)[key] == first[key]
    assert sorted(archived_ids(runtime)) == sorted(
        e["event"]["id"] for b in batches for e in b["events"]
    )
    for batch in batches:
        assert receipt(runtime.redis, batch["batch_id"])["counts"]["archived"] == 30
    assert runtime.redis.zcard(FLUSHES_KEY) == 0
    # the batch staged meanwhile becomes an object of its own, after its age
    until(successor.step, "the later batch's object")
    ids = archived_ids(runtime)
    assert len(ids) == len(set(ids)) == 95
    assert runtime.redis.zcard(CHUNKS_KEY) == 0
    assert runtime.redis.hget(STATS_KEY, "bytes") == b"0"


def test_a_failed_write_keeps_the_chunks_counted_and_is_tried_again(
    s3_endpoint_url: str, make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logagg.shipper.errors import ArchiveWriteFailed

    runtime = s3_runtime(make_runtime, s3_endpoint_url)
    compactor = runtime.archive_sink().compactor
    jobs.ship_to_archive(encode_batch(make_batch("w1", 10)))
    put = compactor.store.put
    failures: list[str] = []

    def slow_down(obj: ArchiveObject) -> None:
        failures.append(obj.key)
        raise ArchiveWriteFailed("s3:SlowDown", "please reduce your request rate")

    monkeypatch.setattr(compactor.store, "put", slow_down)
    until(lambda: compactor.step() or failures, "a write tried")
    assert compactor.step() == 0
    assert runtime.redis.zcard(CHUNKS_KEY) == 1  # still in ingest's backlog
    assert not is_archived(runtime.redis, "w1")
    monkeypatch.setattr(compactor.store, "put", put)
    until(compactor.step, "the write tried again")
    assert receipt(runtime.redis, "w1")["counts"]["archived"] == 10
    assert len(set(failures)) == 1


def test_the_archive_worker_stages_queued_batches_and_its_timer_writes_them(
    s3_endpoint_url: str, make_runtime: MakeRuntime
) -> None:
    runtime = s3_runtime(make_runtime, s3_endpoint_url)
    for n in range(3):
        enqueue(SHIP_S3_JOB, encode_batch(make_batch(f"q{n}", 10)), runtime.redis)
    timer = runtime.start_compaction()
    try:
        drain(SHIP_S3_JOB.queue, runtime.redis)
        until(lambda: len(archived_ids(runtime)) == 30, "the timer's object")
    finally:
        runtime.stop_compaction()
    assert timer.interval == 0.5
    assert len(objects(runtime)) == 1
