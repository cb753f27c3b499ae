"""Compaction: batches are staged in Redis as chunks, and a partition's chunks become one
object once they reach a size or the oldest has waited long enough.

Every step that changes the staging area is one Lua script (Redis 6.2 has no functions),
so it happens whole or not at all:

- *stage* stores a batch's chunks and appends them to their partitions' lists, unless the
  batch is marked staged already (a repeated job);
- *take* renames a due partition's list to a flush of its own, so chunks staged
  afterwards start a new list, and leases the flush to the taker;
- the object is written (the same chunks make the same key and bytes, see
  :func:`~logagg.shipper.archive.keys.object_name`);
- *finish* drops the flush's chunks and, for each batch whose last chunk this was,
  records in its receipt that the batch is archived.

A worker killed between two steps leaves a flush whose lease lapses; any worker's next
:meth:`Compactor.step` claims it and writes the same object again, then finishes it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from redis import Redis
from redis.exceptions import RedisError

from logagg.archive_staging import (
    PARTITIONS_KEY,
    PREFIX,
    SIZES_KEY,
    chunk_key,
    flush_key,
)
from logagg.errors import TransientError
from logagg.queues import ShipBatch
from logagg.receipts import KEY_PREFIX as RECEIPT_PREFIX
from logagg.shipper.archive.keys import normalise_prefix, object_name
from logagg.shipper.archive.objects import ArchiveObject, ObjectStore, concatenate, plan_chunks
from logagg.shipper.metrics import ShipperMetrics
from logagg.shipper.routing import DEFAULT_BOUNDS, TimeBounds
from logagg.shipper.settings import CompactionSettings
from logagg.utc import utc_millis

log = logging.getLogger(__name__)

# Redis with ``appendfsync everysec`` may lose the last 2 s of writes when killed. An
# object is written only once its first chunk was staged longer ago than that, so a
# Redis restarted from its log still holds that chunk first in its list and the object
# written again from it gets the same key (see object_name).
DURABILITY_MARGIN_SECONDS: Final = 3.0
# How long a flush is leased to the worker writing it before another may take it over
# (a worker killed mid-flush holds its partition's object back this long).
FLUSH_LEASE_SECONDS: Final = 30.0
# How long a repeated job of a staged batch is recognised (longer than RQ's retries of a
# job and of the parser job before it, which together span well under an hour).
STAGED_MARK_SECONDS: Final = 6 * 3600
ARCHIVED_FIELD: Final = "=archived"

_STAGE = """
local p, batch = ARGV[1], ARGV[2]
if not redis.call('SET', p .. 'staged:' .. batch, '1', 'NX', 'EX', ARGV[3]) then
  return -1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
  local b = 5 + i * 5
  local cid, part, body, events, raw = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  redis.call('HSET', p .. 'chunk:' .. cid, 'body', body, 'batch', batch, 'events', events,
    'raw', raw, 'partition', part)
  redis.call('RPUSH', p .. 'staging:' .. part, cid)
  redis.call('ZADD', p .. 'partitions', 'NX', now, part)
  redis.call('HINCRBY', p .. 'sizes', part, raw)
  redis.call('ZADD', p .. 'chunks', now, cid)
  redis.call('HINCRBY', p .. 'stats', 'bytes', string.len(body))
  redis.call('HINCRBY', p .. 'stats', 'raw', raw)
  redis.call('HSET', p .. 'batch:' .. batch, cid, events)
end
return n
"""

# ARGV: prefix, partition, flush age, durability margin, object bytes, lease seconds
_TAKE = """
local p, part = ARGV[1], ARGV[2]
local list = p .. 'staging:' .. part
local first = redis.call('LINDEX', list, 0)
if not first then
  redis.call('ZREM', p .. 'partitions', part)
  redis.call('HDEL', p .. 'sizes', part)
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local staged = tonumber(redis.call('ZSCORE', p .. 'chunks', first) or now)
local waited = now - staged
if waited < tonumber(ARGV[4]) then return false end
local size = tonumber(redis.call('HGET', p .. 'sizes', part) or 0)
if waited < tonumber(ARGV[3]) and size < tonumber(ARGV[5]) then return false end
local id = redis.sha1hex(part .. '\\n' .. first)
local fkey = p .. 'flush:' .. id
if redis.call('EXISTS', fkey) == 1 then return false end
redis.call('RENAME', list, fkey)
redis.call('ZREM', p .. 'partitions', part)
redis.call('HDEL', p .. 'sizes', part)
redis.call('ZADD', p .. 'flushes', now + tonumber(ARGV[6]), id)
redis.call('HSET', p .. 'flushparts', id, part)
return id
"""

# ARGV: prefix, lease seconds -> {flush id, partition} of a flush whose lease lapsed
_CLAIM = """
local p = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local found = redis.call('ZRANGEBYSCORE', p .. 'flushes', '-inf', now, 'LIMIT', 0, 1)
if #found == 0 then return false end
local id = found[1]
redis.call('ZADD', p .. 'flushes', 'XX', now + tonumber(ARGV[2]), id)
return {id, redis.call('HGET', p .. 'flushparts', id) or ''}
"""

# ARGV: prefix, flush id, seconds from now
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return redis.call('ZADD', ARGV[1] .. 'flushes', 'XX', now + tonumber(ARGV[3]), ARGV[2])
"""

