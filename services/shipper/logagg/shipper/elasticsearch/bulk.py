"""Bulk request bodies: one ``create`` per event with its deterministic ``_id``, cut into
requests bounded in documents and in bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from logagg.eventjson import dumps, loads
from logagg.queues import EncodedBatch, ParsedBatch, ShipBatch, encoded_sources, is_encoded
from logagg.shipper.elasticsearch.layout import Layout, routed_index, target_index
from logagg.shipper.routing import (
    DEFAULT_BOUNDS,
    TimeBounds,
    event_placement,
    route_fields,
    tagged,
    tagged_source,
)


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One event, encoded once, ready to go into any number of bulk requests."""

    position: int  # the event's position in its batch
    doc_id: str
    index: str
    lines: bytes  # action line and source line, each ending in "\n"
    decoded: dict[str, Any] | None = None  # the event, when it came as an object

    @property
    def size(self) -> int:
        return len(self.lines)

    @property
    def event(self) -> dict[str, Any]:
        """The event (decoded from its source line when it came encoded): for dead letters."""
        if self.decoded is not None:
            return self.decoded
        event: dict[str, Any] = loads(self.lines[self.lines.index(b"\n") + 1 : -1])
        return event


def document_id(event: dict[str, Any], batch_id: str, position: int) -> str:
    """``event.id`` (``<batch_id>-<position>`` from the parser), or the same rule applied
    here when an event arrives without one, so the id stays deterministic either way.
    """
    meta = event.get("event")
    return given_or_positional_id(
        meta.get("id") if isinstance(meta, dict) else None, batch_id, position
    )


def given_or_positional_id(given: object, batch_id: str, position: int) -> str:
    """``given`` when it is a non-empty string, else ``<batch_id>-<position>``."""
    if isinstance(given, str) and given:
        return given
    return f"{batch_id}-{position}"


def _action_start(index: str) -> bytes:
    # index names hold only [a-z0-9_.-]: no escaping needed there
    return b'{"create":{"_index":"' + index.encode() + b'","_id":'


def _item_lines(action_start: bytes, doc_id: str, source: bytes) -> bytes:
    return b"".join((action_start, dumps(doc_id), b"}}\n", source, b"\n"))


def bulk_items(
    batch: ShipBatch, layout: Layout, namespace: str, bounds: TimeBounds = DEFAULT_BOUNDS
) -> list[BulkItem]:
    """Every event of ``batch``, in either form, as a bulk ``create`` item."""
    if is_encoded(batch):
        return encode_routed(batch, layout, namespace, bounds)
    events = cast(ParsedBatch, batch)["events"]
    return encode_items(events, batch["batch_id"], layout, namespace, bounds)


def encode_items(
    events: Sequence[dict[str, Any]],
    batch_id: str,
    layout: Layout,
    namespace: str,
    bounds: TimeBounds = DEFAULT_BOUNDS,
) -> list[BulkItem]:
    """Encode every event of a batch as a bulk ``create`` item (an event whose time is
    out of bounds gets its tag first)."""
    items = []
    for position, event in enumerate(events):
        doc_id = document_id(event, batch_id, position)
        index = target_index(event, layout, namespace, bounds)
        if event_placement(event, bounds).out_of_bounds:
            tagged(event)
        lines = _item_lines(_action_start(index), doc_id, dumps(event))
        items.append(BulkItem(position, doc_id, index, lines, event))
    return items


def encode_routed(
    batch: EncodedBatch, layout: Layout, namespace: str, bounds: TimeBounds = DEFAULT_BOUNDS
) -> list[BulkItem]:
    """Bulk ``create`` items of an encoded batch: each event's JSON as it came, after an
    action line made from its route. Only an event whose time is out of bounds is
    decoded, to be tagged."""
    batch_id = batch["batch_id"]
    items = []
    for position, (source, route) in enumerate(
        zip(encoded_sources(batch), batch["routes"], strict=True)
    ):
        event_id, dataset, stamp, received = route_fields(route, source)
        doc_id = given_or_positional_id(event_id, batch_id, position)
        index, out_of_bounds = routed_index(dataset, stamp, received, layout, namespace, bounds)
        if out_of_bounds:
            source = tagged_source(source)
        lines = _item_lines(_action_start(index), doc_id, source)
        items.append(BulkItem(position, doc_id, index, lines))
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
