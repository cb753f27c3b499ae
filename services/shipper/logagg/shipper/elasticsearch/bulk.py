"""Bulk request bodies: one ``create`` per event with its deterministic ``_id``, cut into
requests bounded in documents and in bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from logagg.shipper.elasticsearch.layout import Layout, target_index
from logagg.shipper.encoding import dumps


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One event, encoded once, ready to go into any number of bulk requests."""

    position: int  # the event's position in its batch
    doc_id: str
    index: str
    lines: bytes  # action line and source line, each ending in "\n"
    event: dict[str, Any]

    @property
    def size(self) -> int:
        return len(self.lines)


def document_id(event: dict[str, Any], batch_id: str, position: int) -> str:
    """``event.id`` (``<batch_id>-<position>`` from the parser), or the same rule applied
    here when an event arrives without one, so the id stays deterministic either way.
    """
    meta = event.get("event")
    if isinstance(meta, dict):
        given = meta.get("id")
        if isinstance(given, str) and given:
            return given
    return f"{batch_id}-{position}"


def encode_items(
    events: Sequence[dict[str, Any]], batch_id: str, layout: Layout, namespace: str
) -> list[BulkItem]:
    """Encode every event of a batch as a bulk ``create`` item."""
    items = []
    for position, event in enumerate(events):
        doc_id = document_id(event, batch_id, position)
        index = target_index(event, layout, namespace)
        # index names hold only [a-z0-9_.-]: no escaping needed there
        lines = b"".join(
            (
                b'{"create":{"_index":"',
                index.encode(),
                b'","_id":',
                dumps(doc_id),
                b"}}\n",
                dumps(event),
                b"\n",
            )
        )
        items.append(BulkItem(position, doc_id, index, lines, event))
    return items


def chunk_items(
    items: Iterable[BulkItem], max_documents: int, max_bytes: int
) -> Iterator[list[BulkItem]]:
    """Cut ``items`` into requests of at most ``max_documents`` and ``max_bytes``.

    An item larger than ``max_bytes`` on its own still goes, alone in its request: the
    bound keeps requests small, it is not a limit on events (Elasticsearch's own
    ``http.max_content_length`` answers 413 for what it refuses).
    """
    if max_documents < 1 or max_bytes < 1:
        raise ValueError("bulk bounds must be positive")
    chunk: list[BulkItem] = []
    size = 0
    for item in items:
        if chunk and (len(chunk) >= max_documents or size + item.size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item.size
    if chunk:
        yield chunk


def request_body(chunk: Sequence[BulkItem]) -> bytes:
    """The NDJSON body of one bulk request."""
    return b"".join(item.lines for item in chunk)
