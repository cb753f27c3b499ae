"""parse_batch and parse_lines: identity from the batch, ids, tags, options, poison lines."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from logagg.parser import BatchIdentity, ParserConfig, parse_batch, parse_line, parse_lines
from logagg.parser.formats import BY_NAME, application

RECEIVED = "2025-04-18T10:15:00.000Z"
HADOOP = "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.MRAppMaster: Created"


def batch(lines: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "batch_id": "01HX",
        "service": "billing",
        "source_ip": "198.51.100.7",
        "received_at": RECEIVED,
        "content_kind": "text",
        "lines": lines,
        "truncated": [],
        "invalid_utf8": [],
        **extra,
    }


def test_parsed_batch_shape_and_ids() -> None:
    parsed = parse_batch(batch([HADOOP, "free text", HADOOP]))
    assert parsed["batch_id"] == "01HX"
    assert parsed["service"] == "billing"
    assert [e["event"]["id"] for e in parsed["events"]] == ["01HX-0", "01HX-1", "01HX-2"]


def test_identity_comes_from_the_batch_not_the_line() -> None:
    line = '{"message": "x", "service": {"name": "other"}, "source": {"ip": "1.2.3.4"}}'
    event = parse_batch(batch([line]))["events"][0]
    assert event["service"] == {"name": "billing"}
    assert event["source"] == {"ip": "198.51.100.7"}
    assert event["host"] == {"ip": "198.51.100.7"}
    assert event["event"]["ingested"] == RECEIVED
    assert event["labels"]["service"] == {"name": "other"}


def test_invalid_source_ip_is_left_out() -> None:
    event = parse_batch(batch(["x"], source_ip="not-an-ip"))["events"][0]
    assert "source" not in event
    assert "host" not in event


def test_truncated_and_invalid_utf8_positions_are_tagged() -> None:
    parsed = parse_batch(batch(["a", HADOOP, "c\ufffd"], truncated=[1], invalid_utf8=[2]))
    tags = [event.get("tags", []) for event in parsed["events"]]
    assert tags == [["unparsed"], ["truncated"], ["unparsed", "invalid_utf8"]]


def test_structured_json_input() -> None:
    record = {"level": "error", "msg": "boom", "user": {"id": 7}, "ratio": float("nan")}
    event = parse_batch(batch([record], content_kind="json"))["events"][0]
    assert event["message"] == "boom"
    assert event["log"]["level"] == "error"
    assert event["labels"] == {"user": {"id": 7}, "ratio": None}
    assert (
        event["event"]["original"] == '{"level":"error","msg":"boom","user":{"id":7},"ratio":null}'
    )
    assert event["@timestamp"] == RECEIVED


def test_keep_original_off() -> None:
    config = ParserConfig(keep_original=False)
    event = parse_batch(batch(["free text"]), config)["events"][0]
    assert "original" not in event["event"]
    assert event["message"] == "free text"


def test_default_zone_and_per_service_override() -> None:
    line = "2025-04-18 12:00:00,000 INFO [main] com.example.App: hi"
    paris = ZoneInfo("Europe/Paris")
    by_default = ParserConfig(default_zone=paris)
    overridden = ParserConfig(default_zone=paris, zones={"billing": None})
    assert parse_batch(batch([line]), by_default)["events"][0]["@timestamp"] == (
        "2025-04-18T10:00:00.000Z"
    )
    assert parse_batch(batch([line]), overridden)["events"][0]["@timestamp"] == (
        "2025-04-18T12:00:00.000Z"
    )


def test_pinned_format_is_the_only_one_tried() -> None:
    config = ParserConfig(formats={"billing": BY_NAME["logfmt"]})
    events = parse_batch(batch(["level=info msg=hi", HADOOP]), config)["events"]
    assert events[0]["event"]["dataset"] == "logfmt"
    assert events[1]["tags"] == ["unparsed"]
    assert events[1]["message"] == HADOOP


def test_a_poison_line_affects_only_itself() -> None:
    real = application.parse

    def explode_on_poison(line: str, clock: Any) -> Any:
        if "POISON" in line:
            raise RuntimeError("format bug")
        return real(line, clock)

    fmt = application.FORMAT
    object.__setattr__(fmt, "parse", explode_on_poison)
    try:
        poison = "2025-04-18 10:00:00,000 INFO [main] com.x.Y: POISON"
        events = parse_batch(batch([HADOOP, poison, HADOOP]))["events"]
    finally:
        object.__setattr__(fmt, "parse", real)
    assert [e.get("tags") for e in events] == [None, ["unparsed"], None]
    assert events[1]["message"] == poison
    assert events[2]["log"]["level"] == "info"


def test_the_last_winning_format_is_tried_first() -> None:
    identity = BatchIdentity.of("b", "s", "", RECEIVED)
    calls: list[str] = []
    logfmt = BY_NAME["logfmt"]
    real = logfmt.parse

    def counting(line: str, clock: Any) -> Any:
        calls.append(line)
        return real(line, clock)

    object.__setattr__(logfmt, "parse", counting)
    try:
        events = parse_lines(["a=1 b=2", "a=3 b=4", "a=5 b=6"], identity)
    finally:
        object.__setattr__(logfmt, "parse", real)
    assert [e["event"]["dataset"] for e in events] == ["logfmt"] * 3
    # once it has won, logfmt is asked first and only once per line
    assert calls == ["a=1 b=2", "a=3 b=4", "a=5 b=6"]


def test_parse_line_single() -> None:
    identity = BatchIdentity.of("b", "s", "10.0.0.1", RECEIVED)
    event = parse_line(HADOOP, identity, position=41)
    assert event["event"]["id"] == "b-41"
    assert event["message"] == "Created"


def test_message_keeps_every_separator_of_the_original_format() -> None:
    line = "2025-04-18 10:12:01,123 - 10.0.0.7 - 4242 - ERROR - resolve - dns.py - a - b-c - d"
    event = parse_line(line, BatchIdentity.of("b", "s", "", RECEIVED))
    assert event["message"] == "a - b-c - d"


def test_received_at_is_normalised_and_an_unreadable_one_replaced() -> None:
    event = parse_batch(batch(["x"], received_at="2025-04-18T12:15:00+02:00"))["events"][0]
    assert event["@timestamp"] == event["event"]["ingested"] == "2025-04-18T10:15:00.000Z"
    event = parse_batch(batch(["x"], received_at="yesterday"))["events"][0]
    assert event["event"]["ingested"].endswith("Z")
    assert len(event["event"]["ingested"]) == len("2025-04-18T10:15:00.000Z")


def test_empty_keys_are_renamed_in_labels() -> None:
    event = parse_batch(batch(['{"": 1, "a": {"": 2}, "msg": "m"}']))["events"][0]
    assert event["labels"] == {"_": 1, "a": {"_": 2}}


def test_objects_that_cannot_be_written_as_json_cost_only_themselves() -> None:
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(5000):
        cursor["a"] = {}
        cursor = cursor["a"]
    events = parse_batch(batch([deep, {"msg": "fine"}, 42], content_kind="json"))["events"]
    assert events[0]["tags"] == ["unparsed"]
    assert events[0]["message"] == "<dict that cannot be written as JSON>"
    assert events[1]["message"] == "fine"
    assert events[2]["message"] == "42"
    assert events[2]["tags"] == ["unparsed"]
