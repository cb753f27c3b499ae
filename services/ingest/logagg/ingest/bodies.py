"""Request bodies to lines: content kinds, bounded decompression, line bounds, decoding.

Pure functions over bytes; no Flask, no Redis. Every refusal is a :class:`BodyError`
carrying the HTTP status it deserves (400, 413 or 415), so nothing a client sends can
become a 500. Every bound is checked before the work it bounds is done: gzip output as
it is produced, lines and JSON containers by counting bytes before anything is split or
parsed, so a small body cannot make a large request. Every line returned can be written
by the job serializer (values JSON allows but it cannot write are made writable here, see
:func:`_serialized`).
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import IO, Any

from logagg.errors import LogaggError
from logagg.queues import ContentKind, JobSerializer

Line = str | dict[str, Any]

# Form encoding is what some HTTP clients (curl -d, axios with a string) send by default
# for a raw body; the body is read as it is, never form-decoded.
_TEXT_TYPES = frozenset(
    {"text/plain", "application/octet-stream", "application/x-www-form-urlencoded"}
)
_NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
_JSON_TYPES = frozenset({"application/json"})
_GZIP_ENCODINGS = frozenset({"gzip", "x-gzip"})

# zlib window bits for the gzip container (RFC 1952) only.
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_READ_CHUNK = 64 * 1024
# gzip is fed in steps of this much input and yields at most this much output per step,
# so the bounds are checked as it goes and no step copies more than this of the body.
_GUNZIP_INPUT_STEP = 16 * 1024
_GUNZIP_OUTPUT_STEP = 1024 * 1024
# Below this many decompressed bytes any ratio is accepted: small bodies of repeated
# lines compress far better than large ones, and cost little whatever their ratio.
RATIO_FLOOR_BYTES = 1024 * 1024
# What json.loads builds per container ({} or []) dwarfs its two bytes of input; a body
# may hold this many per line allowed, which structured logs (a few nested objects per
# event) stay well within.
_CONTAINERS_PER_LINE = 16
# What bytes.isspace() calls whitespace; a line of nothing else is blank.
_BLANK = " \t\n\r\x0b\x0c"


class BodyError(LogaggError):
    """A body refused, with the HTTP status and error code the answer should carry."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True, slots=True)
class BodyLimits:
    """The bounds on one request: bytes on the wire, after decompression, per line; lines;
    the ratio of decompressed to compressed bytes; gzip members."""

    max_body_bytes: int
    max_decompressed_bytes: int
    max_line_bytes: int
    max_lines: int
    max_compression_ratio: float
    max_gzip_members: int


@dataclasses.dataclass(slots=True)
class DecodedLines:
    """The lines of a body, and which of them were cut or had invalid UTF-8.

    ``sizes`` holds each line's size in bytes as received, for batching by size.
    ``kind`` is what the body turned out to be: a JSON body that does not parse is text.
    """

    kind: ContentKind
    lines: list[Line] = dataclasses.field(default_factory=list)
    sizes: list[int] = dataclasses.field(default_factory=list)
    truncated: list[int] = dataclasses.field(default_factory=list)
    invalid_utf8: list[int] = dataclasses.field(default_factory=list)


def content_kind(content_type: str | None) -> ContentKind:
    """The kind of body announced by a ``Content-Type`` header (none means text)."""
    if content_type is None or not content_type.strip():
        return "text"
    mimetype = content_type.split(";", 1)[0].strip().lower()
    if mimetype in _TEXT_TYPES or mimetype.startswith("text/"):
        return "text"
    if mimetype in _NDJSON_TYPES:
        return "ndjson"
    is_json_suffix = mimetype.startswith("application/") and mimetype.endswith("+json")
    if mimetype in _JSON_TYPES or is_json_suffix:
        return "json"
    raise BodyError(
        415,
        "unsupported_media_type",
        f"unsupported Content-Type {mimetype!r}; use text/plain, application/x-ndjson "
        "or application/json",
    )


def check_encoding(content_encoding: str | None) -> bool:
    """Whether the body is gzip-compressed; raise for an encoding this service cannot read."""
    if content_encoding is None or content_encoding.strip().lower() in ("", "identity"):
        return False
    if content_encoding.strip().lower() in _GZIP_ENCODINGS:
        return True
    raise BodyError(
        415,
        "unsupported_encoding",
        f"unsupported Content-Encoding {content_encoding!r}; use gzip or none",
    )


