"""The shipping jobs write their part of a batch's receipt: absolute counts, once done."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from logagg.receipts import StoredReceipt, read_receipt, receipt_answer
from logagg.shipper import jobs
from logagg.shipper.deadletter import DeadLetterStore
from logagg.shipper.elasticsearch.sink import BulkRequestFailed
from logagg.shipper.errors import Undelivered
from logagg.shipper.runtime import ShipperRuntime
from logagg.shipper.settings import ShipperSettings

from .events import make_batch
from .test_es_sink import CannedTransport, ok, sink_with


@pytest.fixture
def runtime(fake_redis: Redis, tmp_path: Path) -> Iterator[ShipperRuntime]:
    settings = ShipperSettings.from_env(
        {"LOGAGG_ARCHIVE_URL": f"file://{tmp_path}", "LOGAGG_RECEIPT_TTL": "1h"}
    )
    runtime = ShipperRuntime(settings, fake_redis)
    jobs.install_runtime(runtime)
    yield runtime
    jobs.install_runtime(None)


def use_transport(runtime: ShipperRuntime, transport: CannedTransport, **bounds: int) -> None:
    sink, _ = sink_with(transport, runtime.deadletters, attempts=2, **bounds)
    runtime._es_sink = sink


def receipt(runtime: ShipperRuntime, batch_id: str) -> dict[str, Any]:
    stored = read_receipt(runtime.redis, batch_id)
    assert isinstance(stored, StoredReceipt)
    ((found_id, fields),) = stored.batches
    return receipt_answer(found_id, fields)


def rejects(doc_id: str) -> Any:
    def answer(_id: str, _source: dict[str, Any]) -> int:
        return 400 if _id == doc_id else 201

    return answer


def test_indexed_and_rejected_items_are_counted_with_their_reasons(
    runtime: ShipperRuntime,
) -> None:
    use_transport(runtime, CannedTransport(rejects("r1-3")))
    jobs.ship_to_elasticsearch(make_batch("r1", 6))
    found = receipt(runtime, "r1")
    assert found["stages"]["indexed"] is True
    assert found["counts"]["indexed"] == 5
    assert found["dead_lettered"]["elasticsearch"] == 1
    assert found["dead_letter_reasons"] == {"elasticsearch": {"error_400": 1}}
    assert 0 < runtime.redis.ttl("logagg:receipt:r1") <= 3600


def test_a_repeated_job_does_not_double_the_counts(runtime: ShipperRuntime) -> None:
    def again(doc_id: str, source: dict[str, Any]) -> int:
        return 400 if doc_id == "r2-3" else 409

    use_transport(runtime, CannedTransport(rejects("r2-3"), again))
    jobs.ship_to_elasticsearch(make_batch("r2", 6))
    first = receipt(runtime, "r2")
    jobs.ship_to_elasticsearch(make_batch("r2", 6))  # everything is already there now
    second = receipt(runtime, "r2")
    assert first["counts"] == second["counts"]
    assert second["counts"]["indexed"] == 5
    assert second["counts"]["dead_lettered"] == 1


def test_an_earlier_try_that_fails_writes_nothing(
    runtime: ShipperRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_transport(runtime, CannedTransport(BulkRequestFailed(None, "connection_error")))
    monkeypatch.setattr(jobs, "_job_attempt", lambda: (1, False))
    with pytest.raises(Undelivered):
        jobs.ship_to_elasticsearch(make_batch("r3", 4))
    assert read_receipt(runtime.redis, "r3") is None


def test_the_last_try_records_what_was_delivered_and_what_was_given_up(
    runtime: ShipperRuntime,
) -> None:
    # the first request delivers 4, the next fails whole: 6 are owed on the last try
    use_transport(runtime, CannedTransport(ok, BulkRequestFailed(None, "connection_error")), docs=4)
    assert jobs.ship_to_elasticsearch(make_batch("r4", 10)) == {"dead_lettered": 6}
    found = receipt(runtime, "r4")
    assert found["counts"]["indexed"] == 4
    assert found["dead_lettered"]["elasticsearch"] == 6
    assert found["dead_letter_reasons"] == {"elasticsearch": {"connection_error": 6}}
    assert len(DeadLetterStore(runtime.redis, max_entries=10)) == 1
