"""Delivery receipts: where a batch is, kept in Redis for a while after its last step.

Each stage writes what it did into one hash per batch, ``logagg:receipt:<batch id>``,
in the same transaction as its own hand-over where it has one (ingest with the parse
job, the parser with the shipping jobs), so a receipt never claims more than was stored.
Every write sets absolute values (``HSET``), never increments, so an RQ retry or a
second delivery of the same job rewrites the same numbers, and refreshes the expiry.
A request's batch ids are kept in the list ``logagg:receipt:<request id>:batches``, so
a request id answers for all its batches together.

Fields of a batch's hash (all strings):

- ingest: ``request_id``, ``service``, ``received_at``, ``received`` (lines),
  ``truncated`` (lines cut at the length bound);
- parser: ``events`` (after multiline joining), ``parsed`` and ``unparsed`` (events
  without and with the ``unparsed`` tag), ``sinks`` (comma-separated), ``parsed_at``;
- per sink (``elasticsearch``, ``archive``): ``<sink>.delivered``,
  ``<sink>.dead_lettered``, ``<sink>.reasons`` (JSON ``{reason: count}``), ``<sink>.at``.

:func:`receipt_answer` and :func:`request_answer` turn stored fields into the HTTP
answer; they are pure.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from redis import Redis
from redis.client import Pipeline

from logagg.queues import RawBatch
from logagg.utc import utc_millis

KEY_PREFIX: Final = "logagg:receipt:"

ReceiptSink = Literal["elasticsearch", "archive"]
RECEIPT_SINKS: tuple[ReceiptSink, ...] = ("elasticsearch", "archive")
# The parser's sink names (LOGAGG_SINKS) to the receipt's; the shipper's names map to
# themselves.
SINK_NAMES: Final[Mapping[str, ReceiptSink]] = {
    "elasticsearch": "elasticsearch",
    "s3": "archive",
    "archive": "archive",
}
# The stage a sink's finished job stands for.
SINK_STAGES: Final[Mapping[ReceiptSink, str]] = {
    "elasticsearch": "indexed",
    "archive": "archived",
}
UNPARSED_TAG: Final = "unparsed"

# Status words, from the least to the furthest along.
STATUSES: Final = (
    "queued",
    "parsed",
    "indexed",
    "archived",
    "delivered_with_dead_letters",
    "delivered",
)


def batch_key(batch_id: str) -> str:
    """The hash holding one batch's receipt."""
    return f"{KEY_PREFIX}{batch_id}"


def request_key(request_id: str) -> str:
    """The list of the batch ids of one request."""
    return f"{KEY_PREFIX}{request_id}:batches"


def _write(pipe: Pipeline, key: str, fields: Mapping[str, str | int], ttl: float) -> None:
    pipe.hset(key, mapping={name: str(value) for name, value in fields.items()})
    pipe.expire(key, max(1, int(ttl)))


def record_received(pipe: Pipeline, batches: Sequence[RawBatch], ttl: float) -> None:
    """Queue on ``pipe`` (ingest's enqueue transaction) the receipts of a request's batches."""
    if not batches:
        return
    request_id = batches[0].get("request_id", batches[0]["batch_id"])
    for batch in batches:
        _write(
            pipe,
            batch_key(batch["batch_id"]),
            {
                "request_id": request_id,
                "service": batch["service"],
                "received_at": batch["received_at"],
                "received": len(batch["lines"]),
                "truncated": len(batch["truncated"]),
            },
            ttl,
        )
    key = request_key(request_id)
    pipe.rpush(key, *(batch["batch_id"] for batch in batches))
    pipe.expire(key, max(1, int(ttl)))


def count_unparsed(events: Iterable[Mapping[str, Any]]) -> int:
    """How many of ``events`` carry the ``unparsed`` tag."""
    return sum(1 for event in events if UNPARSED_TAG in (event.get("tags") or ()))