# ARGV: prefix, flush id, receipt prefix, receipt ttl, time text -> batches completed
_FINISH = """
local p, id = ARGV[1], ARGV[2]
local fkey = p .. 'flush:' .. id
local cids = redis.call('LRANGE', fkey, 0, -1)
local completed = 0
for _, cid in ipairs(cids) do
  local ck = p .. 'chunk:' .. cid
  local f = redis.call('HMGET', ck, 'batch', 'raw', 'events')
  if f[1] then
    local size = redis.call('HSTRLEN', ck, 'body')
    redis.call('DEL', ck)
    redis.call('ZREM', p .. 'chunks', cid)
    redis.call('HINCRBY', p .. 'stats', 'bytes', -size)
    redis.call('HINCRBY', p .. 'stats', 'raw', -tonumber(f[2]))
    local bk = p .. 'batch:' .. f[1]
    if redis.call('HDEL', bk, cid) == 1 then
      local archived = redis.call('HINCRBY', bk, '=archived', tonumber(f[3]))
      if redis.call('HLEN', bk) == 1 then
        redis.call('DEL', bk)
        local rk = ARGV[3] .. f[1]
        redis.call('HSET', rk, 'archive.delivered', archived, 'archive.dead_lettered', 0,
          'archive.reasons', '{}', 'archive.at', ARGV[5])
        redis.call('EXPIRE', rk, ARGV[4])
        completed = completed + 1
      end
    end
  end
end
redis.call('DEL', fkey)
redis.call('ZREM', p .. 'flushes', id)
redis.call('HDEL', p .. 'flushparts', id)
return completed
"""


@dataclass(frozen=True, slots=True)
class StageResult:
    """What staging one batch did: how many chunks and events it staged (``None`` when
    the batch had been staged before), and whether a partition is now full."""

    chunks: int | None
    events: int
    full: bool


