"""The Elasticsearch bulk API's body: action/source pairs to items and documents.

Pure functions over the lines :func:`logagg.ingest.bodies.decode_body` made of an NDJSON
body (so the body's bounds, truncation and UTF-8 rules are those of ``POST /log``). Every
action gets an item in the answer, in order; an item that cannot be accepted carries an
error shaped like Elasticsearch's and never takes a neighbour with it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Final

from logagg.errors import LogaggError
from logagg.ingest.bodies import DecodedLines, Line

# What shippers label a bulk body with (the official clients use the vendor types).
BULK_MEDIA_TYPES: Final = frozenset(
    {
        "application/x-ndjson",
        "application/json",
        "application/vnd.elasticsearch+x-ndjson",
        "application/vnd.elasticsearch+json",
    }
)
_ACCEPTED_ACTIONS: Final = frozenset({"index", "create"})
# Actions a shipper may send that this intake refuses; update carries a source line.
_REFUSED_ACTIONS: Final = {"delete": False, "update": True}
_ALL_ACTIONS: Final = _ACCEPTED_ACTIONS | _REFUSED_ACTIONS.keys()

MAX_DATASET_LENGTH: Final = 64
DEFAULT_DATASET: Final = "generic"
# `logs-<dataset>-<namespace>`: the data stream naming scheme of Elastic's shippers.
_DATA_STREAM = re.compile(r"logs-([a-z0-9_.]{1,100})-[a-z0-9_.]{1,100}")
_UNSAFE = re.compile(r"[^a-z0-9_.]+")
# A date the shipper appended to a daily index name (`filebeat-2026.12.04`).
_DATE_SUFFIX = re.compile(r"[-_.]?\d{4}[-_.]\d{2}(?:[-_.]\d{2})?$")


class BulkMediaTypeError(LogaggError):
    """A bulk body labelled with a type that is not NDJSON or JSON."""


@dataclasses.dataclass(frozen=True, slots=True)
class BulkItem:
    """One action's answer: accepted (``position`` among the documents) or refused."""

    action: str
    index: str
    doc_id: str | None
    position: int | None = None
    error_type: str | None = None
    reason: str | None = None

    @property
    def status(self) -> int:
        return 201 if self.position is not None else 400


@dataclasses.dataclass(slots=True)
class BulkRequest:
    """The items of a bulk body, and the accepted documents as lines to batch."""

    items: list[BulkItem]
    documents: DecodedLines


def check_media_type(content_type: str | None) -> None:
    """Raise :class:`BulkMediaTypeError` unless ``content_type`` is one a bulk body may have
    (none at all is taken as NDJSON, as Elasticsearch does)."""
    if content_type is None or not content_type.strip():
        return
    mimetype = content_type.split(";", 1)[0].strip().lower()
    if mimetype not in BULK_MEDIA_TYPES:
        raise BulkMediaTypeError(
            f"unsupported Content-Type {mimetype!r} for a bulk body; use application/x-ndjson"
        )


def dataset_for(index: str | None) -> str:
    """The dataset an index name routes to, within the caller's own events.

    A data stream name gives its dataset part; any other name is lower-cased, stripped of
    a trailing date, reduced to ``[a-z0-9_.]`` and cut to :data:`MAX_DATASET_LENGTH`, so
    a client can never name a raw target index.
    """
    if not index:
        return DEFAULT_DATASET
    name = index[:256].strip().lower()
    matched = _DATA_STREAM.fullmatch(name)
    name = matched.group(1) if matched is not None else _DATE_SUFFIX.sub("", name)
    name = _UNSAFE.sub("_", name).strip("_.")[:MAX_DATASET_LENGTH].strip("_.")
    return name or DEFAULT_DATASET


