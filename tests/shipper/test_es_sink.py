"""The Elasticsearch sink's loop, driven by a transport with canned answers."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from logagg.queues import encode_batch
from logagg.shipper.deadletter import DeadLetterStore
from logagg.shipper.elasticsearch.layout import Layout
from logagg.shipper.elasticsearch.sink import (
    BulkBounds,
    BulkRequestFailed,
    ElasticsearchSink,
)
from logagg.shipper.errors import Undelivered
from logagg.shipper.metrics import ShipperMetrics
from logagg.shipper.retry import BackoffPolicy

from .events import make_batch

Answer = Callable[[str, dict[str, Any]], int]  # doc id, source -> status


class CannedTransport:
    """Answers each bulk request with per-item statuses from ``answers`` (one per request)."""

    def __init__(self, *answers: Answer | BulkRequestFailed) -> None:
        self.answers = list(answers)
        self.requests: list[list[str]] = []

    def bulk(self, body: bytes) -> Mapping[str, Any]:
        lines = body.decode().splitlines()
        actions = [json.loads(line)["create"] for line in lines[0::2]]
        sources = [json.loads(line) for line in lines[1::2]]
        self.requests.append([a["_id"] for a in actions])
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BulkRequestFailed):
            raise answer
        items = []
        for action, source in zip(actions, sources, strict=True):
            status = answer(action["_id"], source)
            item: dict[str, Any] = {"_id": action["_id"], "status": status}
            if status >= 300:
                item["error"] = {"type": f"error_{status}", "reason": f"status {status}"}
            items.append({"create": item})
        return {"errors": any(i["create"]["status"] >= 300 for i in items), "items": items}


def ok(_id: str, _source: dict[str, Any]) -> int:
    return 201


def sink_with(
    transport: CannedTransport, deadletters: DeadLetterStore, *, attempts: int = 3, **bounds: int
) -> tuple[ElasticsearchSink, list[float]]:
    waits: list[float] = []
    sink = ElasticsearchSink(
        transport,
        namespace="default",
        layout=Layout.DATA_STREAM,
        bounds=BulkBounds(bounds.get("docs", 1000), bounds.get("size", 10**8)),
        policy=BackoffPolicy(attempts=attempts, base=0.1, cap=1.0),
        deadletters=deadletters,
        metrics=ShipperMetrics(),
        sleep=waits.append,
        rng=random.Random(3),
    )
    return sink, waits


def test_all_created(deadletters: DeadLetterStore) -> None:
    transport = CannedTransport(ok)
    sink, waits = sink_with(transport, deadletters, docs=4)
    report = sink.ship(make_batch("b", 10))
    assert (report.created, report.already_there, report.rejected) == (10, 0, 0)
    assert [len(r) for r in transport.requests] == [4, 4, 2]
    assert waits == []
    assert len(deadletters) == 0


def test_items_answered_429_are_sent_again_alone_after_a_backoff(
    deadletters: DeadLetterStore,
) -> None:
    def first(doc_id: str, _: dict[str, Any]) -> int:
        return 429 if doc_id in ("b-1", "b-3") else 201

    transport = CannedTransport(first, ok)
    sink, waits = sink_with(transport, deadletters)
    report = sink.ship(make_batch("b", 5))
    assert transport.requests == [["b-0", "b-1", "b-2", "b-3", "b-4"], ["b-1", "b-3"]]
    assert report.created == 5
    assert report.item_retries == 2
    assert len(waits) == 1
    assert 0 <= waits[0] <= 0.1


def test_409_on_the_retry_is_delivered(deadletters: DeadLetterStore) -> None:
    def first(doc_id: str, _: dict[str, Any]) -> int:
        return 503 if doc_id == "b-0" else 201

    def second(_id: str, _: dict[str, Any]) -> int:
        return 409

    sink, _ = sink_with(CannedTransport(first, second), deadletters)
    report = sink.ship(make_batch("b", 3))
    assert (report.created, report.already_there) == (2, 1)


def test_400_items_are_dead_lettered_and_the_rest_indexed(deadletters: DeadLetterStore) -> None:
    def answer(doc_id: str, _: dict[str, Any]) -> int:
        return 400 if doc_id == "b-2" else 201

    transport = CannedTransport(answer)
    sink, waits = sink_with(transport, deadletters)
    report = sink.ship(make_batch("b", 4), attempt=2)
    assert (report.created, report.rejected) == (3, 1)
    assert len(transport.requests) == 1  # a rejection is never retried
    (letter,) = deadletters.entries()
    assert letter.id == "elasticsearch:b-2"
    assert (letter.sink, letter.reason, letter.status, letter.attempts) == (
        "elasticsearch", "error_400", 400, 2
    )  # fmt: skip
    assert letter.events[0]["event"]["id"] == "b-2"
    assert waits == []
    sample = sink.metrics.registry.get_sample_value
    assert sample("logagg_shipper_bulk_items_total", {"outcome": "delivered", "status": "201"}) == 3
    assert sample("logagg_shipper_bulk_items_total", {"outcome": "rejected", "status": "400"}) == 1
    assert sample("logagg_shipper_documents_indexed_total") == 3
    assert sample("logagg_shipper_dead_lettered_events_total",
                  {"sink": "elasticsearch", "reason": "error_400"}) == 1  # fmt: skip


def test_items_still_failing_after_the_attempts_are_owed(deadletters: DeadLetterStore) -> None:
    def answer(doc_id: str, _: dict[str, Any]) -> int:
        return {"b-1": 429, "b-2": 400}.get(doc_id, 201)

    transport = CannedTransport(answer)
    sink, waits = sink_with(transport, deadletters, attempts=3)
    with pytest.raises(Undelivered) as raised:
        sink.ship(make_batch("b", 4))
    assert [e["event"]["id"] for e in raised.value.events] == ["b-1"]
    assert raised.value.reason == "error_429"
    assert len(transport.requests) == 3
    assert len(waits) == 2
    assert [letter.id for letter in deadletters.entries()] == ["elasticsearch:b-2"]


def test_a_whole_request_failure_owes_everything_not_yet_settled(
    deadletters: DeadLetterStore,
) -> None:
    down = BulkRequestFailed(None, "ConnectionError", "refused")
    transport = CannedTransport(ok, down)
    sink, waits = sink_with(transport, deadletters, docs=2)
    with pytest.raises(Undelivered) as raised:
        sink.ship(make_batch("b", 5))
    # the first request went through; the second failed and nothing after it was sent
    assert [e["event"]["id"] for e in raised.value.events] == ["b-2", "b-3", "b-4"]
    assert raised.value.reason == "ConnectionError"
    assert waits == []  # whole-request failures are left to RQ's Retry


@pytest.mark.parametrize("status", [429, 503])
def test_whole_request_429_and_503_go_back_to_the_queue(
    deadletters: DeadLetterStore, status: int
) -> None:
    transport = CannedTransport(BulkRequestFailed(status, "overloaded"))
    sink, _ = sink_with(transport, deadletters)
    with pytest.raises(Undelivered) as raised:
        sink.ship(make_batch("b", 3))
    assert len(raised.value.events) == 3
    assert len(deadletters) == 0


def test_413_splits_the_request_until_it_fits(deadletters: DeadLetterStore) -> None:
    class TooLargeOverTwo(CannedTransport):
        def bulk(self, body: bytes) -> Mapping[str, Any]:
            if body.count(b"\n") > 4:
                self.requests.append(["too large"])
                raise BulkRequestFailed(413, "request_entity_too_large")
            return super().bulk(body)

    transport = TooLargeOverTwo(ok)
    sink, _ = sink_with(transport, deadletters)
    report = sink.ship(make_batch("b", 5))
    assert report.created == 5
    sent = [r for r in transport.requests if r != ["too large"]]
    assert sorted(doc for r in sent for doc in r) == [f"b-{n}" for n in range(5)]
    assert all(len(r) <= 2 for r in sent)


def test_a_single_item_too_large_is_dead_lettered(deadletters: DeadLetterStore) -> None:
    transport = CannedTransport(BulkRequestFailed(413, "request_entity_too_large"))
    sink, _ = sink_with(transport, deadletters)
    report = sink.ship(make_batch("b", 1))
    assert report.rejected == 1
    assert [(d.reason, d.status) for d in deadletters.entries()] == [
        ("request_entity_too_large", 413)
    ]


def test_an_encoded_batch_is_settled_item_by_item_with_its_events_decoded(
    deadletters: DeadLetterStore,
) -> None:
    def answer(doc_id: str, _: dict[str, Any]) -> int:
        return {"b-1": 429, "b-2": 400}.get(doc_id, 201)

    batch = make_batch("b", 4)
    transport = CannedTransport(answer)
    sink, _ = sink_with(transport, deadletters, attempts=2)
    with pytest.raises(Undelivered) as raised:
        sink.ship(encode_batch(batch))
    assert raised.value.events == [batch["events"][1]]
    assert raised.value.delivered == 2
    (letter,) = deadletters.entries()
    assert letter.id == "elasticsearch:b-2"
    assert letter.events == [batch["events"][2]]


def test_a_whole_request_failure_owes_the_decoded_events_of_an_encoded_batch(
    deadletters: DeadLetterStore,
) -> None:
    batch = make_batch("b", 5)
    transport = CannedTransport(ok, BulkRequestFailed(None, "ConnectionError", "refused"))
    sink, _ = sink_with(transport, deadletters, docs=2)
    with pytest.raises(Undelivered) as raised:
        sink.ship(encode_batch(batch))
    assert raised.value.events == batch["events"][2:]
