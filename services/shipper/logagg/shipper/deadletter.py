"""The dead-letter store: what could not be delivered, kept in Redis with why.

Each entry holds the sink, a short reason (for counting), the full detail, the time, the
attempt count and the event(s). Entry ids are deterministic (``<sink>:<event id>`` for a
rejected item, ``<sink>:batch:<batch id>`` for a whole batch), so a batch that is retried
and rejected again overwrites its entry instead of adding a second one.

The store is bounded: past ``max_entries`` the oldest entries are dropped and counted.

Keys (named in :mod:`logagg.deadletter_keys`): ``logagg:dlq:entries`` (hash id -> JSON),
``logagg:dlq:order`` (sorted set id -> time in ms), ``logagg:dlq:dropped`` (counter).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from redis import Redis

from logagg.deadletter_keys import DROPPED_KEY, ENTRIES_KEY, ORDER_KEY
from logagg.queues import SHIP_ES_JOB, SHIP_S3_JOB, JobSpec, ParsedBatch, enqueue
from logagg.utc import utc_millis

Sink = Literal["elasticsearch", "archive"]
SINKS: tuple[Sink, ...] = ("elasticsearch", "archive")
SINK_JOBS: dict[str, JobSpec] = {"elasticsearch": SHIP_ES_JOB, "archive": SHIP_S3_JOB}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Something a sink gave up on, and why."""

    id: str
    sink: Sink
    reason: str  # short and stable, for counting: e.g. document_parsing_exception
    detail: str  # the full text of the error
    time: str  # RFC 3339 UTC
    attempts: int
    batch_id: str
    service: str
    events: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None  # the HTTP status of an Elasticsearch item, when there is one

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> DeadLetter:
        data = json.loads(text)
        return cls(**data)


def item_letter_id(sink: Sink, event_id: str) -> str:
    """The id of the entry for one rejected item."""
    return f"{sink}:{event_id}"


def batch_letter_id(sink: Sink, batch_id: str) -> str:
    """The id of the entry for a whole batch given up after its retries."""
    return f"{sink}:batch:{batch_id}"


def now_rfc3339(clock: Callable[[], float] = time.time) -> str:
    return utc_millis(datetime.fromtimestamp(clock(), UTC))


def replay_batches(letters: Iterable[DeadLetter]) -> list[tuple[Sink, ParsedBatch]]:
    """Group dead letters into one batch per sink and original batch, for re-enqueueing.

    The original batch id is kept: Elasticsearch documents keep their ``_id`` and archive
    objects their key, so a replay can never create a second copy.
    """
    grouped: dict[tuple[Sink, str], ParsedBatch] = {}
    for letter in letters:
        key = (letter.sink, letter.batch_id)
        batch = grouped.get(key)
        if batch is None:
            batch = grouped[key] = ParsedBatch(
                batch_id=letter.batch_id, service=letter.service, events=[]
            )
        batch["events"].extend(letter.events)
    return [(sink, batch) for (sink, _), batch in grouped.items()]


@dataclass(frozen=True, slots=True)
class Filter:
    """Which entries an operation applies to; every given condition must hold."""

    sink: Sink | None = None
    reason: str | None = None
    ids: Sequence[str] = ()

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (self.sink is None or letter.sink == self.sink)
            and (self.reason is None or letter.reason == self.reason)
            and (not self.ids or letter.id in self.ids)
        )


class DeadLetterStore:
    """The dead-letter store in Redis."""

    def __init__(
        self, redis: Redis, *, max_entries: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.max_entries = max_entries
        self.clock = clock
        self._last_score = 0

    def add(self, letters: Sequence[DeadLetter]) -> int:
        """Store ``letters``; return how many old entries were dropped to stay bounded."""
        if not letters:
            return 0
        # Microseconds, and strictly after this store's previous add: Redis orders equal
        # scores by id, which would drop a newer letter before an older one.
        score = max(int(self.clock() * 1_000_000), self._last_score + 1)
        self._last_score = score
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(ENTRIES_KEY, mapping={letter.id: letter.to_json() for letter in letters})
        pipe.zadd(ORDER_KEY, {letter.id: score for letter in letters})
        pipe.zcard(ORDER_KEY)
        size = int(pipe.execute()[-1])
        excess = size - self.max_entries
        if excess <= 0:
            return 0
        popped: list[tuple[bytes, float]] = self.redis.zpopmin(ORDER_KEY, excess)  # type: ignore[assignment]
        ids = [member for member, _ in popped]
        if not ids:
            return 0
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(ENTRIES_KEY, *ids)
        pipe.incrby(DROPPED_KEY, len(ids))
        pipe.execute()
        return len(ids)

    def __len__(self) -> int:
        return int(self.redis.zcard(ORDER_KEY))

    def dropped(self) -> int:
        """How many entries were dropped, oldest first, to respect the cap."""
        value = self.redis.get(DROPPED_KEY)
        return int(value) if value else 0

    def entries(
        self, where: Filter = Filter(), *, limit: int | None = None
    ) -> Iterator[DeadLetter]:
        """The entries matching ``where``, oldest first."""
        found = 0
        start = 0
        page = 500
        while limit is None or found < limit:
            ids: list[bytes] = self.redis.zrange(ORDER_KEY, start, start + page - 1)  # type: ignore[assignment]
            if not ids:
                return
            start += page
            for raw in self.redis.hmget(ENTRIES_KEY, ids):
                if raw is None:
                    continue  # dropped or purged meanwhile
                letter = DeadLetter.from_json(raw)
                if where.matches(letter):
                    yield letter
                    found += 1
                    if limit is not None and found >= limit:
                        return

    def count_by_reason(self, where: Filter = Filter()) -> Counter[tuple[str, str]]:
        """How many entries per ``(sink, reason)``."""
        return Counter((letter.sink, letter.reason) for letter in self.entries(where))

    def remove(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(ENTRIES_KEY, *ids)
        pipe.zrem(ORDER_KEY, *ids)
        removed, _ = pipe.execute()
        return int(removed)

    def purge(self, where: Filter = Filter()) -> int:
        """Delete the entries matching ``where``; return how many."""
        ids = [letter.id for letter in self.entries(where)]
        removed = 0
        for start in range(0, len(ids), 500):
            removed += self.remove(ids[start : start + 500])
        return removed

    def replay(self, where: Filter = Filter()) -> int:
        """Re-enqueue the matching entries to their sink's queue and remove them.

        Returns the number of events re-enqueued. An entry leaves the store only once
        its batch is in the queue; if it fails again, it comes back with its new reason.
        """
        letters = list(self.entries(where))
        by_batch: dict[tuple[str, str], list[str]] = {}
        for letter in letters:
            by_batch.setdefault((letter.sink, letter.batch_id), []).append(letter.id)
        replayed = 0
        for sink, batch in replay_batches(letters):
            enqueue(SINK_JOBS[sink], batch, self.redis)
            self.remove(by_batch[(sink, batch["batch_id"])])
            replayed += len(batch["events"])
        return replayed
