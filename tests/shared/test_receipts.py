"""Delivery receipts: the stored fields turned into answers, and the writers' fields."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest

from logagg.errors import SettingsError
from logagg.queues import RawBatch
from logagg.receipts import (
    answer,
    batch_key,
    read_receipt,
    receipt_answer,
    record_parsed,
    record_received,
    record_shipped,
    request_answer,
    request_key,
    sink_fields,
)
from logagg.settings import RedisSettings

QUEUED = {
    "request_id": "req",
    "service": "billing",
    "received_at": "2025-04-18T10:15:00.000Z",
    "received": "5",
    "truncated": "1",
}
PARSED = {
    **QUEUED,
    "events": "4",
    "parsed": "3",
    "unparsed": "1",
    "sinks": "elasticsearch,archive",
    "parsed_at": "2025-04-18T10:15:01.000Z",
}
INDEXED = {
    "elasticsearch.delivered": "4",
    "elasticsearch.dead_lettered": "0",
    "elasticsearch.reasons": "{}",
    "elasticsearch.at": "2025-04-18T10:15:02.000Z",
}
ARCHIVED = {
    "archive.delivered": "4",
    "archive.dead_lettered": "0",
    "archive.reasons": "{}",
    "archive.at": "2025-04-18T10:15:02.000Z",
}


def stages(found: dict[str, Any]) -> tuple[bool, bool, bool, bool]:
    s = found["stages"]
    return s["queued"], s["parsed"], s["indexed"], s["archived"]


def test_a_queued_batch() -> None:
    found = receipt_answer("req-0", QUEUED)
    assert found["status"] == "queued"
    assert stages(found) == (True, False, False, False)
    assert found["counts"] == {
        "received": 5,
        "truncated": 1,
        "events": 0,
        "parsed": 0,
        "unparsed": 0,
        "indexed": 0,
        "archived": 0,
        "dead_lettered": 0,
    }
    assert (found["batch_id"], found["request_id"], found["service"]) == (
        "req-0",
        "req",
        "billing",
    )
    assert found["sinks"] == []
    assert found["dead_letter_reasons"] == {}


def test_a_parsed_batch() -> None:
    found = receipt_answer("req-0", PARSED)
    assert found["status"] == "parsed"
    assert stages(found) == (True, True, False, False)
    assert found["sinks"] == ["elasticsearch", "archive"]
    counts = found["counts"]
    assert (counts["events"], counts["parsed"], counts["unparsed"]) == (4, 3, 1)


def test_indexed_only() -> None:
    found = receipt_answer("req-0", {**PARSED, **INDEXED})
    assert found["status"] == "indexed"
    assert stages(found) == (True, True, True, False)
    assert (found["counts"]["indexed"], found["counts"]["archived"]) == (4, 0)


def test_archived_only() -> None:
    found = receipt_answer("req-0", {**PARSED, **ARCHIVED})
    assert found["status"] == "archived"
    assert stages(found) == (True, True, False, True)


def test_indexed_and_archived_is_delivered() -> None:
    found = receipt_answer("req-0", {**PARSED, **INDEXED, **ARCHIVED})
    assert found["status"] == "delivered"
    assert stages(found) == (True, True, True, True)
    assert (found["counts"]["indexed"], found["counts"]["archived"]) == (4, 4)


def test_one_sink_configured_is_delivered_when_that_sink_is_done() -> None:
    found = receipt_answer("req-0", {**PARSED, "sinks": "elasticsearch", **INDEXED})
    assert found["status"] == "delivered"
    assert found["sinks"] == ["elasticsearch"]


def test_dead_letters_with_their_reasons() -> None:
    fields = {
        **PARSED,
        **{
            k: str(v)
            for k, v in sink_fields("elasticsearch", 2, {"document_parsing_exception": 2}).items()
        },
        **{k: str(v) for k, v in sink_fields("archive", 0, {"s3:SlowDown": 4}).items()},
    }
    found = receipt_answer("req-0", fields)
    assert found["status"] == "delivered_with_dead_letters"
    assert found["counts"]["indexed"] == 2
    assert found["counts"]["archived"] == 0
    assert found["counts"]["dead_lettered"] == 6
    assert found["dead_lettered"] == {"elasticsearch": 2, "archive": 4}
    assert found["dead_letter_reasons"] == {
        "elasticsearch": {"document_parsing_exception": 2},
        "archive": {"s3:SlowDown": 4},
    }


def test_a_request_aggregates_its_batches() -> None:
    dead = {
        k: str(v)
        for k, v in sink_fields("elasticsearch", 3, {"document_parsing_exception": 1}).items()
    }
    found = request_answer(
        "req",
        [
            ("req-0", {**PARSED, **INDEXED, **ARCHIVED}),
            ("req-1", {**PARSED, **dead, **ARCHIVED}),
            ("req-2", QUEUED),
        ],
    )
    assert found["batch_id"] == "req"
    assert found["status"] == "queued"  # the batch furthest behind
    assert stages(found) == (True, False, False, False)
    assert found["counts"] == {
        "received": 15,
        "truncated": 3,
        "events": 8,
        "parsed": 6,
        "unparsed": 2,
        "indexed": 7,
        "archived": 8,
        "dead_lettered": 1,
    }
    assert found["dead_letter_reasons"] == {"elasticsearch": {"document_parsing_exception": 1}}
    assert found["batches"] == [
        {"batch_id": "req-0", "status": "delivered"},
        {"batch_id": "req-1", "status": "delivered_with_dead_letters"},
        {"batch_id": "req-2", "status": "queued"},
    ]


def test_a_request_whose_batches_are_all_delivered() -> None:
    found = request_answer(
        "req",
        [
            ("req-0", {**PARSED, **INDEXED, **ARCHIVED}),
            ("req-1", {**PARSED, **INDEXED, **ARCHIVED}),
        ],
    )
    assert found["status"] == "delivered"
    assert stages(found) == (True, True, True, True)
    assert found["counts"]["indexed"] == 8


def test_a_request_needs_a_batch() -> None:
    with pytest.raises(ValueError, match="at least one batch"):
        request_answer("req", [])


def raw(batch_id: str, lines: int, truncated: list[int]) -> RawBatch:
    return {
        "batch_id": batch_id,
        "service": "billing",
        "source_ip": "198.51.100.7",
        "received_at": "2025-04-18T10:15:00.000Z",
        "content_kind": "text",
        "lines": ["x"] * lines,
        "truncated": truncated,
        "invalid_utf8": [],
        "request_id": "req",
    }


def test_the_writers_store_absolute_values_with_an_expiry() -> None:
    redis = fakeredis.FakeRedis()
    with redis.pipeline(transaction=True) as pipe:
        record_received(pipe, [raw("req-0", 3, [1]), raw("req-1", 2, [])], 3600)
        pipe.execute()
    events = [{"message": "a"}, {"message": "b", "tags": ["unparsed"]}]
    for _ in range(2):  # a retried job writes the same numbers again
        with redis.pipeline(transaction=True) as pipe:
            record_parsed(pipe, "req-0", events, ("elasticsearch", "s3"), 3600, request_id="req")
            pipe.execute()
        record_shipped(redis, "elasticsearch", "req-0", 1, {"document_parsing_exception": 1}, 3600)
        record_shipped(redis, "archive", "req-0", 2, {}, 3600)
    assert 0 < redis.ttl(batch_key("req-0")) <= 3600
    assert 0 < redis.ttl(request_key("req")) <= 3600

    single = read_receipt(redis, "req-0")
    assert single is not None
    assert not single.is_request
    found = answer(single)
    assert found["status"] == "delivered_with_dead_letters"
    assert found["sinks"] == ["elasticsearch", "archive"]
    assert found["counts"] == {
        "received": 3,
        "truncated": 1,
        "events": 2,
        "parsed": 1,
        "unparsed": 1,
        "indexed": 1,
        "archived": 2,
        "dead_lettered": 1,
    }

    whole = read_receipt(redis, "req")
    assert whole is not None
    assert whole.is_request
    assert whole.services == {"billing"}
    found = answer(whole)
    assert [b["batch_id"] for b in found["batches"]] == ["req-0", "req-1"]
    assert found["counts"]["received"] == 5
    assert found["status"] == "queued"


def test_nothing_stored_reads_as_none() -> None:
    assert read_receipt(fakeredis.FakeRedis(), "nope") is None


def test_the_receipt_ttl_setting() -> None:
    assert RedisSettings.from_env({}).receipt_ttl == 7 * 86400
    assert RedisSettings.from_env({"LOGAGG_RECEIPT_TTL": "36h"}).receipt_ttl == 36 * 3600
    with pytest.raises(SettingsError, match="LOGAGG_RECEIPT_TTL"):
        RedisSettings.from_env({"LOGAGG_RECEIPT_TTL": "soon"})
