"""Body decoding: kinds, bounds, gzip, UTF-8, JSON shapes."""

from __future__ import annotations

import gzip
import io
import json
import time
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logagg.ingest.bodies import (
    BodyError,
    _text_lines_bytewise,
    check_encoding,
    content_kind,
    decode_body,
    gunzip_bounded,
    read_bounded,
)
from logagg.queues import JobSerializer


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (None, "text"),
        ("", "text"),
        ("text/plain; charset=utf-8", "text"),
        ("text/csv", "text"),
        ("application/octet-stream", "text"),
        ("application/x-www-form-urlencoded", "text"),
        ("application/x-ndjson", "ndjson"),
        ("application/jsonl", "ndjson"),
        ("application/json", "json"),
        ("Application/JSON; charset=UTF-8", "json"),
        ("application/vnd.api+json", "json"),
    ],
)
def test_content_kinds(header: str | None, kind: str) -> None:
    assert content_kind(header) == kind


@pytest.mark.parametrize("header", ["image/png", "application/xml", "multipart/form-data"])
def test_unsupported_content_type_is_415(header: str) -> None:
    with pytest.raises(BodyError) as caught:
        content_kind(header)
    assert caught.value.status == 415


def test_encodings() -> None:
    assert check_encoding(None) is False
    assert check_encoding("identity") is False
    assert check_encoding("gzip") is True
    assert check_encoding("X-GZIP") is True
    with pytest.raises(BodyError) as caught:
        check_encoding("br")
    assert caught.value.status == 415


def test_text_lines_split_on_lf_and_crlf_skipping_blank_lines() -> None:
    decoded = decode_body(b"one\r\ntwo\n\n   \nthree\r\n\r\nfour", "text", 1024)
    assert decoded.lines == ["one", "two", "three", "four"]
    assert decoded.sizes == [3, 3, 5, 4]
    assert decoded.truncated == []
    assert decoded.invalid_utf8 == []
    assert decoded.kind == "text"


def test_long_line_is_cut_and_marked_not_dropped() -> None:
    decoded = decode_body(b"short\n" + b"x" * 100 + b"\nafter", "text", 64)
    assert decoded.lines == ["short", "x" * 64, "after"]
    assert decoded.truncated == [1]


def test_cut_never_splits_a_utf8_character() -> None:
    line = ("é" * 40).encode()  # 80 bytes, 2 per character
    decoded = decode_body(line, "text", 65)
    assert decoded.lines == ["é" * 32]
    assert decoded.invalid_utf8 == []
    assert decoded.truncated == [0]


def test_invalid_utf8_is_replaced_and_marked() -> None:
    decoded = decode_body(b"good\nbad \xff\xfe here\ngood again", "text", 1024)
    assert decoded.lines == ["good", "bad \ufffd\ufffd here", "good again"]
    assert decoded.invalid_utf8 == [1]


def test_ndjson_objects_strings_and_unparsable_lines() -> None:
    body = b'{"a": 1}\n"plain string"\nnot json\n42\n\n{"b": "\xc3\xa9"}\n'
    decoded = decode_body(body, "ndjson", 1024)
    assert decoded.lines == [{"a": 1}, "plain string", "not json", "42", {"b": "é"}]
    assert decoded.kind == "ndjson"


def test_ndjson_line_too_long_stays_text_and_marked() -> None:
    value = json.dumps({"message": "y" * 200}).encode()
    decoded = decode_body(value + b'\n{"ok": true}', "ndjson", 64)
    assert decoded.lines[0] == value[:64].decode()
    assert decoded.lines[1] == {"ok": True}
    assert decoded.truncated == [0]


def test_ndjson_rejects_nan_as_json() -> None:
    decoded = decode_body(b'{"a": NaN}', "ndjson", 1024)
    assert decoded.lines == ['{"a": NaN}']


@pytest.mark.parametrize(
    "body",
    [
        b'["one", "", {"k": "v"}, "two"]',
        b'{"lines": ["one", {"k": "v"}, "two"]}',
    ],
)
def test_json_arrays_and_lines_object(body: bytes) -> None:
    decoded = decode_body(body, "json", 1024)
    assert decoded.lines == ["one", {"k": "v"}, "two"]
    assert decoded.kind == "json"


def test_unparsable_json_is_read_as_text() -> None:
    body = b"2026-11-28 00:00:00 INFO started\n2026-11-28 00:00:01 ERROR {broken\n"
    decoded = decode_body(body, "json", 1024)
    assert decoded.kind == "text"
    assert decoded.lines == [
        "2026-11-28 00:00:00 INFO started",
        "2026-11-28 00:00:01 ERROR {broken",
    ]


@pytest.mark.parametrize("body", [b"42", b'"a string"', b'{"other": 1}', b"[1, 2]", b"[[]]"])
def test_json_of_the_wrong_shape_is_400(body: bytes) -> None:
    with pytest.raises(BodyError) as caught:
        decode_body(body, "json", 1024)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_body"