def split_bulk(decoded: DecodedLines, default_index: str | None) -> BulkRequest:
    """Pair the action lines of a bulk body with their sources.

    ``decoded`` is the body read as NDJSON. ``index`` and ``create`` actions with an
    object source (or one cut at the line bound, kept as its text) are accepted, their
    source tagged with the dataset of their index; anything else gets a refused item.
    """
    items: list[BulkItem] = []
    documents = DecodedLines("ndjson")
    truncated = frozenset(decoded.truncated)
    invalid = frozenset(decoded.invalid_utf8)
    lines = decoded.lines
    position = 0
    while position < len(lines):
        action, meta = _action(lines[position])
        if action is None:
            items.append(_malformed(default_index, position))
            # A following object that is not an action is taken as this action's source.
            if position + 1 < len(lines) and _action(lines[position + 1])[0] is None:
                position += 1
            position += 1
            continue
        index = _text(meta.get("_index")) or default_index or ""
        doc_id = _text(meta.get("_id"))
        if action in _REFUSED_ACTIONS:
            items.append(
                BulkItem(
                    action,
                    index,
                    doc_id,
                    error_type="illegal_argument_exception",
                    reason=f"the [{action}] action is not supported: this intake only adds "
                    "documents (index, create)",
                )
            )
            position += 2 if _REFUSED_ACTIONS[action] else 1
            continue
        source_at = position + 1
        position += 2
        if source_at >= len(lines):
            items.append(
                BulkItem(
                    action,
                    index,
                    doc_id,
                    error_type="action_request_validation_exception",
                    reason="Validation Failed: 1: the action has no source line;",
                )
            )
            continue
        source = lines[source_at]
        if isinstance(source, str) and source_at not in truncated:
            items.append(
                BulkItem(
                    action,
                    index,
                    doc_id,
                    error_type="document_parsing_exception",
                    reason=f"[{source_at + 1}:1] the source is not a JSON object",
                )
            )
            continue
        kept = len(documents.lines)
        documents.lines.append(_routed(source, index))
        documents.sizes.append(decoded.sizes[source_at])
        if source_at in truncated:
            documents.truncated.append(kept)
        if source_at in invalid:
            documents.invalid_utf8.append(kept)
        items.append(BulkItem(action, index, doc_id, position=kept))
    if any(isinstance(line, dict) for line in documents.lines):
        documents.kind = "json"
    return BulkRequest(items, documents)


def bulk_answer(items: list[BulkItem], document_ids: list[str], took_ms: int) -> dict[str, Any]:
    """The bulk response shippers read: ``took``, ``errors`` and one object per item.

    ``document_ids`` are the ids of the accepted documents, by position; an item with an
    ``_id`` of its own is answered with it.
    """
    answered: list[dict[str, Any]] = []
    for item in items:
        if item.position is None:
            body: dict[str, Any] = {
                "_index": item.index,
                "_id": item.doc_id,
                "status": 400,
                "error": {"type": item.error_type, "reason": item.reason},
            }
        else:
            body = {
                "_index": item.index,
                "_id": item.doc_id or document_ids[item.position],
                "_version": 1,
                "result": "created",
                "_shards": {"total": 1, "successful": 1, "failed": 0},
                "_seq_no": item.position,
                "_primary_term": 1,
                "status": 201,
            }
        answered.append({item.action: body})
    return {
        "took": took_ms,
        "errors": any(item.position is None for item in items),
        "items": answered,
    }


def _action(line: Line) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(line, dict) or len(line) != 1:
        return None, {}
    ((action, meta),) = line.items()
    if action not in _ALL_ACTIONS or not isinstance(meta, dict):
        return None, {}
    return action, meta


def _malformed(default_index: str | None, position: int) -> BulkItem:
    return BulkItem(
        "index",
        default_index or "",
        None,
        error_type="illegal_argument_exception",
        reason=f"Malformed action/metadata line [{position + 1}], expected one of "
        "index, create, delete, update with an object of metadata",
    )


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value[:512]
    return None


def _routed(source: Line, index: str) -> Line:
    """``source`` with the dataset of ``index`` in ``data_stream.dataset``."""
    if not isinstance(source, dict):
        return source
    data_stream = source.get("data_stream")
    routed = {**data_stream} if isinstance(data_stream, dict) else {}
    routed["dataset"] = dataset_for(index)
    return {**source, "data_stream": routed}
