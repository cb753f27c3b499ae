"""Dotted ECS names in structured records (as OTLP and Elasticsearch shippers send them)."""

from __future__ import annotations

from typing import Any

from logagg.parser import parse_batch


def event_of(record: dict[str, Any]) -> dict[str, Any]:
    batch = {
        "batch_id": "b",
        "service": "svc",
        "source_ip": "10.0.0.1",
        "received_at": "2026-12-04T20:00:00.000Z",
        "content_kind": "json",
        "lines": [record],
        "truncated": [],
        "invalid_utf8": [],
    }
    (event,) = parse_batch(batch)["events"]
    return event


def test_dotted_ecs_names_become_their_fields() -> None:
    event = event_of(
        {
            "message": "m",
            "trace.id": "5b8efff798038103d269b633813fc60c",
            "span.id": "eee19b7ec3c1b174",
            "error.type": "ValueError",
            "error.stack_trace": "Traceback ...",
            "log.origin.function": "pay",
            "log.origin.file.line": 42,
            "host.hostname": "web-1",
        }
    )
    assert event["trace"] == {"id": "5b8efff798038103d269b633813fc60c"}
    assert event["span"] == {"id": "eee19b7ec3c1b174"}
    assert event["error"] == {"type": "ValueError", "stack_trace": "Traceback ..."}
    assert event["log"]["origin"] == {"function": "pay", "file": {"line": 42}}
    assert event["host"] == {"hostname": "web-1", "ip": "10.0.0.1"}
    assert "labels" not in event


def test_identity_cannot_be_set_and_odd_values_stay_labels() -> None:
    event = event_of(
        {
            "message": "m",
            "host.ip": "6.6.6.6",
            "service.name": "someone-else",
            "trace.id": {"nested": True},
            "log.origin.file.line": "12",
        }
    )
    assert event["host"] == {"ip": "10.0.0.1"}
    assert event["service"] == {"name": "svc"}
    assert "trace" not in event
    assert event["labels"] == {
        "host.ip": "6.6.6.6",
        "service.name": "someone-else",
        "trace.id": {"nested": True},
        "log.origin.file.line": "12",
    }
