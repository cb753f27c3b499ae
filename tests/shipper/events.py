"""Events shaped as the parser emits them, for the shipper's tests and benchmark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from logagg.queues import ParsedBatch


def make_event(
    batch_id: str,
    position: int,
    *,
    service: str = "billing",
    dataset: str = "app.log",
    at: str = "2025-04-18T10:12:01.123Z",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@timestamp": at,
        "message": f"payment {position} failed - card declined - retry later",
        "log": {
            "level": "error",
            "logger": "billing.payments",
            "origin": {"function": "charge", "file": {"name": "payments.py"}},
        },
        "event": {
            "id": f"{batch_id}-{position}",
            "original": f"2025-04-18 10:12:01 ERROR payment {position} failed",
            "ingested": "2025-04-18T10:12:02.000Z",
            "dataset": dataset,
        },
        "service": {"name": service},
        "source": {"ip": "10.1.2.3"},
        "host": {"ip": "10.1.2.3", "hostname": "web-1"},
        "client": {"ip": "203.0.113.7"},
        "process": {"pid": 4242, "thread": {"name": "worker-1"}},
        "http": {
            "request": {"method": "POST"},
            "response": {"status_code": 502, "body": {"bytes": 1234}},
        },
        "url": {"original": "/api/pay?id=7"},
        "user_agent": {"original": "curl/8.5.0"},
        "tags": ["payments"],
        "labels": {"tenant": "acme", "odd": {"nested": {"deep": position}}},
    }
    for dotted, value in extra.items():
        target = event
        *parents, leaf = dotted.split("__")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return event


def make_batch(
    batch_id: str,
    count: int,
    *,
    service: str = "billing",
    dataset: str = "app.log",
    start: str = "2025-04-18T10:12:01.123Z",
    step_seconds: float = 0.0,
) -> ParsedBatch:
    first = datetime.fromisoformat(start)
    events = []
    for n in range(count):
        moment = (first + timedelta(seconds=n * step_seconds)).astimezone(UTC)
        at = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        events.append(make_event(batch_id, n, service=service, dataset=dataset, at=at))
    return ParsedBatch(batch_id=batch_id, service=service, events=events)
