"""The dead-letter store on an in-memory Redis: entries, counts, cap, replay, purge."""

from __future__ import annotations

import json
import zlib

from redis import Redis
from rq.serializers import JSONSerializer

from logagg.queues import SHIP_ES, SHIP_S3, job_queue
from logagg.shipper.deadletter import (
    DeadLetter,
    DeadLetterStore,
    Filter,
    Sink,
    batch_letter_id,
    item_letter_id,
)

from .events import make_event


def letter(n: int, *, sink: Sink = "elasticsearch", reason: str = "document_parsing_exception",
           batch: str = "b1") -> DeadLetter:  # fmt: skip
    event = make_event(batch, n)
    return DeadLetter(
        id=item_letter_id(sink, event["event"]["id"]),
        sink=sink,
        reason=reason,
        detail=f"failed to parse field [client.ip] in {n}",
        time="2025-04-18T10:12:05.000Z",
        attempts=1,
        batch_id=batch,
        service="billing",
        events=[event],
        status=400,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_entries_keep_everything_and_come_back_oldest_first(fake_redis: Redis) -> None:
    store = DeadLetterStore(fake_redis, max_entries=10, clock=Clock())
    for n in range(3):
        store.add([letter(n)])
    got = list(store.entries())
    assert got == [letter(0), letter(1), letter(2)]
    assert len(store) == 3


def test_the_same_item_rejected_again_is_one_entry(deadletters: DeadLetterStore) -> None:
    deadletters.add([letter(0)])
    deadletters.add([letter(0)])
    assert len(deadletters) == 1


def test_count_by_reason(deadletters: DeadLetterStore) -> None:
    deadletters.add([letter(0), letter(1), letter(2, reason="strict_dynamic_mapping_exception")])
    batch = letter(9, sink="archive", reason="s3:SlowDown")
    deadletters.add([batch])
    assert deadletters.count_by_reason() == {
        ("elasticsearch", "document_parsing_exception"): 2,
        ("elasticsearch", "strict_dynamic_mapping_exception"): 1,
        ("archive", "s3:SlowDown"): 1,
    }
    assert deadletters.count_by_reason(Filter(sink="archive")) == {("archive", "s3:SlowDown"): 1}


def test_the_oldest_are_dropped_past_the_cap_and_counted(fake_redis: Redis) -> None:
    store = DeadLetterStore(fake_redis, max_entries=3, clock=Clock())
    dropped = [store.add([letter(n)]) for n in range(5)]
    assert dropped == [0, 0, 0, 1, 1]
    assert [d.id for d in store.entries()] == [letter(n).id for n in (2, 3, 4)]
    assert store.dropped() == 2
    assert fake_redis.hlen("logagg:dlq:entries") == 3


def test_the_oldest_are_dropped_first_even_when_the_clock_stands_still(
    fake_redis: Redis,
) -> None:
    store = DeadLetterStore(fake_redis, max_entries=2, clock=lambda: 1_000_000.0)
    # ids in the opposite of their age's order, as "elasticsearch:…" then "archive:…"
    for n in (0, 1):
        store.add([letter(n, sink="elasticsearch")])
    store.add([letter(2, sink="archive")])
    assert [d.id for d in store.entries()] == [
        letter(1, sink="elasticsearch").id,
        letter(2, sink="archive").id,
    ]


def test_replay_enqueues_one_batch_per_sink_and_batch_and_empties(fake_redis: Redis) -> None:
    store = DeadLetterStore(fake_redis, max_entries=100, clock=Clock())
    store.add([letter(0), letter(1), letter(0, batch="b2")])
    whole = DeadLetter(
        id=batch_letter_id("archive", "b3"), sink="archive", reason="s3:SlowDown", detail="",
        time="2025-04-18T10:12:05.000Z", attempts=8, batch_id="b3", service="billing",
        events=[make_event("b3", n) for n in range(3)],
    )  # fmt: skip
    store.add([whole])

    assert store.replay(Filter(sink="elasticsearch")) == 3
    es_queue = job_queue(SHIP_ES, fake_redis)
    jobs = {job.id: job for job in es_queue.get_jobs()}
    assert set(jobs) == {"ship-es-b1", "ship-es-b2"}
    payload = jobs["ship-es-b1"].args[0]
    assert [e["event"]["id"] for e in payload["events"]] == ["b1-0", "b1-1"]
    assert payload["batch_id"] == "b1"
    assert jobs["ship-es-b1"].func_name == "logagg.shipper.jobs.ship_to_elasticsearch"
    assert [d.sink for d in store.entries()] == ["archive"]

    assert store.replay() == 3
    (archive_job,) = job_queue(SHIP_S3, fake_redis).get_jobs()
    assert archive_job.func_name == "logagg.shipper.jobs.ship_to_archive"
    assert len(store) == 0
    # stored as JSON, readable by any worker
    raw = fake_redis.hget(f"rq:job:{archive_job.id}", "data")
    assert raw is not None
    assert JSONSerializer.loads(zlib.decompress(raw))[2][0]["batch_id"] == "b3"


def test_purge_by_reason_and_by_id(deadletters: DeadLetterStore) -> None:
    deadletters.add([letter(0), letter(1, reason="other"), letter(2)])
    assert deadletters.purge(Filter(reason="other")) == 1
    assert deadletters.purge(Filter(ids=[letter(0).id])) == 1
    assert [d.id for d in deadletters.entries()] == [letter(2).id]


def test_entries_round_trip_as_json() -> None:
    original = letter(3)
    assert DeadLetter.from_json(original.to_json()) == original
    assert json.loads(original.to_json())["events"][0]["event"]["id"] == "b1-3"
