"""Property tests: any text, any JSON, any batch gives events and never an exception."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logagg.parser import BatchIdentity, parse_batch, parse_lines

IDENTITY = BatchIdentity.of("b", "svc", "10.0.0.1", "2025-04-18T10:15:00.000Z")
SEPARATORS = st.sampled_from([" ", "-", " - ", "[", "]", ":", "=", '"', "{", "}", "\t", "|"])
# text built from the pieces formats look for, so that the generator reaches deep paths
PIECES = st.sampled_from(
    [
        "2025-04-18 10:12:01,123",
        "2025-02-30T25:61:61.1234567890+99:99",
        "17/06/09 20:10:40",
        "081109 203615",
        "Jun 14 15:16:01",
        "<34>",
        "<999>1 ",
        "INFO",
        "ERROR",
        "[main]",
        "[client 1.2.3.4:80]",
        "10.0.0.7",
        "::1",
        " - ",
        "level=info",
        'msg="a b"',
        "{",
        '"ts":',
        "\tat x.Y(Z.java:1)",
        "Traceback (most recent call last):",
        "Caused by: x",
        "[Sun Dec 04 04:47:44 2005]",
        '"GET / HTTP/1.1"',
        "\ufffd",
        "\x00",
        "\n",
    ]
)
LINES = st.one_of(
    st.text(),
    st.lists(st.one_of(PIECES, SEPARATORS, st.text(max_size=5)), max_size=20).map("".join),
    st.binary().map(lambda raw: raw.decode("utf-8", errors="replace")),
    st.lists(SEPARATORS, max_size=200).map("".join),
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["ts", "time", "@timestamp", "level", "msg", "message", "log", "x"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _check(events: list[dict[str, Any]], count: int) -> None:
    assert 1 <= len(events) <= count
    for event in events:
        assert isinstance(event["message"], str)
        assert isinstance(event["@timestamp"], str)
        assert event["@timestamp"].endswith("Z")
        assert event["service"] == {"name": "svc"}
        json.dumps(event, allow_nan=False)  # JSON-ready


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, min_size=1, max_size=8))
def test_any_lines_give_events(lines: list[str]) -> None:
    _check(parse_lines(lines, IDENTITY), len(lines))


@settings(max_examples=200)
@given(JSON_VALUES)
def test_any_json_line_gives_an_event(value: Any) -> None:
    line = json.dumps(value)
    events = parse_lines([line], IDENTITY)
    _check(events, 1)
    if isinstance(value, dict) and isinstance(value.get("msg"), str) and "message" not in value:
        assert events[0]["message"] == value["msg"]


@settings(max_examples=200)
@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=6))
def test_any_structured_object_gives_an_event(record: dict[str, Any]) -> None:
    payload = {
        "batch_id": "b",
        "service": "svc",
        "source_ip": "10.0.0.1",
        "received_at": "2025-04-18T10:15:00.000Z",
        "content_kind": "json",
        "lines": [record],
        "truncated": [],
        "invalid_utf8": [],
    }
    _check(parse_batch(payload)["events"], 1)


def test_huge_and_hostile_lines_parse_quickly() -> None:
    hostile = [
        "a" * 1_000_000,
        "2025-04-18 10:12:01,123 " + "[" * 200_000,
        "x.log" * 200_000 + " 2025-04-18 10:00:00 INFO",
        "Jun 14 15:16:01 host " + "a" * 500_000,
        "level=info " + "k=v " * 100_000,
        '{"a": ' * 100_000,
        "1.1.1.1 - - [" + "1" * 300_000,
        "<34>1 - - - - - " + "[x " * 100_000,
        "2025-04-18 10:12:01,123 INFO " + "a." * 200_000,
        " - " * 300_000,
    ]
    started = time.perf_counter()
    events = parse_lines(hostile, IDENTITY)
    elapsed = time.perf_counter() - started
    assert len(events) == len(hostile)
    assert [event["event"]["original"] for event in events] == hostile
    assert elapsed < 10, f"hostile lines took {elapsed:.1f}s"
