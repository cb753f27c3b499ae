"""The contracts between the services: queue names, job paths and payloads.

Producers enqueue jobs by dotted path, so ingest never imports the parser and the parser
never imports the shipper; they meet only here. Payloads are JSON (the same JSON RQ's
``JSONSerializer`` writes, encoded by orjson), so a job is readable with ``redis-cli`` and
by any future worker.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict, TypeGuard, cast

import orjson
from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from logagg.eventjson import dumps, loads


class JobSerializer:
    """RQ serializer writing plain JSON with orjson.

    Wire-compatible with ``rq.serializers.JSONSerializer`` (either reads what the other
    wrote) at a fraction of its cost: encoding a 1,000-event batch with the standard
    library took as long as parsing it.
    """

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)

    @staticmethod
    def loads(data: bytes) -> Any:
        return orjson.loads(data)


PARSE = "parse"
SHIP_ES = "ship-es"
SHIP_S3 = "ship-s3"
ALL_QUEUES = (PARSE, SHIP_ES, SHIP_S3)

# The Redis list RQ keeps a queue's waiting job ids in (what KEDA and backlog checks read).
RQ_QUEUE_KEY_PREFIX = Queue.redis_queue_namespace_prefix


def queue_key(name: str) -> str:
    """The Redis key of the list holding ``name``'s waiting jobs, e.g. ``rq:queue:parse``."""
    return f"{RQ_QUEUE_KEY_PREFIX}{name}"


def scheduled_key(name: str) -> str:
    """The Redis sorted set of ``name``'s jobs waiting for a retry, e.g. ``rq:scheduled:parse``."""
    return ScheduledJobRegistry.key_template.format(name)


ContentKind = Literal["text", "ndjson", "json"]


class RawBatch(TypedDict):
    """ingest → parser: the lines of one accepted batch and who sent them.

    ``lines`` holds strings (raw text lines) or objects (structured JSON input).
    Line numbers are positions in ``lines``; with ``batch_id`` they make each event's
    deterministic id.
    """

    batch_id: str
    service: str
    source_ip: str
    received_at: str  # RFC 3339, UTC, millisecond precision
    content_kind: ContentKind
    lines: list[str | dict[str, Any]]
    truncated: list[int]  # positions of lines cut at the line-length bound
    invalid_utf8: list[int]  # positions of lines decoded with replacement characters
    request_id: NotRequired[str]


class ParsedBatch(TypedDict):
    """parser → shippers: the events of one batch, each with ``event.id`` set."""

    batch_id: str
    service: str
    events: list[dict[str, Any]]


class EncodedBatch(TypedDict):
    """parser → Elasticsearch shipper: a :class:`ParsedBatch` whose events are JSON already.

    The shipper sends each event's JSON on as it is, after an action line made from the
    event's route, instead of decoding a batch of objects only to encode every event
    again. ``encoded_events`` holds one line per event, each ending in ``"\n"`` (JSON
    text never holds a raw newline); ``routes[i]`` is ``[event.id, event.dataset,
    @timestamp, event.ingested]`` of event ``i``, ``null`` where the event has no such
    string (routes of three items, written before the receive time was added, are read
    too). Both shippers get this form; they take either: replays enqueue
    :class:`ParsedBatch`.
    """

    batch_id: str
    service: str
    encoded_events: str
    routes: list[list[str | None]]


ShipBatch = ParsedBatch | EncodedBatch


def _route(event: dict[str, Any]) -> list[str | None]:
    meta = event.get("event")
    if not isinstance(meta, dict):
        meta = {}
    ident, dataset, stamp = meta.get("id"), meta.get("dataset"), event.get("@timestamp")
    received = meta.get("ingested")
    return [
        ident if isinstance(ident, str) else None,
        dataset if isinstance(dataset, str) else None,
        stamp if isinstance(stamp, str) else None,
        received if isinstance(received, str) else None,
    ]


def encode_batch(batch: ParsedBatch) -> EncodedBatch:
    """``batch`` with every event encoded once, for both shippers."""
    events = batch["events"]
    return EncodedBatch(
        batch_id=batch["batch_id"],
        service=batch["service"],
        encoded_events=b"".join(dumps(event) + b"\n" for event in events).decode(),
        routes=[_route(event) for event in events],
    )


def encoded_sources(batch: EncodedBatch) -> list[bytes]:
    """The JSON of each event of ``batch``, in order, without its newline.

    Raises ``ValueError`` when the lines and the routes do not pair up.
    """
    sources = batch["encoded_events"].encode().split(b"\n")
    if sources.pop() != b"" or len(sources) != len(batch["routes"]):
        raise ValueError(
            f"batch {batch['batch_id']}: {len(sources)} encoded events "
            f"for {len(batch['routes'])} routes"
        )
    return sources


