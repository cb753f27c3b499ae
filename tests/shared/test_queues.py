"""Jobs as the pipeline stores them: deterministic ids, JSON payloads compressed fast."""

from __future__ import annotations

import zlib

import fakeredis
import orjson

from logagg.queues import SHIP_ES_JOB, ParsedBatch, enqueue, job_queue

BATCH: ParsedBatch = {
    "batch_id": "b-1",
    "service": "billing",
    "events": [
        {"message": f"event {n} " + "x" * 200, "event": {"id": f"b-1-{n}"}} for n in range(500)
    ],
}


def test_a_payload_is_stored_at_zlibs_fastest_level_and_reads_back() -> None:
    redis = fakeredis.FakeRedis()
    job = enqueue(SHIP_ES_JOB, BATCH, redis)

    stored = redis.hget(f"rq:job:{job.id}", "data")
    assert stored is not None
    # the second byte of a zlib stream's header names its level: 0x01 is the fastest
    assert stored[:2] == b"\x78\x01"
    func, _instance, args, _kwargs = orjson.loads(zlib.decompress(stored))
    assert func == SHIP_ES_JOB.func
    assert args == [BATCH]

    fetched = job_queue(SHIP_ES_JOB.queue, redis).fetch_job(job.id)
    assert fetched is not None
    assert list(fetched.args) == [BATCH]
    assert fetched.id == "ship-es-b-1"


def test_saving_again_keeps_the_payload() -> None:
    redis = fakeredis.FakeRedis()
    job = enqueue(SHIP_ES_JOB, BATCH, redis)
    job.meta["attempt"] = 2
    job.save()
    fetched = job_queue(SHIP_ES_JOB.queue, redis).fetch_job(job.id)
    assert fetched is not None
    assert list(fetched.args) == [BATCH]
    assert fetched.meta == {"attempt": 2}