def record_parsed(
    pipe: Pipeline,
    batch_id: str,
    events: Sequence[Mapping[str, Any]],
    sinks: Iterable[str],
    ttl: float,
    *,
    request_id: str | None = None,
) -> None:
    """Queue on ``pipe`` (the parser's shipping transaction) what parsing made of a batch."""
    unparsed = count_unparsed(events)
    names = [SINK_NAMES.get(sink, sink) for sink in sinks]
    _write(
        pipe,
        batch_key(batch_id),
        {
            "events": len(events),
            "parsed": len(events) - unparsed,
            "unparsed": unparsed,
            "sinks": ",".join(names),
            "parsed_at": utc_millis(datetime.now(UTC)),
        },
        ttl,
    )
    if request_id is not None:
        pipe.expire(request_key(request_id), max(1, int(ttl)))


def sink_fields(
    sink: ReceiptSink, delivered: int, dead_letter_reasons: Mapping[str, int]
) -> dict[str, str | int]:
    """The fields a finished shipping job of ``sink`` writes (absolute values)."""
    reasons = {reason: count for reason, count in dead_letter_reasons.items() if count}
    return {
        f"{sink}.delivered": delivered,
        f"{sink}.dead_lettered": sum(reasons.values()),
        f"{sink}.reasons": json.dumps(reasons, sort_keys=True, separators=(",", ":")),
        f"{sink}.at": utc_millis(datetime.now(UTC)),
    }


def record_shipped(
    redis: Redis,
    sink: ReceiptSink,
    batch_id: str,
    delivered: int,
    dead_letter_reasons: Mapping[str, int],
    ttl: float,
) -> None:
    """Record that ``sink``'s job for ``batch_id`` finished: what it delivered and what it
    dead-lettered, by reason. One round trip."""
    with redis.pipeline(transaction=True) as pipe:
        _write(pipe, batch_key(batch_id), sink_fields(sink, delivered, dead_letter_reasons), ttl)
        pipe.execute()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decoded(reply: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in reply.items()}


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    """What Redis holds under a receipt id: one batch, or the batches of a request."""

    receipt_id: str
    is_request: bool
    batches: list[tuple[str, dict[str, str]]]

    @property
    def services(self) -> set[str]:
        return {fields.get("service", "") for _, fields in self.batches}


def read_receipt(redis: Redis, receipt_id: str) -> StoredReceipt | None:
    """The stored fields under ``receipt_id`` (a request id or a batch id), or ``None``."""
    with redis.pipeline(transaction=False) as pipe:
        pipe.lrange(request_key(receipt_id), 0, -1)
        pipe.hgetall(batch_key(receipt_id))
        batch_ids, single = pipe.execute()
    if batch_ids:
        ids = [_text(batch_id) for batch_id in batch_ids]
        with redis.pipeline(transaction=False) as pipe:
            for batch_id in ids:
                pipe.hgetall(batch_key(batch_id))
            replies = pipe.execute()
        found = [
            (batch_id, _decoded(reply))
            for batch_id, reply in zip(ids, replies, strict=True)
            if reply
        ]
        return StoredReceipt(receipt_id, True, found) if found else None
    if single:
        return StoredReceipt(receipt_id, False, [(receipt_id, _decoded(single))])
    return None


def answer(stored: StoredReceipt) -> dict[str, Any]:
    """The HTTP answer for what was stored: a request's aggregate or one batch's receipt."""
    if stored.is_request:
        return request_answer(stored.receipt_id, stored.batches)
    batch_id, fields = stored.batches[0]
    return receipt_answer(batch_id, fields)


def _integer(fields: Mapping[str, str], name: str) -> int:
    try:
        return int(fields.get(name, 0))
    except ValueError:
        return 0


def _reasons(fields: Mapping[str, str], sink: str) -> dict[str, int]:
    try:
        loaded = json.loads(fields.get(f"{sink}.reasons", "{}"))
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(reason): int(count) for reason, count in loaded.items()}