def is_encoded(batch: ShipBatch) -> TypeGuard[EncodedBatch]:
    return "encoded_events" in batch


def decoded_batch(batch: ShipBatch) -> ParsedBatch:
    """``batch`` as a :class:`ParsedBatch` (decoding the events of an encoded one)."""
    if is_encoded(batch):
        return ParsedBatch(
            batch_id=batch["batch_id"],
            service=batch["service"],
            events=[loads(source) for source in encoded_sources(batch)],
        )
    return cast(ParsedBatch, batch)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """Where a kind of job goes and how it is retried."""

    queue: str
    func: str  # dotted path, resolved by the worker only
    timeout: int  # seconds; short, so an abandoned job is re-run quickly
    retry_intervals: Sequence[int]
    # A finished pipeline job is deleted at once: nothing reads it afterwards, and
    # keeping it would make RQ re-compress and re-save the whole batch.
    result_ttl: int = 0

    def job_id(self, batch_id: str) -> str:
        return f"{self.queue}-{batch_id}"


# The first retry is at once: a job abandoned by a killed worker, or one that met a blip,
# has no reason to wait, and an immediate retry goes straight back to the queue instead
# of through RQ's scheduler, whose lock may have died with the worker for a minute.
PARSE_JOB = JobSpec(PARSE, "logagg.parser.jobs.parse_batch", 60, (0, 5, 15, 30, 60))
SHIP_ES_JOB = JobSpec(
    SHIP_ES, "logagg.shipper.jobs.ship_to_elasticsearch", 120, (0, 5, 15, 30, 60, 120, 300)
)
SHIP_S3_JOB = JobSpec(
    SHIP_S3, "logagg.shipper.jobs.ship_to_archive", 120, (0, 5, 15, 30, 60, 120, 300)
)


class BatchJob(Job):
    """An RQ job whose stored payload is compressed at zlib's fastest level.

    RQ compresses a job's payload every time it saves the job, at zlib's default level.
    A parsed batch of 1,000 events is about 640 kB of JSON: level 6 takes 15-16 ms to
    compress it, level 1 under 7 ms for a result 40% larger (38 kB instead of 27 kB),
    and the parser stores two such payloads per batch. Any RQ reader decompresses both.
    """

    def to_dict(self, include_meta: bool = True, include_result: bool = True) -> dict[str, Any]:
        data = self.data
        # RQ's own to_dict compresses self.data at the default level: give it nothing to
        # compress, then put the payload in, compressed fast.
        self._data = b""
        try:
            stored: dict[str, Any] = super().to_dict(include_meta, include_result)
        finally:
            self._data = data
        stored["data"] = zlib.compress(data, 1)
        return stored


# How long one worker's look for lapsed leases and stuck jobs keeps the others out.
MAINTENANCE_LOCK_SECONDS = 30


class BatchQueue(Queue):
    """An RQ queue whose maintenance lock outlives a killed worker by seconds, not minutes.

    RQ takes the lock for 899 s and releases it when the maintenance is done. A worker
    killed, or a Redis killed, in the middle of it leaves the lock behind, and no worker
    returns abandoned jobs to the queue until it expires: a quarter of an hour.
    """

    def acquire_maintenance_lock(self) -> bool:
        return bool(
            self.connection.set(self.registry_cleaning_key, 1, nx=True, ex=MAINTENANCE_LOCK_SECONDS)
        )


def job_queue(name: str, connection: Redis) -> BatchQueue:
    """The RQ queue ``name`` with the project's JSON serializer and job class."""
    return BatchQueue(name, connection=connection, serializer=JobSerializer, job_class=BatchJob)


def enqueue(
    spec: JobSpec, payload: RawBatch | ShipBatch, connection: Redis, *, pipeline: Any = None
) -> Job:
    """Enqueue ``payload`` as a ``spec`` job whose id is derived from the batch id.

    The deterministic job id makes a repeated enqueue of the same batch replace, not
    duplicate, the job. The description names the batch: RQ's default would ``repr`` the
    whole payload (thousands of lines) on every enqueue only to cut it to 75 characters.
    """
    queue = job_queue(spec.queue, connection)
    return queue.enqueue(
        spec.func,
        payload,
        job_id=spec.job_id(payload["batch_id"]),
        description=f"{spec.func}(batch_id={payload['batch_id']!r})",
        job_timeout=spec.timeout,
        retry=Retry(max=len(spec.retry_intervals), interval=list(spec.retry_intervals)),
        result_ttl=spec.result_ttl,
        failure_ttl=7 * 24 * 3600,
        pipeline=pipeline,
    )
