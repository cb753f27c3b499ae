"""The archive's staging area in Redis: the keys every service reads, and their layout.

The archive shipper stages each batch's events per partition as gzip chunks and writes
one object per partition later (:mod:`logagg.shipper.archive.compaction`). Ingest counts
the staged chunks in its backlog, ``logagg status`` shows them; both only need the names
below, so they live here rather than in the shipper.

Keys (all under ``logagg:archive:``):

- ``chunk:<chunk id>``: hash ``body`` (one gzip member), ``batch``, ``events``, ``raw``
  (uncompressed bytes), ``partition``;
- ``staging:<partition>``: list of the chunk ids waiting for that partition's next object;
- ``partitions``: sorted set of partitions with staged chunks, by the oldest one's time;
- ``sizes``: hash of the uncompressed bytes staged per partition;
- ``chunks``: sorted set of every staged chunk id, by staging time (its size is the
  backlog's part, its lowest score the oldest staged chunk);
- ``stats``: hash ``bytes`` (compressed, as held in Redis) and ``raw`` staged;
- ``batch:<batch id>``: hash of the batch's chunks not yet in an object (chunk id to
  event count) and ``=archived``, the events of those already in one;
- ``staged:<batch id>``: marks a batch staged, for a while, so a repeated job stages
  nothing twice;
- ``flush:<flush id>``: the chunk ids one object is made of, taken from a partition's
  list at once; ``flushes`` (sorted set of pending flush ids by when their lease
  lapses) and ``flushparts`` (flush id to partition) let any worker finish a flush whose
  worker died.
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "logagg:archive:"
CHUNKS_KEY: Final = f"{PREFIX}chunks"
PARTITIONS_KEY: Final = f"{PREFIX}partitions"
SIZES_KEY: Final = f"{PREFIX}sizes"
STATS_KEY: Final = f"{PREFIX}stats"
FLUSHES_KEY: Final = f"{PREFIX}flushes"
FLUSH_PARTS_KEY: Final = f"{PREFIX}flushparts"


def flush_key(flush_id: str) -> str:
    """The list of the chunk ids of one flush."""
    return f"{PREFIX}flush:{flush_id}"


def chunk_key(chunk_id: str) -> str:
    """The hash holding one staged chunk."""
    return f"{PREFIX}chunk:{chunk_id}"
