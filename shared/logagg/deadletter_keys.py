"""Where the shipper's dead-letter store lives in Redis, for readers other than the shipper.

The shipper writes the store (``logagg.shipper.deadletter``); ``logagg status`` counts it
with these names, without importing the shipper. Entry ids start with their sink:
``<sink>:<event id>`` for a rejected item, ``<sink>:batch:<batch id>`` for a whole batch.
"""

from __future__ import annotations

ENTRIES_KEY = "logagg:dlq:entries"  # hash: entry id -> JSON
ORDER_KEY = "logagg:dlq:order"  # sorted set: entry id -> time stored, in µs
DROPPED_KEY = "logagg:dlq:dropped"  # counter: entries dropped, oldest first, over the cap


def letter_sink(letter_id: str) -> str:
    """The sink an entry id names (its first ``:``-separated part)."""
    return letter_id.partition(":")[0]
