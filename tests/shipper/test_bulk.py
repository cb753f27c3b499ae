"""Bulk bodies: one `create` per event with its deterministic id, bounded requests."""

from __future__ import annotations

import json

import pytest

from logagg.queues import EncodedBatch, ParsedBatch, decoded_batch, encode_batch, encoded_sources
from logagg.shipper.elasticsearch.bulk import (
    bulk_items,
    chunk_items,
    document_id,
    encode_items,
    request_body,
)
from logagg.shipper.elasticsearch.layout import Layout

from .events import make_batch, make_event


def test_each_event_becomes_a_create_with_its_event_id() -> None:
    batch = make_batch("b7", 3)
    items = encode_items(batch["events"], "b7", Layout.DAILY, "prod")
    lines = request_body(items).decode().splitlines()
    assert len(lines) == 6
    actions = [json.loads(line) for line in lines[0::2]]
    assert actions == [
        {"create": {"_index": "logs-app.log-prod-2025.04.18", "_id": f"b7-{n}"}} for n in range(3)
    ]
    assert [json.loads(line) for line in lines[1::2]] == batch["events"]


def test_data_stream_layout_targets_the_stream() -> None:
    (item,) = encode_items([make_event("b", 0)], "b", Layout.DATA_STREAM, "prod")
    assert item.index == "logs-app.log-prod"


def test_an_event_without_id_gets_the_same_rule() -> None:
    event = make_event("b9", 4)
    del event["event"]["id"]
    assert document_id(event, "b9", 4) == "b9-4"
    assert document_id(make_event("b9", 4), "other", 0) == "b9-4"


def test_requests_are_bounded_in_documents() -> None:
    items = encode_items(make_batch("b", 10)["events"], "b", Layout.DAILY, "x")
    chunks = list(chunk_items(items, max_documents=4, max_bytes=10**9))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert [i.position for c in chunks for i in c] == list(range(10))


def test_requests_are_bounded_in_bytes() -> None:
    items = encode_items(make_batch("b", 10)["events"], "b", Layout.DAILY, "x")
    size = items[0].size
    chunks = list(chunk_items(items, max_documents=1000, max_bytes=size * 3 + size // 2))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert all(len(request_body(c)) <= size * 3 + size // 2 for c in chunks)


def test_an_item_larger_than_the_byte_bound_goes_alone() -> None:
    events = make_batch("b", 3)["events"]
    events[1]["message"] = "x" * 5000
    items = encode_items(events, "b", Layout.DAILY, "x")
    chunks = list(chunk_items(items, max_documents=100, max_bytes=2000))
    assert [[i.position for i in c] for c in chunks] == [[0], [1], [2]]


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        list(chunk_items([], max_documents=0, max_bytes=10))


def awkward_batch() -> ParsedBatch:
    """Events a route alone cannot always place: no id, no dataset, a time the parser
    would not write, none at all, text that needs escaping."""
    batch = make_batch("b", 6)
    events = batch["events"]
    del events[0]["event"]["id"]
    del events[1]["event"]["dataset"]
    events[2]["@timestamp"] = "2025-04-19T01:02:03+02:00"
    del events[3]["@timestamp"]
    events[4]["message"] = 'line "one"\nline\ttwo – naïve \u2028'
    events[5]["event"]["dataset"] = "Weird Data/Set"
    return batch


@pytest.mark.parametrize("layout", list(Layout))
def test_an_encoded_batch_makes_the_same_requests_as_its_objects(layout: Layout) -> None:
    batch = awkward_batch()
    from_objects = bulk_items(batch, layout, "prod")
    from_encoded = bulk_items(encode_batch(batch), layout, "prod")
    assert [(i.position, i.doc_id, i.index, i.lines) for i in from_encoded] == [
        (i.position, i.doc_id, i.index, i.lines) for i in from_objects
    ]
    assert [i.event for i in from_encoded] == batch["events"]
    assert decoded_batch(encode_batch(batch)) == batch


def test_encoded_events_and_routes_must_pair_up() -> None:
    encoded = encode_batch(make_batch("b", 3))
    short = EncodedBatch(**{**encoded, "routes": encoded["routes"][:2]})
    with pytest.raises(ValueError, match="3 encoded events for 2 routes"):
        encoded_sources(short)
