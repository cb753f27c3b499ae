"""Bulk bodies: one `create` per event with its deterministic id, bounded requests."""

from __future__ import annotations

import json

import pytest

from logagg.shipper.elasticsearch.bulk import (
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