def test_json_long_string_and_object_are_cut_and_marked() -> None:
    big_object = {"message": "z" * 300}
    body = json.dumps(["s" * 300, big_object, {"small": 1}]).encode()
    decoded = decode_body(body, "json", 100)
    assert decoded.lines[0] == "s" * 100
    assert isinstance(decoded.lines[1], str)
    assert decoded.lines[1] == json.dumps(big_object, separators=(",", ":"))[:100]
    assert decoded.lines[2] == {"small": 1}
    assert decoded.truncated == [0, 1]


def test_json_with_invalid_utf8_marks_affected_items() -> None:
    decoded = decode_body(b'["fine", "bro\xffken"]', "json", 1024)
    assert decoded.lines == ["fine", "bro\ufffdken"]
    assert decoded.invalid_utf8 == [1]


def test_deeply_nested_json_does_not_crash() -> None:
    decoded = decode_body(b"[" * 100_000, "json", 1024 * 1024)
    assert decoded.kind == "text"


def test_gunzip_round_trip_and_multiple_members() -> None:
    data = gzip.compress(b"one\n") + gzip.compress(b"two\n")
    assert gunzip_bounded(data, 1024) == b"one\ntwo\n"


def test_gzip_bomb_is_refused_without_inflating_it_all() -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    with pytest.raises(BodyError) as caught:
        gunzip_bounded(bomb, 1024 * 1024)
    assert caught.value.status == 413


def test_gunzip_exactly_at_the_bound_is_accepted() -> None:
    data = b"a" * 4096
    assert gunzip_bounded(gzip.compress(data), 4096) == data


@pytest.mark.parametrize(
    "data",
    [b"not gzip at all", gzip.compress(b"hello world" * 100)[:-12], zlib.compress(b"zlib")],
)
def test_broken_gzip_is_400(data: bytes) -> None:
    with pytest.raises(BodyError) as caught:
        gunzip_bounded(data, 1024 * 1024)
    assert caught.value.status == 400


def test_read_bounded_refuses_by_declared_and_by_actual_length() -> None:
    with pytest.raises(BodyError) as declared:
        read_bounded(io.BytesIO(b""), 2000, 1000)
    assert declared.value.status == 413
    with pytest.raises(BodyError) as actual:
        read_bounded(io.BytesIO(b"x" * 1001), None, 1000)
    assert actual.value.status == 413
    assert read_bounded(io.BytesIO(b"x" * 1000), None, 1000) == b"x" * 1000


@settings(max_examples=400, deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [b"a", b"b c", b"\r", b"\n", b"\r\n", b" ", b"\t", b"\x0b", b"\x1c", b"x" * 30]
        )
    ).map(b"".join),
    max_line=st.integers(min_value=1, max_value=40),
)
def test_ascii_fast_path_matches_the_line_by_line_reading(data: bytes, max_line: int) -> None:
    fast = decode_body(data, "text", max_line)
    slow = _text_lines_bytewise(data, max_line)
    assert (fast.lines, fast.sizes, fast.truncated, fast.invalid_utf8) == (
        slow.lines,
        slow.sizes,
        slow.truncated,
        slow.invalid_utf8,
    )


def test_lone_surrogate_escapes_become_replacement_characters_and_are_marked() -> None:
    body = b'["fine", "lone \\ud800 high", {"k\\udc00": "v"}, "pair \\ud83d\\ude00"]'
    decoded = decode_body(body, "json", 1024)
    assert decoded.lines == ["fine", "lone \ufffd high", {"k\ufffd": "v"}, "pair \U0001f600"]
    assert decoded.invalid_utf8 == [1, 2]
    ndjson = decode_body(b'"x \\udfff"\n{"a": "\\ud800"}\n{"b": 1}', "ndjson", 1024)
    assert ndjson.lines == ["x \ufffd", {"a": "\ufffd"}, {"b": 1}]
    assert ndjson.invalid_utf8 == [0, 1]


def test_integers_beyond_64_bits_are_kept_as_their_digits() -> None:
    big = 10**30
    body = json.dumps([{"n": big, "ok": 2**64 - 1, "neg": -(2**63)}]).encode()
    decoded = decode_body(body, "json", 1024)
    assert decoded.lines == [{"n": str(big), "ok": 2**64 - 1, "neg": -(2**63)}]
    assert decoded.invalid_utf8 == []


def test_objects_nested_too_deep_to_store_are_kept_as_text() -> None:
    deep: dict[str, object] = {}
    for _ in range(400):
        deep = {"d": deep}
    text = json.dumps(deep)
    decoded = decode_body(("[" + text + "]").encode(), "json", 1024 * 1024)
    assert decoded.lines == [text]
    ndjson = decode_body(text.encode(), "ndjson", 1024 * 1024)
    assert ndjson.lines == [text]