class Compactor:
    """Stages batches and turns due partitions into objects in ``store``."""

    def __init__(
        self,
        redis: Redis,
        store: ObjectStore,
        *,
        prefix: str,
        settings: CompactionSettings,
        receipt_ttl: float,
        bounds: TimeBounds = DEFAULT_BOUNDS,
        metrics: ShipperMetrics | None = None,
        margin: float = DURABILITY_MARGIN_SECONDS,
    ) -> None:
        self.redis = redis
        self.store = store
        self.prefix = normalise_prefix(prefix)
        self.settings = settings
        self.receipt_ttl = max(1, int(receipt_ttl))
        self.bounds = bounds
        self.metrics = metrics or ShipperMetrics()
        self.margin = margin
        self._stage = redis.register_script(_STAGE)
        self._take = redis.register_script(_TAKE)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._finish = redis.register_script(_FINISH)

    # -- staging (the job) -------------------------------------------------------------
    def stage(self, batch: ShipBatch) -> StageResult:
        """Stage ``batch``'s chunks, once however often it is staged."""
        chunks = plan_chunks(batch, self.bounds)
        args: list[Any] = [PREFIX, batch["batch_id"], STAGED_MARK_SECONDS, len(chunks)]
        for chunk in chunks:
            args += [
                chunk.chunk_id,
                chunk.partition.path,
                chunk.body,
                chunk.event_count,
                chunk.raw_bytes,
            ]
        staged = int(self._stage(args=args))
        events = sum(chunk.event_count for chunk in chunks)
        if staged < 0:
            return StageResult(None, events, False)
        full = False
        if chunks:
            with self.redis.pipeline(transaction=False) as pipe:
                for chunk in chunks:
                    pipe.hget(SIZES_KEY, chunk.partition.path)
                sizes = pipe.execute()
            full = any(int(size or 0) >= self.settings.object_bytes for size in sizes)
        return StageResult(staged, events, full)

    # -- flushing (the periodic step) --------------------------------------------------
    def step(self) -> int:
        """Finish flushes left by dead workers, then flush every due partition; the
        number of objects written."""
        return self.recover() + self.flush_due()

    def due_partitions(self) -> list[str]:
        """Partitions whose oldest chunk waited the flush age, or that hold an object's
        worth of events (the take script checks again, atomically)."""
        now = _redis_time(self.redis)
        wait = max(self.settings.flush_age, self.margin)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(PARTITIONS_KEY, "-inf", now - wait)
            pipe.hgetall(SIZES_KEY)
            old, sizes = pipe.execute()
        due = {_text(part) for part in old}
        due |= {
            _text(part) for part, size in sizes.items() if int(size) >= self.settings.object_bytes
        }
        return sorted(due)

    def flush_due(self) -> int:
        """Take and write every due partition."""
        written = 0
        for part in self.due_partitions():
            flush_id = self._take(
                args=[
                    PREFIX,
                    part,
                    self.settings.flush_age,
                    self.margin,
                    self.settings.object_bytes,
                    FLUSH_LEASE_SECONDS,
                ]
            )
            if flush_id:
                written += self.complete(_text(flush_id), part)
        return written

    def recover(self) -> int:
        """Claim and complete every pending flush whose lease lapsed."""
        written = 0
        while True:
            found = self._claim(args=[PREFIX, FLUSH_LEASE_SECONDS])
            if not found:
                return written
            flush_id, part = (_text(value) for value in found)
            log.info("completing archive flush %s of %s left by another worker", flush_id, part)
            written += self.complete(flush_id, part)

    def complete(self, flush_id: str, part: str) -> int:
        """Write the object of the flush ``flush_id`` and finish it: 1 when written, 0
        when the write failed (the flush is tried again a little later)."""
        obj = self.build_object(flush_id, part)
        if obj is not None:
            try:
                self.store.put(obj)
            except TransientError as error:
                log.warning("archive object %s not written, will retry: %s", obj.key, error)
                self.metrics.retries.labels("archive", "object").inc()
                self._release(args=[PREFIX, flush_id, min(5.0, self.settings.flush_age)])
                return 0
            kind = self.store.kind
            self.metrics.archive_objects.labels(kind).inc()
            self.metrics.archive_bytes.labels(kind).inc(len(obj.body))
            self.metrics.archive_events.labels(kind).inc(obj.event_count)
        at = utc_millis(datetime.now(UTC))
        self._finish(args=[PREFIX, flush_id, RECEIPT_PREFIX, self.receipt_ttl, at])
        return 1 if obj is not None else 0

    def build_object(self, flush_id: str, part: str) -> ArchiveObject | None:
        """The object of a taken flush, from its chunks in their order (``None`` when
        none of them is left)."""
        ids = [_text(cid) for cid in self.redis.lrange(flush_key(flush_id), 0, -1)]
        with self.redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hmget(chunk_key(cid), "body", "events")
            rows = pipe.execute()
        present = [(cid, row) for cid, row in zip(ids, rows, strict=True) if row[0] is not None]
        if not present:
            return None
        first = present[0][0]
        return ArchiveObject(
            key=f"{self.prefix}{part}/{object_name(part, ids[0])}.ndjson.gz",
            body=concatenate([row[0] for _, row in present]),
            event_count=sum(int(row[1]) for _, row in present),
            first_chunk=first,
            chunk_count=len(present),
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _redis_time(redis: Redis) -> float:
    seconds, micros = redis.time()
    return float(seconds) + micros / 1_000_000


class CompactionTimer:
    """Runs :meth:`Compactor.step` in a thread of the archive worker, every ``interval``
    seconds and at once when a job fills a partition, so objects are written however
    few jobs arrive. Every archive worker runs one; the scripts keep them apart."""

    def __init__(
        self,
        compactor: Callable[[], Compactor],
        interval: float,
        *,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self._compactor = compactor
        self.interval = interval
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name="archive-compaction", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.is_set():
            started = time.monotonic()
            try:
                self._compactor().step()
            except (RedisError, TransientError) as error:
                log.warning("archive compaction step failed, trying again: %s", error)
                if self._on_error is not None:
                    self._on_error(error)
            except Exception:  # the thread must outlive any one failure
                log.exception("archive compaction step failed")
            self._wake.wait(max(0.0, self.interval - (time.monotonic() - started)))
            self._wake.clear()


def timer_interval(settings: CompactionSettings) -> float:
    """How often the timer looks for due partitions: a quarter of the flush age, between
    half a second and five seconds, so an object is written soon after it is due."""
    return min(5.0, max(0.5, settings.flush_age / 4))