def read_bounded(stream: IO[bytes], content_length: int | None, limit: int) -> bytes:
    """Read a request body of at most ``limit`` bytes, refusing early when it says it's larger."""
    if content_length is not None and content_length > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
    return b"".join(chunks)


def gunzip_bounded(
    data: bytes,
    limit: int,
    *,
    max_ratio: float | None = None,
    max_members: int | None = None,
) -> bytes:
    """Decompress gzip ``data`` (one or more members), never holding more than ``limit`` bytes.

    Input is fed in small steps at an offset into ``data`` and output is produced in
    bounded steps, so the time is linear in the input and output (the rest of the body is
    never copied per member), a gzip bomb is refused after ``limit`` bytes or once past
    ``max_ratio`` times the size of ``data`` (above :data:`RATIO_FLOOR_BYTES`), and a body
    of more than ``max_members`` members is refused when the next one starts.
    """
    view = memoryview(data)
    size = len(data)
    ratio_bound = None if max_ratio is None else max(RATIO_FLOOR_BYTES, max_ratio * size)
    out: list[bytes] = []
    total = 0
    offset = 0
    members = 0
    try:
        while offset < size:
            if data[offset] == 0 and data.count(0, offset) == size - offset:
                # Trailing zero padding after the last member is tolerated, as gzip does.
                break
            members += 1
            if max_members is not None and members > max_members:
                raise BodyError(
                    400, "too_many_members", f"gzip body of more than {max_members} members"
                )
            inflater = zlib.decompressobj(_GZIP_WBITS)
            while not inflater.eof:
                pending: bytes | memoryview = inflater.unconsumed_tail
                if not pending:
                    pending = view[offset : offset + _GUNZIP_INPUT_STEP]
                    offset += len(pending)
                piece = inflater.decompress(pending, min(limit - total + 1, _GUNZIP_OUTPUT_STEP))
                total += len(piece)
                if total > limit:
                    raise BodyError(
                        413,
                        "payload_too_large",
                        f"body larger than {limit} bytes once decompressed",
                    )
                if ratio_bound is not None and total > ratio_bound:
                    raise BodyError(
                        413,
                        "compression_ratio",
                        f"body decompresses to more than {max_ratio:g} times its size",
                    )
                out.append(piece)
                if not pending and not piece and not inflater.eof:
                    raise BodyError(400, "bad_encoding", "gzip body is truncated")
            # What the inflater read past its member's end belongs to the next member.
            offset -= len(inflater.unused_data)
    except zlib.error as error:
        raise BodyError(400, "bad_encoding", f"body is not valid gzip: {error}") from error
    return b"".join(out)


def decode_body(
    data: bytes, kind: ContentKind, max_line_bytes: int, max_lines: int | None = None
) -> DecodedLines:
    """Split ``data`` into lines according to ``kind``, bounding and decoding each.

    More than ``max_lines`` lines (LF-separated, blank ones included; a JSON body's items)
    is refused with 413 before the body is split or parsed, as is a JSON or NDJSON body
    holding more JSON containers than its lines may (counted as ``{`` and ``[`` bytes).
    """
    text_fits = max_lines is None or _check_line_count(data, kind, max_lines)
    if kind == "text":
        return _text_lines(data, max_line_bytes)
    if kind == "ndjson":
        return _ndjson_lines(data, max_line_bytes)
    result = _json_lines(data, max_line_bytes, text_fits)
    if max_lines is not None and len(result.lines) > max_lines:
        raise _too_many_lines(max_lines)
    return result


def _check_line_count(data: bytes, kind: ContentKind, max_lines: int) -> bool:
    """Raise when ``data`` is past the bounds for ``kind``; whether it fits as text lines
    (a JSON body may span more lines than that, but it is read as text if it won't parse).
    """
    # Counting bytes allocates nothing; splitting or parsing first would build the very
    # objects the bound is there to keep out.
    lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    if kind != "json" and lines > max_lines:
        raise _too_many_lines(max_lines)
    if kind != "text":
        containers = data.count(b"{") + data.count(b"[")
        if containers > _CONTAINERS_PER_LINE * max_lines:
            raise BodyError(
                413,
                "too_many_lines",
                f"body holds more than {_CONTAINERS_PER_LINE * max_lines} JSON objects "
                f"and arrays ({_CONTAINERS_PER_LINE} per line of {max_lines})",
            )
    return lines <= max_lines