def test_every_accepted_line_can_be_stored_by_the_job_serializer() -> None:
    deep: dict[str, object] = {}
    for _ in range(300):
        deep = {"d": deep}
    body = json.dumps([deep, {"n": 10**40}, "\ud800", {"\udbff": ["\udc00", 10**25]}])
    for kind in ("json", "ndjson"):
        data = (
            body.encode()
            if kind == "json"
            else "\n".join(json.dumps(item) for item in json.loads(body)).encode()
        )
        decoded = decode_body(data, kind, 1024 * 1024)  # type: ignore[arg-type]
        assert len(decoded.lines) == 4
        JobSerializer.dumps(decoded.lines)


def test_lines_past_the_bound_are_refused_before_splitting() -> None:
    for kind in ("text", "ndjson"):
        assert len(decode_body(b"a\n" * 100, kind, 1024, max_lines=100).lines) == 100
        with pytest.raises(BodyError) as caught:
            decode_body(b"a\n" * 101, kind, 1024, max_lines=100)
        assert (caught.value.status, caught.value.code) == (413, "too_many_lines")
    # Blank lines are lines of the body too: splitting them costs as much as any other.
    with pytest.raises(BodyError):
        decode_body(b"\n" * 200 + b"a", "text", 1024, max_lines=100)
    # A last line without its newline counts.
    with pytest.raises(BodyError):
        decode_body(b"a\n" * 100 + b"b", "text", 1024, max_lines=100)


def test_json_items_past_the_bound_are_refused() -> None:
    body = json.dumps(["x"] * 101).encode()
    with pytest.raises(BodyError) as caught:
        decode_body(body, "json", 1024, max_lines=100)
    assert (caught.value.status, caught.value.code) == (413, "too_many_lines")
    assert len(decode_body(json.dumps(["x"] * 100).encode(), "json", 1024, max_lines=100).lines)


def test_json_containers_past_the_bound_are_refused_before_parsing() -> None:
    # A few bytes per empty object make a large object graph: refused before json.loads.
    body = b"[" + b"{}," * 10_000 + b"{}]"
    with pytest.raises(BodyError) as caught:
        decode_body(body, "json", 1024 * 1024, max_lines=100)
    assert (caught.value.status, caught.value.code) == (413, "too_many_lines")
    ndjson = b'{"a": [' + b"[]," * 5000 + b"[]]}\n"
    with pytest.raises(BodyError):
        decode_body(ndjson, "ndjson", 1024 * 1024, max_lines=100)
    nested = [{"a": {"b": [1, 2]}, "c": ["d"]}] * 100
    decoded = decode_body(json.dumps(nested).encode(), "json", 1024, max_lines=100)
    assert decoded.lines == nested


def test_compression_ratio_past_the_bound_is_413_early() -> None:
    bomb = gzip.compress(b"ab\n" * (8 * 1024 * 1024))
    with pytest.raises(BodyError) as caught:
        gunzip_bounded(bomb, 64 * 1024 * 1024, max_ratio=50)
    assert (caught.value.status, caught.value.code) == (413, "compression_ratio")
    # Below the floor any ratio is accepted: a small body may compress very well.
    small = b"ab\n" * 100_000
    assert gunzip_bounded(gzip.compress(small), 1024 * 1024, max_ratio=2) == small
    text = "".join(f"{n} event {n * 7919 % 10007} took {n % 97} ms\n" for n in range(200_000))
    assert gunzip_bounded(gzip.compress(text.encode()), 64 * 1024**2, max_ratio=50) == (
        text.encode()
    )


def test_many_empty_gzip_members_are_400_in_linear_time() -> None:
    empty = gzip.compress(b"")
    body = empty * (4 * 1024 * 1024 // len(empty))
    started = time.process_time()
    with pytest.raises(BodyError) as caught:
        gunzip_bounded(body, 50 * 1024 * 1024, max_members=1000)
    assert (caught.value.status, caught.value.code) == (400, "too_many_members")
    assert time.process_time() - started < 5  # generous: the quadratic copy took 21 s
    # Without the member bound the same body still decompresses in linear time.
    started = time.process_time()
    assert gunzip_bounded(body, 1024) == b""
    assert time.process_time() - started < 5


def test_members_under_the_bound_decode_in_order() -> None:
    lines = [f"member {n}\n".encode() for n in range(1000)]
    body = b"".join(gzip.compress(line) for line in lines) + b"\0" * 512
    assert gunzip_bounded(body, 1024 * 1024, max_members=1000) == b"".join(lines)
    with pytest.raises(BodyError):
        gunzip_bounded(body, 1024 * 1024, max_members=999)
    # A member larger than one input step, between small ones.
    big = bytes(range(256)) * 2000
    body = gzip.compress(b"a\n") + gzip.compress(big, compresslevel=0) + gzip.compress(b"z")
    assert gunzip_bounded(body, 1024 * 1024, max_members=3) == b"a\n" + big + b"z"
