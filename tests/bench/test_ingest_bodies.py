"""The ingest benchmark's bulk and OTLP bodies are what the intake accepts, record for record."""

from __future__ import annotations

from bench.ingest import bulk_body, otlp_body
from logagg.ingest.elastic_bulk import split_bulk
from logagg.ingest.otlp_logs import decode_request, log_records

LINES = [f"line {n}" for n in range(1000)]


def test_bulk_body_is_one_accepted_document_per_line() -> None:
    parsed = split_bulk(bulk_body(LINES), None, 32 * 1024)
    assert all(item.status == 201 for item in parsed.items)
    assert [doc["message"] for doc in parsed.documents.lines] == LINES  # type: ignore[index]


def test_otlp_body_is_one_record_per_line() -> None:
    records = log_records(decode_request(otlp_body(LINES), "protobuf"))
    assert records.rejected == 0
    assert [doc["message"] for doc in records.documents] == LINES
