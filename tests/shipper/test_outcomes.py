"""Bulk answers, classified item by item (canned answers, as Elasticsearch 8 gives them)."""

from __future__ import annotations

from typing import Any

import pytest

from logagg.shipper.elasticsearch.bulk import encode_items
from logagg.shipper.elasticsearch.layout import Layout
from logagg.shipper.elasticsearch.outcomes import (
    ItemOutcome,
    MalformedBulkAnswer,
    RequestVerdict,
    classify_bulk_answer,
    describe_error,
    item_outcome,
    request_verdict,
)

from .events import make_batch

CHUNK = encode_items(make_batch("b1", 4)["events"], "b1", Layout.DAILY, "default")


def created(n: int) -> dict[str, Any]:
    return {"create": {"_index": "logs-app.log-default-2025.04.18", "_id": f"b1-{n}",
                       "status": 201, "result": "created", "_version": 1}}  # fmt: skip


def failed(n: int, status: int, kind: str, reason: str) -> dict[str, Any]:
    return {"create": {"_index": "logs-app.log-default-2025.04.18", "_id": f"b1-{n}",
                       "status": status, "error": {"type": kind, "reason": reason}}}  # fmt: skip


CONFLICT = "version_conflict_engine_exception"
REJECTED = "es_rejected_execution_exception"
PARSING = "document_parsing_exception"


def test_all_created_is_all_delivered() -> None:
    answer = {"errors": False, "took": 3, "items": [created(n) for n in range(4)]}
    outcome = classify_bulk_answer(answer, CHUNK)
    assert [r.item.position for r in outcome.delivered] == [0, 1, 2, 3]
    assert outcome.retry == []
    assert outcome.rejected == []


def test_partial_429_retries_only_the_rejected_items() -> None:
    items = [created(0), failed(1, 429, REJECTED, "queue full"), created(2),
             failed(3, 429, REJECTED, "queue full")]  # fmt: skip
    outcome = classify_bulk_answer({"errors": True, "items": items}, CHUNK)
    assert [r.item.position for r in outcome.delivered] == [0, 2]
    assert [r.item.position for r in outcome.retry] == [1, 3]
    assert {r.reason for r in outcome.retry} == {REJECTED}
    assert outcome.rejected == []


def test_partial_400_rejects_with_the_reason() -> None:
    reason = "[1:45] failed to parse field [client.ip] of type [ip]"
    items = [created(0), created(1), failed(2, 400, PARSING, reason), created(3)]
    outcome = classify_bulk_answer({"errors": True, "items": items}, CHUNK)
    assert [r.item.position for r in outcome.delivered] == [0, 1, 3]
    (rejected,) = outcome.rejected
    assert rejected.item.position == 2
    assert rejected.status == 400
    assert rejected.reason == PARSING
    assert reason in rejected.detail


def test_409_on_a_retry_counts_as_delivered() -> None:
    items = [failed(n, 409, CONFLICT, "document already exists") for n in range(2)]
    items += [created(2), created(3)]
    outcome = classify_bulk_answer({"errors": True, "items": items}, CHUNK)
    assert [(r.item.position, r.status) for r in outcome.delivered] == [
        (0, 409), (1, 409), (2, 201), (3, 201)
    ]  # fmt: skip


def test_errors_true_is_never_success_even_when_the_flag_lies() -> None:
    items = [created(0), created(1), created(2), failed(3, 503, "unavailable_shards", "x")]
    outcome = classify_bulk_answer({"errors": False, "items": items}, CHUNK)
    assert [r.item.position for r in outcome.retry] == [3]


def test_an_answer_with_the_wrong_number_of_items_is_malformed() -> None:
    with pytest.raises(MalformedBulkAnswer):
        classify_bulk_answer({"errors": False, "items": [created(0)]}, CHUNK)
    with pytest.raises(MalformedBulkAnswer):
        classify_bulk_answer({"errors": True}, CHUNK)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, ItemOutcome.DELIVERED),
        (201, ItemOutcome.DELIVERED),
        (409, ItemOutcome.DELIVERED),
        (429, ItemOutcome.RETRY),
        (500, ItemOutcome.RETRY),
        (503, ItemOutcome.RETRY),
        (400, ItemOutcome.REJECTED),
        (404, ItemOutcome.REJECTED),
        (413, ItemOutcome.REJECTED),
    ],
)
def test_item_outcome_by_status(status: int, outcome: ItemOutcome) -> None:
    assert item_outcome(status) is outcome


@pytest.mark.parametrize(
    ("status", "items", "verdict"),
    [
        (413, 10, RequestVerdict.SPLIT),
        (413, 1, RequestVerdict.REJECT),
        (429, 10, RequestVerdict.RETRY_JOB),
        (503, 10, RequestVerdict.RETRY_JOB),
        (502, 10, RequestVerdict.RETRY_JOB),
        (None, 10, RequestVerdict.RETRY_JOB),
        (401, 10, RequestVerdict.RETRY_JOB),
        (400, 10, RequestVerdict.REJECT),
    ],
)
def test_whole_request_failures(status: int | None, items: int, verdict: RequestVerdict) -> None:
    assert request_verdict(status, items) is verdict


def test_error_description_follows_the_causes() -> None:
    kind, detail = describe_error(
        {
            "type": "document_parsing_exception",
            "reason": "failed to parse field [http.response.status_code]",
            "caused_by": {"type": "illegal_argument_exception", "reason": "For input string"},
        }
    )
    assert kind == "document_parsing_exception"
    assert "illegal_argument_exception: For input string" in detail