def expected_sinks(fields: Mapping[str, str]) -> list[ReceiptSink]:
    """The sinks the parser sent the batch to (none before it is parsed)."""
    names = [SINK_NAMES.get(name) for name in fields.get("sinks", "").split(",") if name]
    return [name for name in names if name is not None]


def receipt_answer(batch_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """The answer for one batch from its stored fields.

    ``stages`` says which steps happened (a sink's stage is done once its job finished,
    every event delivered or dead-lettered); ``status`` is the furthest step reached:
    ``queued``, ``parsed``, ``indexed`` or ``archived`` (one sink done),
    ``delivered_with_dead_letters`` or ``delivered`` (every expected sink done).
    """
    sinks = expected_sinks(fields)
    parsed = "parsed_at" in fields
    done = {sink: f"{sink}.at" in fields for sink in RECEIPT_SINKS}
    stages = {"queued": True, "parsed": parsed}
    for sink in RECEIPT_SINKS:
        stages[SINK_STAGES[sink]] = done[sink]
    reasons = {sink: _reasons(fields, sink) for sink in RECEIPT_SINKS}
    dead = {sink: _integer(fields, f"{sink}.dead_lettered") for sink in RECEIPT_SINKS}
    if parsed and sinks and all(done[sink] for sink in sinks):
        status = "delivered_with_dead_letters" if sum(dead.values()) else "delivered"
    elif done["elasticsearch"]:
        status = "indexed"
    elif done["archive"]:
        status = "archived"
    elif parsed:
        status = "parsed"
    else:
        status = "queued"
    return {
        "batch_id": batch_id,
        "request_id": fields.get("request_id", batch_id),
        "service": fields.get("service", ""),
        "received_at": fields.get("received_at"),
        "status": status,
        "stages": stages,
        "sinks": sinks,
        "counts": {
            "received": _integer(fields, "received"),
            "truncated": _integer(fields, "truncated"),
            "events": _integer(fields, "events"),
            "parsed": _integer(fields, "parsed"),
            "unparsed": _integer(fields, "unparsed"),
            "indexed": _integer(fields, "elasticsearch.delivered"),
            "archived": _integer(fields, "archive.delivered"),
            "dead_lettered": sum(dead.values()),
        },
        "dead_lettered": dead,
        "dead_letter_reasons": {sink: found for sink, found in reasons.items() if found},
    }


def request_answer(
    request_id: str, batches: Sequence[tuple[str, Mapping[str, str]]]
) -> dict[str, Any]:
    """The answer for a whole request: counts summed over its batches, a stage done
    when it is done for every batch, the status of the batch furthest behind."""
    if not batches:
        raise ValueError("a request's receipt needs at least one batch")
    answers = [receipt_answer(batch_id, fields) for batch_id, fields in batches]
    first = answers[0]
    counts: Counter[str] = Counter()
    dead: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for answer in answers:
        counts.update(answer["counts"])
        dead.update(answer["dead_lettered"])
        for sink, found in answer["dead_letter_reasons"].items():
            reasons.setdefault(sink, Counter()).update(found)
    stages = {
        stage: all(answer["stages"][stage] for answer in answers) for stage in first["stages"]
    }
    status = min((answer["status"] for answer in answers), key=STATUSES.index)
    sinks = sorted({sink for answer in answers for sink in answer["sinks"]})
    return {
        "batch_id": request_id,
        "request_id": request_id,
        "service": first["service"],
        "received_at": first["received_at"],
        "status": status,
        "stages": stages,
        "sinks": sinks,
        "counts": {name: counts[name] for name in first["counts"]},
        "dead_lettered": {sink: dead[sink] for sink in RECEIPT_SINKS},
        "dead_letter_reasons": {sink: dict(found) for sink, found in reasons.items()},
        "batches": [
            {"batch_id": answer["batch_id"], "status": answer["status"]} for answer in answers
        ],
    }