def _too_many_lines(max_lines: int) -> BodyError:
    return BodyError(413, "too_many_lines", f"body of more than {max_lines} lines")


def _too_large(limit: int) -> BodyError:
    return BodyError(413, "payload_too_large", f"body larger than {limit} bytes")


def _cut(raw: bytes, limit: int) -> bytes:
    """``raw`` cut to at most ``limit`` bytes, never inside a UTF-8 character."""
    end = limit
    # Step back over continuation bytes (10xxxxxx) so the last character stays whole.
    while end > max(limit - 3, 0) and (raw[end] & 0xC0) == 0x80:
        end -= 1
    return raw[:end]


def _raw_lines(data: bytes) -> list[bytes]:
    raw_lines = data.split(b"\n")
    return [raw[:-1] if raw.endswith(b"\r") else raw for raw in raw_lines]


def _text_lines(data: bytes, max_line_bytes: int) -> DecodedLines:
    if not data.isascii():
        return _text_lines_bytewise(data, max_line_bytes)
    text = data.decode("ascii")
    # ASCII: characters are bytes, so whole-list operations in C replace a per-line loop
    # (the common case, and most of the CPU a large text body costs).
    pieces = text.replace("\r\n", "\n").split("\n")
    if pieces[-1].endswith("\r"):  # a last line ended by CR alone, with no LF after it
        pieces[-1] = pieces[-1][:-1]
    texts = [line for line in pieces if line.strip(_BLANK)]
    sizes = [len(line) for line in texts]
    truncated = [index for index, size in enumerate(sizes) if size > max_line_bytes]
    for index in truncated:
        texts[index] = texts[index][:max_line_bytes]
        sizes[index] = max_line_bytes
    lines: list[Line] = [*texts]
    return DecodedLines("text", lines=lines, sizes=sizes, truncated=truncated)


def _text_lines_bytewise(data: bytes, max_line_bytes: int) -> DecodedLines:
    result = DecodedLines("text")
    for raw in _raw_lines(data):
        if not raw or raw.isspace():
            continue
        _add_raw_text(result, raw, max_line_bytes)
    return result


def _add_raw_text(result: DecodedLines, raw: bytes, max_line_bytes: int) -> str:
    position = len(result.lines)
    if len(raw) > max_line_bytes:
        raw = _cut(raw, max_line_bytes)
        result.truncated.append(position)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        result.invalid_utf8.append(position)
    result.lines.append(text)
    result.sizes.append(len(raw))
    return text


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would write invalid JSON downstream.
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _ndjson_lines(data: bytes, max_line_bytes: int) -> DecodedLines:
    result = DecodedLines("ndjson")
    for raw in _raw_lines(data):
        if not raw or raw.isspace():
            continue
        position = len(result.lines)
        text = _add_raw_text(result, raw, max_line_bytes)
        if result.truncated and result.truncated[-1] == position:
            continue  # a cut JSON value no longer parses; it stays as text, marked
        try:
            value = _loads(text)
        except (ValueError, RecursionError):
            continue  # kept as the raw text line; the parser tags what it cannot read
        if isinstance(value, str):
            if not value or value.isspace():
                _drop_last(result, position)
                continue
            result.lines[position] = _portable_line(result, position, value)
        elif isinstance(value, dict):
            portable, serialized, replaced = _serialized(value)
            if serialized is None:
                continue  # nested too deep to be stored as an object: kept as its text
            if replaced:
                _mark_invalid(result, position)
            result.lines[position] = portable
    return result


def _drop_last(result: DecodedLines, position: int) -> None:
    result.lines.pop()
    result.sizes.pop()
    for marks in (result.truncated, result.invalid_utf8):
        if marks and marks[-1] == position:
            marks.pop()


def _mark_invalid(result: DecodedLines, position: int) -> None:
    if not result.invalid_utf8 or result.invalid_utf8[-1] != position:
        result.invalid_utf8.append(position)


