"""Archive keys and chunks: by service and the hour placing the events; chunk ids by batch."""

from __future__ import annotations

import gzip
import hashlib
import json

from logagg.queues import ParsedBatch, encode_batch
from logagg.shipper.archive.keys import (
    ArchivePartition,
    chunk_id,
    object_key,
    object_name,
    partition_events,
)
from logagg.shipper.archive.objects import Chunk, concatenate, plan_chunks
from logagg.shipper.archive.reader import decode_events

from .events import make_batch, make_event


def test_key_layout() -> None:
    partition = ArchivePartition("billing", "2025-04-18", "10")
    assert (
        object_key("logs/", partition, "b1")
        == "logs/service=billing/date=2025-04-18/hour=10/b1.ndjson.gz"
    )
    assert object_key("", partition, "b1") == "service=billing/date=2025-04-18/hour=10/b1.ndjson.gz"
    assert object_key("/archive", partition, "b1").startswith("archive/service=billing/")


def test_a_batch_spanning_two_hours_becomes_two_chunks() -> None:
    batch = make_batch("b2", 6, start="2025-04-18T10:59:58.000Z", step_seconds=1)
    chunks = plan_chunks(batch)
    assert [(c.partition.path, c.event_count) for c in chunks] == [
        ("service=billing/date=2025-04-18/hour=10", 2),
        ("service=billing/date=2025-04-18/hour=11", 4),
    ]
    assert [c.chunk_id for c in chunks] == [chunk_id("b2", c.partition) for c in chunks]
    assert len({c.chunk_id for c in chunks}) == 2
    lines = gzip.decompress(chunks[0].body).decode().splitlines()
    assert [json.loads(line) for line in lines] == batch["events"][:2]
    assert chunks[0].raw_bytes == len(gzip.decompress(chunks[0].body))


def test_services_and_days_partition_separately() -> None:
    events = [
        make_event("b3", 0, service="api", at="2025-04-18T23:59:59Z"),
        make_event("b3", 1, service="web", at="2025-04-18T23:00:00Z"),
        make_event("b3", 2, service="api", at="2025-04-19T00:00:00Z"),
    ]
    groups = partition_events(events, "api")
    assert list(groups) == [
        ArchivePartition("api", "2025-04-18", "23"),
        ArchivePartition("api", "2025-04-19", "00"),
        ArchivePartition("web", "2025-04-18", "23"),
    ]


def test_the_same_batch_always_gives_the_same_chunks_in_either_form() -> None:
    batch = make_batch("b4", 20)
    first = plan_chunks(batch)
    again = plan_chunks(ParsedBatch(**json.loads(json.dumps(batch))))
    encoded = plan_chunks(encode_batch(batch))
    assert first == again == encoded


def test_concatenated_chunks_decode_to_their_events_in_order() -> None:
    batches = [
        make_batch(f"c{n}", 5, start=f"2025-04-18T10:0{n}:00.000Z", step_seconds=1)
        for n in range(3)
    ]
    chunks: list[Chunk] = [chunk for batch in batches for chunk in plan_chunks(encode_batch(batch))]
    body = concatenate([chunk.body for chunk in chunks])
    assert decode_events(body) == [event for batch in batches for event in batch["events"]]


def test_an_object_name_depends_on_its_partition_and_first_chunk_only() -> None:
    part = "service=a/date=2025-04-18/hour=10"
    assert object_name(part, "b1:x") == object_name(part, "b1:x")
    assert object_name(part, "b1:x") != object_name(part, "b2:x")
    assert object_name(part, "b1:x") != object_name("service=b/date=2025-04-18/hour=10", "b1:x")
    # the name the staging script gives the flush (Redis' sha1hex of the same text)
    assert (
        object_name(part, "b1:x")
        == hashlib.sha1(f"{part}\nb1:x".encode(), usedforsecurity=False).hexdigest()
    )


def test_odd_service_names_cannot_escape_their_folder() -> None:
    events = [make_event("b5", 0, service="../etc"), make_event("b5", 1, service="..")]
    paths = [
        c.partition.path
        for c in plan_chunks(ParsedBatch(batch_id="b5", service="x", events=events))
    ]
    assert paths == [
        "service=%2E%2E/date=2025-04-18/hour=10",
        "service=..%2Fetc/date=2025-04-18/hour=10",
    ]


def test_undated_events_have_their_own_partition() -> None:
    event = make_event("b6", 0, at="garbage")
    del event["event"]["ingested"]
    (chunk,) = plan_chunks(ParsedBatch(batch_id="b6", service="svc", events=[event]))
    assert object_key("logs", chunk.partition, "n") == (
        "logs/service=billing/date=unknown/hour=unknown/n.ndjson.gz"
    )
