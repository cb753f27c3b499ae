"""Batch receipts: ``GET /log/batches/<batch_id>`` follows a batch to both sinks.

The receipt answers ``status``, ``stages`` (``queued``, ``parsed``, ``indexed``,
``archived``) and ``counts``. Each Loghub request's batches, and the request as a whole,
must end indexed and archived with the number of events the parser library makes of
the lines, none dead-lettered.
"""

from __future__ import annotations

from typing import Any

import pytest

from .api import bearer, call, login
from .conftest import PostedSample
from .stack import WRITER_PASSWORD, Pipeline

pytestmark = pytest.mark.integration

STAGES = ("queued", "parsed", "indexed", "archived")


def receipt(pipeline: Pipeline, token: str, batch_id: str) -> dict[str, Any]:
    status, answer = call(f"{pipeline.base_url}/log/batches/{batch_id}", headers=bearer(token))
    assert status == 200, (batch_id, status, answer)
    assert isinstance(answer, dict)
    return answer


def final_receipt(pipeline: Pipeline, token: str, batch_id: str) -> dict[str, Any]:
    """The receipt once it shows the batch indexed and archived."""
    last: dict[str, Any] = {}

    def delivered() -> bool:
        last.clear()
        last.update(receipt(pipeline, token, batch_id))
        stages = last.get("stages") or {}
        return bool(stages.get("indexed")) and bool(stages.get("archived"))

    pipeline.wait_for(delivered, f"the receipt of {batch_id} indexed and archived")
    return last


def test_each_receipt_ends_indexed_and_archived_with_its_counts(
    pipeline: Pipeline, loghub_posted: dict[str, PostedSample]
) -> None:
    for system, sample in loghub_posted.items():
        token = login(pipeline.base_url, system, WRITER_PASSWORD)
        events = len(sample.expected)
        unparsed = sum("unparsed" in event.get("tags", ()) for event in sample.expected)
        # each batch of the request, then the request as a whole
        for batch_id in [*sample.answer["batches"], sample.answer["batch_id"]]:
            last = final_receipt(pipeline, token, batch_id)
            where = (system, batch_id, last)
            assert {stage: last["stages"][stage] for stage in STAGES} == dict.fromkeys(
                STAGES, True
            ), where
            assert last["status"] == "delivered", where
            assert last["service"] == system, where
            assert set(last["sinks"]) == {"elasticsearch", "archive"}, where
            counts = last["counts"]
            assert counts["received"] == len(sample.lines), where
            assert counts["truncated"] == 0, where
            assert counts["events"] == events, where
            assert counts["unparsed"] == unparsed, where
            assert counts["parsed"] == events - unparsed, where
            assert counts["indexed"] == events, where
            assert counts["archived"] == events, where
            assert counts["dead_lettered"] == 0, where
        request = final_receipt(pipeline, token, sample.answer["batch_id"])
        assert request["batches"] == [
            {"batch_id": batch_id, "status": "delivered"} for batch_id in sample.answer["batches"]
        ], (system, request)


def test_a_receipt_is_the_senders_alone(
    pipeline: Pipeline, loghub_posted: dict[str, PostedSample]
) -> None:
    owner, other = sorted(loghub_posted)[:2]
    token = login(pipeline.base_url, other, WRITER_PASSWORD)
    batch_id = loghub_posted[owner].answer["batch_id"]
    status, answer = call(f"{pipeline.base_url}/log/batches/{batch_id}", headers=bearer(token))
    assert status == 404, answer
    status, answer = call(f"{pipeline.base_url}/log/batches/{batch_id}")
    assert status == 401, answer
