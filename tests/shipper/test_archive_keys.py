"""Archive keys: by service, the events' own date and hour, and the batch id."""

from __future__ import annotations

import gzip
import json

from logagg.queues import ParsedBatch
from logagg.shipper.archive.keys import ArchivePartition, object_key, partition_events
from logagg.shipper.archive.objects import build_objects

from .events import make_batch, make_event


def test_key_layout() -> None:
    partition = ArchivePartition("billing", "2025-04-18", "10")
    assert (
        object_key("logs/", partition, "b1")
        == "logs/service=billing/date=2025-04-18/hour=10/b1.ndjson.gz"
    )
    assert object_key("", partition, "b1") == "service=billing/date=2025-04-18/hour=10/b1.ndjson.gz"
    assert object_key("/archive", partition, "b1").startswith("archive/service=billing/")


def test_a_batch_spanning_two_hours_becomes_two_objects() -> None:
    batch = make_batch("b2", 6, start="2025-04-18T10:59:58.000Z", step_seconds=1)
    objects = build_objects(batch, "logs/")
    assert [(o.key, o.event_count) for o in objects] == [
        ("logs/service=billing/date=2025-04-18/hour=10/b2.ndjson.gz", 2),
        ("logs/service=billing/date=2025-04-18/hour=11/b2.ndjson.gz", 4),
    ]
    lines = gzip.decompress(objects[0].body).decode().splitlines()
    assert [json.loads(line) for line in lines] == batch["events"][:2]


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


def test_the_same_batch_always_gives_the_same_bytes() -> None:
    batch = make_batch("b4", 20)
    first = build_objects(batch, "logs/")
    again = build_objects(ParsedBatch(**json.loads(json.dumps(batch))), "logs/")
    assert [(o.key, o.body) for o in first] == [(o.key, o.body) for o in again]


def test_odd_service_names_cannot_escape_their_folder() -> None:
    events = [make_event("b5", 0, service="../etc"), make_event("b5", 1, service="..")]
    keys = [
        o.key for o in build_objects(ParsedBatch(batch_id="b5", service="x", events=events), "")
    ]
    assert keys == [
        "service=%2E%2E/date=2025-04-18/hour=10/b5.ndjson.gz",
        "service=..%2Fetc/date=2025-04-18/hour=10/b5.ndjson.gz",
    ]


def test_undated_events_have_their_own_partition() -> None:
    event = make_event("b6", 0, at="garbage")
    del event["event"]["ingested"]
    (obj,) = build_objects(ParsedBatch(batch_id="b6", service="svc", events=[event]), "logs")
    assert obj.key == "logs/service=billing/date=unknown/hour=unknown/b6.ndjson.gz"
