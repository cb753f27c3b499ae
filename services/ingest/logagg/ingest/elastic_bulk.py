"""The Elasticsearch bulk API's body: action/source pairs to items and documents.

Pure functions over a bulk body's bytes; the sources are read by
:func:`logagg.ingest.bodies.decode_body` (so the bounds, truncation and UTF-8 rules of a
document are those of a ``POST /log`` line). Every
action gets an item in the answer, in order; an item that cannot be accepted carries an
error shaped like Elasticsearch's and never takes a neighbour with it.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any, Final, NamedTuple

import orjson

from logagg.errors import LogaggError
from logagg.ingest.bodies import DecodedLines, decode_body

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
_CACHED_ACTION_BYTES: Final = 256
# Below this many brackets a source is read directly: the job serializer (orjson) writes
# objects nested up to 254 deep, and the reader keeps deeper ones as their text.
_FAST_NESTING: Final = 200
_LONG_DIGITS: Final = re.compile(rb"[0-9]{19}")
_CREATED: Final = (
    b'"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},'
    b'"_primary_term":1,"status":201'
)

MAX_DATASET_LENGTH: Final = 64
DEFAULT_DATASET: Final = "generic"
# `logs-<dataset>-<namespace>`: the data stream naming scheme of Elastic's shippers.
_DATA_STREAM = re.compile(r"logs-([a-z0-9_.]{1,100})-[a-z0-9_.]{1,100}")
_UNSAFE = re.compile(r"[^a-z0-9_.]+")
# A date the shipper appended to a daily index name (`filebeat-2026.12.04`).
_DATE_SUFFIX = re.compile(r"[-_.]?\d{4}[-_.]\d{2}(?:[-_.]\d{2})?$")


class BulkMediaTypeError(LogaggError):
    """A bulk body labelled with a type that is not NDJSON or JSON."""


class BulkItem(NamedTuple):
    """One action's answer: accepted (``position`` among the documents) or refused.

    A named tuple: one is made per action, thousands per request, and a frozen
    dataclass costs several times as much to build.
    """

    action: str
    index_name: str
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


@functools.lru_cache(maxsize=1024)
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


def split_bulk(data: bytes, default_index: str | None, max_line_bytes: int) -> BulkRequest:
    """Pair the action lines of a bulk body with their sources.

    ``index`` and ``create`` actions with an object source (or one cut at the line bound,
    kept as its text) are accepted, their source tagged with the dataset of their index;
    anything else gets a refused item. The sources are read by ``POST /log``'s NDJSON
    reader, so its bounds, truncation and UTF-8 rules hold for every document.
    """
    lines = [line for line in _raw_lines(data) if line.strip()]
    return _split_pairs(lines, default_index, max_line_bytes) or _split_lines(
        lines, default_index, max_line_bytes
    )


def _split_pairs(
    lines: list[bytes], default_index: str | None, max_line_bytes: int
) -> BulkRequest | None:
    """:func:`split_bulk` of the body shippers send (every other line an ``index`` or
    ``create`` action, every source an object), in a few passes; None for any other."""
    if len(lines) % 2:
        return None
    known: dict[bytes, tuple[str, str, str | None]] = {}
    pairs: list[tuple[str, str, str | None]] = []
    for raw in lines[0::2]:
        pair = known.get(raw)
        if pair is None:
            action, meta = _action(raw, max_line_bytes)
            if action not in _ACCEPTED_ACTIONS or action is None:
                return None
            pair = (
                action,
                _text(meta.get("_index")) or default_index or "",
                _text(meta.get("_id")),
            )
            if len(raw) <= _CACHED_ACTION_BYTES:
                known[raw] = pair
        pairs.append(pair)
    sources = lines[1::2]
    if not all(raw.startswith(b"{") or len(raw) > max_line_bytes for raw in sources):
        return None
    documents = read_sources(sources, max_line_bytes)
    truncated = frozenset(documents.truncated)
    for number, (line, (_, index, _)) in enumerate(zip(documents.lines, pairs, strict=True)):
        if type(line) is dict:
            _route(line, index)
        elif number not in truncated:
            return None  # a source that is not an object: the general path answers it
    documents.kind = "json" if documents.lines else "ndjson"
    items = [
        BulkItem(action, index, doc_id, number)
        for number, (action, index, doc_id) in enumerate(pairs)
    ]
    return BulkRequest(items, documents)


def _split_lines(lines: list[bytes], default_index: str | None, max_line_bytes: int) -> BulkRequest:
    """:func:`split_bulk` of any body, one line after the other."""
    items: list[BulkItem | None] = []
    # Per accepted action: its item's position, action, index and id; its source is the
    # same position in `sources`.
    pending: list[tuple[int, str, str, str | None]] = []
    sources: list[bytes] = []
    actions: dict[bytes, tuple[str | None, dict[str, Any]]] = {}
    position = 0
    while position < len(lines):
        raw = lines[position]
        action, meta = actions.get(raw) or _action(raw, max_line_bytes)
        if len(raw) <= _CACHED_ACTION_BYTES:
            # shippers repeat the same few action lines
            actions.setdefault(raw, (action, meta))
        if action is None:
            items.append(_malformed(default_index, position))
            # A following line that is not an action is taken as this action's source.
            if (
                position + 1 < len(lines)
                and _action(lines[position + 1], max_line_bytes)[0] is None
            ):
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
        if not source.lstrip().startswith(b"{") and len(source) <= max_line_bytes:
            items.append(_not_an_object(action, index, doc_id, source_at))
            continue
        pending.append((len(items), action, index, doc_id))
        items.append(None)
        sources.append(source)
    decoded = read_sources(sources, max_line_bytes)
    documents = DecodedLines("json" if sources else "ndjson")
    truncated = frozenset(decoded.truncated)
    invalid = frozenset(decoded.invalid_utf8)
    for number, (slot, action, index, doc_id) in enumerate(pending):
        line = decoded.lines[number]
        if isinstance(line, str) and number not in truncated:
            items[slot] = _not_an_object(action, index, doc_id, None)
            continue
        kept = len(documents.lines)
        if isinstance(line, dict):
            _route(line, index)
        documents.lines.append(line)
        documents.sizes.append(decoded.sizes[number])
        if number in truncated:
            documents.truncated.append(kept)
        if number in invalid:
            documents.invalid_utf8.append(kept)
        items[slot] = BulkItem(action, index, doc_id, position=kept)
    return BulkRequest([item for item in items if item is not None], documents)


def bulk_answer(items: list[BulkItem], document_ids: list[str], took_ms: int) -> bytes:
    """The JSON of the bulk response shippers read: ``took``, ``errors``, one object per item.

    ``document_ids`` are the ids of the accepted documents, by position; an item with an
    ``_id`` of its own is answered with it. Written as bytes from a template: the answer
    holds an object per item, on every request, and building them as dicts cost more
    than the rest of the request.
    """
    dumps = orjson.dumps
    parts: list[bytes] = []
    errors = False
    for item in items:
        if item.position is None:
            errors = True
            error = {"type": item.error_type, "reason": item.reason}
            body = {"_index": item.index_name, "_id": item.doc_id, "status": 400, "error": error}
            parts.append(dumps({item.action: body}))
        else:
            parts.append(
                b'{"%b":{"_index":%b,"_id":%b,"_seq_no":%d,%b}}'
                % (
                    item.action.encode(),
                    dumps(item.index_name),
                    dumps(item.doc_id or document_ids[item.position]),
                    item.position,
                    _CREATED,
                )
            )
    return b'{"took":%d,"errors":%b,"items":[%b]}' % (
        took_ms,
        b"true" if errors else b"false",
        b",".join(parts),
    )


def read_sources(sources: list[bytes], max_line_bytes: int) -> DecodedLines:
    """``sources`` as ``POST /log``'s NDJSON reader reads them, one line each, in order.

    The common source (a plain object within the bound) is read here with orjson, which
    refuses what the reader would treat apart (invalid UTF-8, lone surrogates, NaN).
    Those sources, long or deeply nested ones, and any with 19 digits in a row (orjson
    reads an integer beyond 64 bits as a float, the reader keeps its digits), go
    through the reader itself; each starts with "{" or is cut, so it keeps every one.
    """
    decoded = DecodedLines("ndjson")
    slow: list[int] = []
    # One search of all sources usually clears every one of them.
    digits_possible = _LONG_DIGITS.search(b"\n".join(sources)) is not None
    lines, sizes = decoded.lines, decoded.sizes
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for number, raw in enumerate(sources):
        value: Any = None
        if (
            len(raw) <= max_line_bytes
            and raw.count(b"{") + raw.count(b"[") < _FAST_NESTING
            and not (digits_possible and _LONG_DIGITS.search(raw))
        ):
            try:
                value = loads(raw)
            except decode_error:
                value = None
        if type(value) is dict:
            lines.append(value)
        else:
            slow.append(number)
            lines.append("")
        sizes.append(len(raw))
    if not slow:
        return decoded
    reread = decode_body(b"\n".join(sources[n] for n in slow), "ndjson", max_line_bytes)
    truncated, invalid = frozenset(reread.truncated), frozenset(reread.invalid_utf8)
    for position, number in enumerate(slow):
        decoded.lines[number] = reread.lines[position]
        decoded.sizes[number] = reread.sizes[position]
        if position in truncated:
            decoded.truncated.append(number)
        if position in invalid:
            decoded.invalid_utf8.append(number)
    decoded.truncated.sort()
    decoded.invalid_utf8.sort()
    return decoded


def _raw_lines(data: bytes) -> list[bytes]:
    return [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]


def _action(raw: bytes, max_line_bytes: int) -> tuple[str | None, dict[str, Any]]:
    if len(raw) > max_line_bytes or not raw.lstrip().startswith(b"{"):
        return None, {}
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, {}
    if not isinstance(line, dict) or len(line) != 1:
        return None, {}
    ((action, meta),) = line.items()
    if action not in _ALL_ACTIONS or not isinstance(meta, dict):
        return None, {}
    return action, meta


def _not_an_object(action: str, index: str, doc_id: str | None, line: int | None) -> BulkItem:
    where = f"[{line + 1}:1] " if line is not None else ""
    return BulkItem(
        action,
        index,
        doc_id,
        error_type="document_parsing_exception",
        reason=f"{where}the source is not a JSON object",
    )


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


def _route(source: dict[str, Any], index: str) -> None:
    """Put the dataset of ``index`` in ``source``'s ``data_stream.dataset`` (the reader
    made ``source``: nothing else holds it)."""
    data_stream = source.get("data_stream")
    routed = {**data_stream} if isinstance(data_stream, dict) else {}
    routed["dataset"] = dataset_for(index)
    source["data_stream"] = routed
