"""The structure finder: timestamp shapes, level spellings, header fields, batch learning."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from logagg.parser import BatchIdentity, ParserConfig, parse_line, parse_lines
from logagg.parser.fields import Fields
from logagg.parser.finder import DATASET, MEMORY_LIMIT, Finder, Memory, find
from logagg.parser.timestamps import Clock

RECEIVED = "2026-01-15T12:00:00.000Z"
FINDER_ONLY = ParserConfig(dedicated_formats=False)


def clock(received: str = RECEIVED) -> Clock:
    moment = datetime.fromisoformat(received.replace("Z", "+00:00"))
    return Clock.for_batch(moment, None, "UTC", timedelta(days=1))


def found(line: str, received: str = RECEIVED) -> Fields:
    fields = find(line, clock(received))
    assert fields is not None, line
    return fields


def batch(lines: list[str], memory: Memory | None = None, service: str = "svc") -> list[Fields]:
    results = Finder(clock(), memory if memory is not None else Memory(), service).parse_all(lines)
    assert all(fields is not None for fields in results), lines
    return [fields for fields in results if fields is not None]


# One line per catalogue shape and writing, with the UTC instant it stands for.
STAMPS = [
    ("2025-03-07T09:01:02Z msg", "2025-03-07T09:01:02.000Z"),
    ("2025-03-07T09:01:02.123456789+01:00 msg", "2025-03-07T08:01:02.123456Z"),
    ("2025-03-07 09:01:02,123 msg", "2025-03-07T09:01:02.123Z"),
    ("2025-03-07 09:01:02.5 -0200 msg", "2025-03-07T11:01:02.500Z"),
    ("2025-03-07 09:01:02 UTC msg", "2025-03-07T09:01:02.000Z"),
    ("2025-03-07 09:01:02 PST msg", "2025-03-07T17:01:02.000Z"),
    ("2025-03-07 09:01:02 CEST msg", "2025-03-07T07:01:02.000Z"),
    ("2025-03-07_09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("2025-03-07-09.01.02.675872 msg", "2025-03-07T09:01:02.675872Z"),
    ("2025-03-07|09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("2025-03-07 09:01 msg", "2025-03-07T09:01:00.000Z"),
    ("2025/03/07 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("2025.03.07 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("07.03.2025 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("25/12/2025 09:01:02 msg", "2025-12-25T09:01:02.000Z"),
    ("12/25/2025 09:01:02 msg", "2025-12-25T09:01:02.000Z"),
    ("12/25/2025 9:01:02 PM msg", "2025-12-25T21:01:02.000Z"),
    ("12/25/25 12:01:02 AM msg", "2025-12-25T00:01:02.000Z"),
    ("17/06/09 20:10:40 msg", "2017-06-09T20:10:40.000Z"),
    ("07-Mar-2025 09:01:02.123 msg", "2025-03-07T09:01:02.123Z"),
    ("07/Mar/2025:09:01:02 +0000 msg", "2025-03-07T09:01:02.000Z"),
    ("07 Mar 2025 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("Fri, 07 Mar 2025 09:01:02 GMT msg", "2025-03-07T09:01:02.000Z"),
    ("20250307 090102 msg", "2025-03-07T09:01:02.000Z"),
    ("20250307090102 msg", "2025-03-07T09:01:02.000Z"),
    ("20250307T090102Z msg", "2025-03-07T09:01:02.000Z"),
    ("20250307-09:01:02:606 msg", "2025-03-07T09:01:02.606Z"),
    ("250307 090102 msg", "2025-03-07T09:01:02.000Z"),
    ("250307 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("Mar  7 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("Mar 7 09:01:02.123 msg", "2025-03-07T09:01:02.123Z"),
    ("March 7 2025 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("Mar 7, 2025 9:01:02 AM msg", "2025-03-07T09:01:02.000Z"),
    ("Fri Mar 07 09:01:02 2025 msg", "2025-03-07T09:01:02.000Z"),
    ("Friday Mar 07 09:01:02 2025 msg", "2025-03-07T09:01:02.000Z"),
    ("Fri Mar 07 09:01:02 UTC 2025 msg", "2025-03-07T09:01:02.000Z"),
    ("Fri Mar 07 2025 09:01:02 GMT+0100 msg", "2025-03-07T08:01:02.000Z"),
    ("[Fri Mar 07 09:01:02.902022 2025] msg", "2025-03-07T09:01:02.902022Z"),
    ("[2025-03-07 09:01:02] msg", "2025-03-07T09:01:02.000Z"),
    ("(2025-03-07 09:01:02) msg", "2025-03-07T09:01:02.000Z"),
    ("<2025-03-07 09:01:02> msg", "2025-03-07T09:01:02.000Z"),
    ("1741338062 msg", "2025-03-07T09:01:02.000Z"),
    ("1741338062.25 msg", "2025-03-07T09:01:02.250Z"),
    ("1741338062123 msg", "2025-03-07T09:01:02.123Z"),
    ("[1741338062] msg", "2025-03-07T09:01:02.000Z"),
    ("@4000000067cab5ce075bcd15 msg", "2025-03-07T09:01:02.123Z"),
    ("03-07 09:01:02.123 msg", "2025-03-07T09:01:02.123Z"),
    ("03/07 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("07.03 09:01:02 msg", "2025-03-07T09:01:02.000Z"),
    ("[03.27 09:01:02] msg", "2025-03-27T09:01:02.000Z"),
    ("I0307 09:01:02.123456 msg", "2025-03-07T09:01:02.123456Z"),
    ("09:01:02.345 msg", "2026-01-15T09:01:02.345Z"),
]


@pytest.mark.parametrize(("line", "expected"), STAMPS)
def test_timestamp_shapes(line: str, expected: str) -> None:
    fields = found(line)
    assert fields["@timestamp"] == expected
    assert fields["message"] == "msg"
    assert fields["event"]["dataset"] == DATASET


def test_a_yearless_date_takes_the_year_nearest_before_the_receive_time() -> None:
    assert found("Dec 31 23:59:59 msg")["@timestamp"] == "2025-12-31T23:59:59.000Z"
    assert found("Jan 15 11:00:00 msg")["@timestamp"] == "2026-01-15T11:00:00.000Z"
    assert found("12-31 23:59:59.000 msg")["@timestamp"] == "2025-12-31T23:59:59.000Z"


def test_a_time_alone_later_than_the_receive_time_is_yesterdays() -> None:
    assert found("23:59:58 msg")["@timestamp"] == "2026-01-14T23:59:58.000Z"
    assert found("11:59:00 msg")["@timestamp"] == "2026-01-15T11:59:00.000Z"


@pytest.mark.parametrize(
    "line",
    [
        "2025-13-45 99:99:99 almost a timestamp",
        "2025-02-07 25:01:02 hour 25",
        "2025-02-07 09:61:02 minute 61",
        "32.01.2025 09:01:02 day 32",
        "Foo 07 09:01:02 no such month",
        "Mar 32 09:01:02 no such day",
        "12/25/2025 13:01:02 PM thirteen PM",
        "20251307 090102 month 13",
        "just words with 2025-03-07 09:01:02 inside",
    ],
)
def test_almost_timestamps_stay_unparsed(line: str) -> None:
    assert find(line, clock()) is None
    event = parse_line(line, BatchIdentity.of("b", "svc", "", RECEIVED), FINDER_ONLY)
    assert event["tags"] == ["unparsed"]
    assert event["@timestamp"] == RECEIVED


def test_epoch_numbers_only_in_range_and_only_leading() -> None:
    assert find("0946684799 before 2000", clock()) is None
    assert find("4102444800 after 2100", clock()) is None
    # not the first token: a number in the header, not a time
    fields = found("2025-03-07 09:01:02 1741338062 msg")
    assert fields["@timestamp"] == "2025-03-07T09:01:02.000Z"
    assert find("count 1741338062 msg", clock()) is None


def test_a_real_date_that_does_not_exist_is_tagged_invalid() -> None:
    event = parse_line(
        "2025-02-30 09:01:02 ERROR feb 30", BatchIdentity.of("b", "svc", "", RECEIVED), FINDER_ONLY
    )
    assert event["tags"] == ["timestamp_invalid"]
    assert event["@timestamp"] == RECEIVED
    assert event["log"]["level"] == "error"


LEVELS = [
    ("INFO", "info"),
    ("Info", "info"),
    ("info", "info"),
    ("[INFO]", "info"),
    ("[info ]", "info"),
    ("<warn>", "warn"),
    ("(ERROR)", "error"),
    ("INFO:", "info"),
    ("WARNING", "warning"),
    ("warn", "warn"),
    ("WRN", "warn"),
    ("err", "err"),
    ("ERROR", "error"),
    ("SEVERE", "severe"),
    ("FATAL", "fatal"),
    ("crit", "crit"),
    ("CRITICAL", "critical"),
    ("NOTICE", "notice"),
    ("[notice]", "notice"),
    ("ALERT", "alert"),
    ("emerg", "emerg"),
    ("TRACE", "trace"),
    ("DEBUG", "debug"),
    ("dbug", "debug"),
    ("VERBOSE", "verbose"),
    ("FINE", "fine"),
    ("FINER", "finer"),
    ("FINEST", "finest"),
    ("CONFIG", "config"),
    ("LOG:", "log"),
    ("[core:error]", "error"),
    ("[Note]", "note"),
]


@pytest.mark.parametrize(("token", "level"), LEVELS)
def test_level_spellings(token: str, level: str) -> None:
    fields = found(f"2025-03-07 09:01:02 {token} the message")
    assert fields["log"]["level"] == level
    assert fields["message"] == "the message"


@pytest.mark.parametrize(("letter", "level"), [("I", "info"), ("W", "warn"), ("E", "error"),
                                               ("D", "debug"), ("V", "verbose"), ("F", "fatal"),
                                               ("T", "trace")])  # fmt: skip
def test_single_letters_are_levels_where_the_batch_shows_them(letter: str, level: str) -> None:
    lines = [f"03-07 09:01:0{n}.000  1234  5678 {letter} Tag: message {n}" for n in range(4)]
    for fields in batch(lines):
        assert fields["log"] == {"level": level, "logger": "Tag"}
        assert fields["process"] == {"pid": 1234, "thread": {"id": 5678}}
        assert fields["message"].startswith("message ")


def test_a_single_letter_read_alone_is_not_a_level() -> None:
    fields = found("2025-03-07 09:01:02 I think so")
    assert "log" not in fields
    assert fields["message"] == "I think so"


def test_a_level_word_in_the_message_is_not_a_level() -> None:
    fields = found("2025/03/07 09:01:02 just a Go log line without level")
    assert "log" not in fields
    assert fields["message"] == "just a Go log line without level"
    fields = found("Mar  7 09:01:02 host app[12]: could not connect, ERROR 42")
    assert "level" not in fields.get("log", {})
    assert fields["message"] == "could not connect, ERROR 42"


HEADERS: list[tuple[str, dict[str, Any], str]] = [
    (
        "2025-03-07 09:01:02,123 INFO [main] org.example.Service: started",
        {"log": {"level": "info", "logger": "org.example.Service"},
         "process": {"thread": {"name": "main"}}},
        "started",
    ),
    (
        "2025-03-07 09:01:02,123 - app.db - WARNING - slow query",
        {"log": {"level": "warning", "logger": "app.db"}},
        "slow query",
    ),
    (
        "2025-03-07 09:01:02.123  INFO 4242 --- [  main] c.e.App : Started App",
        {"log": {"level": "info", "logger": "c.e.App"},
         "process": {"pid": 4242, "thread": {"name": "main"}}},
        "Started App",
    ),
    (
        "Mar  7 09:01:02 web-1 sshd(pam_unix)[19939]: check pass; user unknown",
        {"host": {"hostname": "web-1"}, "process": {"name": "sshd(pam_unix)", "pid": 19939}},
        "check pass; user unknown",
    ),
    (
        "I0307 09:01:02.123456    1234 server.go:12] listening",
        {"log": {"level": "info", "origin": {"file": {"name": "server.go", "line": 12}}},
         "process": {"pid": 1234}},
        "listening",
    ),
    (
        "[2025-03-07T09:01:02Z WARN  my_crate::net] retrying",
        {"log": {"level": "warn", "logger": "my_crate::net"}},
        "retrying",
    ),
    (
        "2025-03-07 09:01:02.123 UTC [77] LOG:  database system is ready",
        {"log": {"level": "log"}, "process": {"pid": 77}},
        "database system is ready",
    ),
    (
        "INFO  [main] 2025-03-07 09:01:02,123 Daemon.java:123 - Starting",
        {"log": {"level": "info", "origin": {"file": {"name": "Daemon.java", "line": 123}}},
         "process": {"thread": {"name": "main"}}},
        "Starting",
    ),
    (
        "[2025-03-07T09:01:02,123][INFO ][o.e.n.Node   ] [node-1] started",
        {"log": {"level": "info", "logger": "o.e.n.Node"},
         "process": {"thread": {"name": "node-1"}}},
        "started",
    ),
    (
        "2025-03-07 09:01:02.008 25746 INFO nova.api.server [req-1 a b] GET /v2",
        {"log": {"level": "info", "logger": "nova.api.server"}, "process": {"pid": 25746},
         "labels": {"context": "req-1 a b", "request_id": "req-1"}},
        "GET /v2",
    ),
    (
        "2025/03/07 09:01:02 [error] 31#7: *5 open() failed",
        {"log": {"level": "error"}, "process": {"pid": 31, "thread": {"id": 7}}},
        "open() failed",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("line", "header", "message"), HEADERS)
def test_header_fields(line: str, header: dict[str, Any], message: str) -> None:
    fields = found(line)
    for name, value in header.items():
        assert fields[name] == value, name
    assert set(fields) - {"@timestamp", "event", "message"} == set(header)
    assert fields["message"] == message


def test_lines_without_a_timestamp_but_with_a_leading_level() -> None:
    assert found("WARNING:root:disk almost full") == {
        "event": {"dataset": DATASET},
        "log": {"level": "warning", "logger": "root"},
        "message": "disk almost full",
    }
    fields = found("[ERROR] cannot open file")
    assert fields["log"] == {"level": "error"}
    assert "@timestamp" not in fields
    assert find("Error is just a word here", clock()) is None


def test_one_odd_line_does_not_mislead_the_batch() -> None:
    lines = [f"2025-03-07 09:01:0{n} Connected to peer {n}" for n in range(6)]
    lines.insert(3, "2025-03-07 09:01:09 ERROR: is what the peer said")
    results = batch(lines)
    assert all("log" not in fields for fields in results)
    assert results[3]["message"] == "ERROR: is what the peer said"


def test_a_date_in_the_message_does_not_move_the_timestamp() -> None:
    lines = [f"2025-03-07 09:01:0{n} INFO app: run {n}" for n in range(5)]
    lines.append("ready INFO app: 2024-01-01 00:00:00 was the last run")
    results = Finder(clock(), Memory(), "svc").parse_all(lines)
    assert results[-1] is None


def test_the_batch_decides_between_day_first_and_month_first() -> None:
    day_first = ["03/04/2025 09:01:02 a", "13/04/2025 09:01:02 b", "05/04/2025 09:01:02 c"]
    stamps = [fields["@timestamp"][:10] for fields in batch(day_first)]
    assert stamps == ["2025-04-03", "2025-04-13", "2025-04-05"]
    month_first = ["03/04/2025 09:01:02 a", "03/14/2025 09:01:02 b"]
    stamps = [fields["@timestamp"][:10] for fields in batch(month_first)]
    assert stamps == ["2025-03-04", "2025-03-14"]


def test_a_remembered_structure_is_reused_and_relearned_when_lines_disagree() -> None:
    memory = Memory()
    lines = [f"03-07 09:01:0{n}.000  1234  5678 W Tag: message {n}" for n in range(4)]
    batch(lines, memory)
    assert len(memory) == 1
    # one line alone would not show a letter level; the remembered structure does
    (alone,) = batch(["03-07 09:02:00.000  1234  5678 E Tag: failed"], memory)
    assert alone["log"]["level"] == "error"
    (fresh,) = batch(["03-07 09:02:00.000  1234  5678 E Tag: failed"], Memory())
    assert "level" not in fresh.get("log", {})
    # the service now writes another layout: the batch learns it
    other = [f"2025-03-07 09:03:0{n} [worker-{n}] DEBUG job {n}" for n in range(3)]
    results = batch(other, memory)
    assert [fields["log"]["level"] for fields in results] == ["debug"] * 3
    remembered = memory.get("svc")
    assert remembered is not None
    assert remembered.kinds == "BL"


def test_memory_is_a_bounded_lru() -> None:
    memory = Memory(limit=2)
    for service in ("a", "b", "c"):
        batch(["2025-03-07 09:01:02 INFO x"], memory, service)
    assert memory.get("a") is None
    assert memory.get("c") is not None
    assert len(memory) == 2
    memory.clear()
    assert len(memory) == 0
    assert MEMORY_LIMIT >= 100


def test_finder_only_config_leaves_text_lines_to_the_finder() -> None:
    identity = BatchIdentity.of("b", "svc", "", RECEIVED)
    line = "2025-03-07 09:01:02,123 INFO [main] org.example.Service: started"
    assert parse_line(line, identity)["event"]["dataset"] == "app.log"
    event = parse_line(line, identity, FINDER_ONLY)
    assert event["event"]["dataset"] == DATASET
    assert event["log"] == {"level": "info", "logger": "org.example.Service"}
    json_line = '{"message": "hi", "level": "warn"}'
    assert parse_line(json_line, identity, FINDER_ONLY)["event"]["dataset"] == "json"


def test_leading_whitespace_is_ignored_but_kept_in_the_original() -> None:
    identity = BatchIdentity.of("b", "svc", "", RECEIVED)
    for config in (ParserConfig(), FINDER_ONLY):
        event = parse_lines(["   2025-03-07 09:01:02,123 ERROR [main] a.b.C: boom"], identity,
                            config, memory=Memory())[0]  # fmt: skip
        assert event["log"]["level"] == "error"
        assert event["message"] == "boom"
        assert event["event"]["original"].startswith("   2025")


def test_the_padded_original_logagg_line() -> None:
    line = (
        "2025-03-15 01:56:59,303 - 127.0.0.1       - 4109 - INFO - get_dns - server.py - "
        "Querying DNS - twice"
    )
    event = parse_line(line, BatchIdentity.of("b", "svc", "", RECEIVED))
    assert event["event"]["dataset"] == "logagg.line"
    assert event["log"]["level"] == "info"
    assert event["client"] == {"ip": "127.0.0.1"}
    assert event["process"] == {"pid": 4109}
    assert event["message"] == "Querying DNS - twice"


KIB32 = 32 * 1024
HOSTILE = [
    " " * KIB32,
    "1" * KIB32,
    "[" * KIB32,
    '"' * KIB32,
    "=" * KIB32,
    "-" * KIB32,
    ":" * KIB32,
    "." * KIB32,
    "/" * KIB32,
    "Jan " * (KIB32 // 4),
    "January" * (KIB32 // 7),
    "INFO " * (KIB32 // 5),
    "[INFO] " * (KIB32 // 7),
    "2025-01-01 " * (KIB32 // 11),
    "2025-01-01 00:00:00 " * (KIB32 // 20),
    "[2025-01-01 00:00:00" * (KIB32 // 20),
    "Mon Jan 01 " * (KIB32 // 11),
    "1 " * (KIB32 // 2),
    "1:" * (KIB32 // 2),
    "a[" * (KIB32 // 2),
    "[a]" * (KIB32 // 3),
    "2025-01-01 00:00:00 INFO " + "a." * (KIB32 // 2),
    "2025-01-01 00:00:00 INFO " + "[x" * (KIB32 // 2),
    "2025-01-01 00:00:00 " + "x:" * (KIB32 // 2),
    "2025-01-01 00:00:00 " + "1#" * (KIB32 // 2),
    "Mar  7 09:01:02 host " + "p(" * (KIB32 // 2),
    "12/" * (KIB32 // 3),
    "01-01 " * (KIB32 // 6),
]


@pytest.mark.parametrize("line", HOSTILE, ids=[f"hostile-{n}" for n in range(len(HOSTILE))])
def test_hostile_lines_cost_linear_time(line: str) -> None:
    identity = BatchIdentity.of("b", "svc", "", RECEIVED)
    started = time.perf_counter()
    find(line, clock())
    event = parse_line(line, identity, FINDER_ONLY)
    parse_line(line, identity)
    elapsed = time.perf_counter() - started
    assert event["event"]["original"] == line
    assert elapsed < 1.0, f"{elapsed:.2f} s"  # a bound far above normal: super-linear only


def test_a_finder_failure_costs_no_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Finder, lines: list[str]) -> list[Fields | None]:
        raise RuntimeError("bug")

    monkeypatch.setattr(Finder, "parse_all", broken)
    events = parse_lines(["2025-03-07 09:01:02 x", "y"], BatchIdentity.of("b", "s", "", RECEIVED),
                         FINDER_ONLY, memory=Memory())  # fmt: skip
    assert [event["message"] for event in events] == ["2025-03-07 09:01:02 x", "y"]
    assert all(event["tags"] == ["unparsed"] for event in events)


def test_receive_time_is_utc() -> None:
    assert clock().received_iso == RECEIVED
    assert datetime.fromisoformat(RECEIVED.replace("Z", "+00:00")).tzinfo == UTC


def test_marks_and_columns_where_the_batch_shows_them() -> None:
    redis = [
        "1234:M 07 Mar 2025 09:01:02.123 * Ready to accept connections",
        "1234:M 07 Mar 2025 09:01:03.123 # WARNING overcommit",
        "1234:M 07 Mar 2025 09:01:04.123 - Accepted 127.0.0.1:50000",
        "1234:M 07 Mar 2025 09:01:05.123 . Client closed",
    ]
    results = batch(redis)
    assert [fields["log"]["level"] for fields in results] == [
        "notice", "warning", "verbose", "debug",
    ]  # fmt: skip
    assert results[1]["message"] == "WARNING overcommit"
    assert all(fields["process"] == {"pid": 1234} for fields in results)
    mongo = [
        f"2025-03-07T09:01:0{n}.123+0000 I  NETWORK  [conn{n}] end connection" for n in range(3)
    ]
    for fields in batch(mongo):
        assert fields["log"] == {"level": "info", "logger": "NETWORK"}
        assert fields["message"] == "end connection"


def test_log4j_trailing_logger_and_kernel_uptime() -> None:
    fields = found("[2025-03-07 09:01:02,123] INFO [KafkaServer id=0] started (kafka.server.Kafka)")
    assert fields["log"] == {"level": "info", "logger": "kafka.server.Kafka"}
    assert fields["message"] == "[KafkaServer id=0] started"
    fields = found("[   12.345678] e1000e 0000:00:19.0 eth0: NIC Link is Up")
    assert "@timestamp" not in fields
    assert "process" not in fields
    assert fields["message"] == "e1000e 0000:00:19.0 eth0: NIC Link is Up"


def test_a_word_after_an_application_time_is_no_syslog_host() -> None:
    identity = BatchIdentity.of("b", "svc", "", RECEIVED)
    event = parse_line("2025-03-07T09:01:02.123Z [INFO]  agent: Consul agent running!", identity)
    assert event["event"]["dataset"] == DATASET
    assert event["log"] == {"level": "info", "logger": "agent"}
    assert "hostname" not in event.get("host", {})
    event = parse_line("2025-03-07T09:01:02.123Z web01 sshd[7]: Accepted key", identity)
    assert event["event"]["dataset"] == "syslog.rfc3164"
    assert event["host"]["hostname"] == "web01"


def test_spring_boot_lines_by_the_application_format() -> None:
    identity = BatchIdentity.of("b", "svc", "", RECEIVED)
    line = (
        "2025-03-07T09:01:02.123Z  INFO 1234 --- [myapp] [           main] "
        "o.a.c.c.C.[Tomcat].[localhost].[/]       : Initializing Spring"
    )
    event = parse_line(line, identity)
    assert event["event"]["dataset"] == "app.log"
    assert event["log"] == {"level": "info", "logger": "o.a.c.c.C.[Tomcat].[localhost].[/]"}
    assert event["process"] == {"pid": 1234, "thread": {"name": "main"}}
    assert event["message"] == "Initializing Spring"


def test_pipe_separated_headers_by_the_batch() -> None:
    lines = [
        "2025-03-07 09:01:02.606|INFO|4242|worker started",
        "2025-03-07 09:01:03.606|WARN|4242|queue depth 1514",
        "2025-03-07 09:01:04.606|ERROR|4242|a message | with a bar",
    ]
    results = batch(lines)
    assert [fields["message"] for fields in results] == [
        "worker started", "queue depth 1514", "a message | with a bar",
    ]  # fmt: skip
    assert [fields["log"]["level"] for fields in results] == ["info", "warn", "error"]
    assert all(fields["process"] == {"pid": 4242} for fields in results)
    assert results[0]["@timestamp"] == "2025-03-07T09:01:02.606Z"