def _json_lines(data: bytes, max_line_bytes: int, text_fits: bool = True) -> DecodedLines:
    try:
        text = data.decode("utf-8")
        had_invalid_utf8 = False
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        had_invalid_utf8 = True
    try:
        document = _loads(text)
    except (ValueError, RecursionError):
        # The original clients send plain text under a JSON content type.
        return _json_as_text(data, max_line_bytes, text_fits)
    items = document.get("lines") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise BodyError(
            400,
            "invalid_body",
            'a JSON body must be an array of strings or objects, or {"lines": [...]}',
        )
    result = DecodedLines("json")
    try:
        for index, item in enumerate(items):
            if isinstance(item, str):
                if not item or item.isspace():
                    continue
                _add_json_string(result, item, max_line_bytes)
            elif isinstance(item, dict):
                _add_json_object(result, item, max_line_bytes)
            else:
                raise BodyError(
                    400,
                    "invalid_body",
                    f"item {index} is a {type(item).__name__}; items must be strings or objects",
                )
            if had_invalid_utf8 and _contains_replacement(result.lines[-1]):
                _mark_invalid(result, len(result.lines) - 1)
    except RecursionError:
        # Nested beyond what can be written back as JSON: the body is kept as text.
        return _json_as_text(data, max_line_bytes, text_fits)
    return result


def _json_as_text(data: bytes, max_line_bytes: int, text_fits: bool) -> DecodedLines:
    if not text_fits:
        raise BodyError(413, "too_many_lines", "body of too many lines to be read as text")
    return _text_lines(data, max_line_bytes)


# The integers the job serializer writes; json.loads reads any size.
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1


def _portable_text(text: str, replaced: list[bool]) -> str:
    """``text`` with lone UTF-16 surrogates (which JSON escapes can carry) as U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        replaced[0] = True
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _portable(value: Any, replaced: list[bool]) -> Any:
    """``value`` made writable by the job serializer: lone surrogates become U+FFFD
    (noted in ``replaced``), integers beyond 64 bits become their digits as a string."""
    if isinstance(value, str):
        return _portable_text(value, replaced)
    if isinstance(value, dict):
        return {_portable_text(k, replaced): _portable(v, replaced) for k, v in value.items()}
    if isinstance(value, list):
        return [_portable(v, replaced) for v in value]
    if isinstance(value, int) and not _MIN_INT <= value <= _MAX_INT:
        return str(value)
    return value


def _serialized(item: dict[str, Any]) -> tuple[dict[str, Any], bytes | None, bool]:
    """``item`` as it will be stored, its JSON as the job serializer writes it, and whether
    text in it was replaced; the JSON is ``None`` when it cannot be written (too deep)."""
    try:
        return item, JobSerializer.dumps(item), False
    except TypeError:
        pass  # lone surrogates, integers beyond 64 bits, or nesting too deep
    replaced = [False]
    try:
        portable = _portable(item, replaced)
        return portable, JobSerializer.dumps(portable), replaced[0]
    except (TypeError, RecursionError):
        return item, None, False


def _portable_line(result: DecodedLines, position: int, text: str) -> str:
    replaced = [False]
    text = _portable_text(text, replaced)
    if replaced[0]:
        _mark_invalid(result, position)
    return text


def _add_json_string(result: DecodedLines, item: str, max_line_bytes: int) -> None:
    item = _portable_line(result, len(result.lines), item)
    # A character is at most 4 bytes in UTF-8: short strings need no encoding to measure.
    if len(item) * 4 <= max_line_bytes:
        result.lines.append(item)
        result.sizes.append(len(item))
        return
    raw = item.encode("utf-8")
    if len(raw) > max_line_bytes:
        result.truncated.append(len(result.lines))
        raw = _cut(raw, max_line_bytes)
        item = raw.decode("utf-8", errors="replace")
    result.lines.append(item)
    result.sizes.append(len(raw))


def _add_json_object(result: DecodedLines, item: dict[str, Any], max_line_bytes: int) -> None:
    position = len(result.lines)
    portable, raw, replaced = _serialized(item)
    if replaced:
        _mark_invalid(result, position)
    if raw is None:
        # Too deep to store as an object: kept as its JSON text (may raise RecursionError).
        raw = json.dumps(item).encode()
    elif len(raw) <= max_line_bytes:
        result.lines.append(portable)
        result.sizes.append(len(raw))
        return
    if len(raw) > max_line_bytes:
        # Too large to keep as an object: its JSON text is kept, cut and marked.
        result.truncated.append(position)
        raw = _cut(raw, max_line_bytes)
    result.lines.append(raw.decode("utf-8", errors="replace"))
    result.sizes.append(len(raw))


def _contains_replacement(line: Line) -> bool:
    if isinstance(line, str):
        return "\ufffd" in line
    return "\ufffd" in JobSerializer.dumps(line).decode()
