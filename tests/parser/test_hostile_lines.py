"""Crafted 32 KiB lines: every format, and the parser end to end, in linear time.

Each line is a format's header (valid up to where the hostile text starts) followed by
a long run of the characters formats split on. A regular expression that backtracks
super-linearly takes seconds to minutes on such a line; a linear one takes
milliseconds. The bound of one second per line is far above normal, so this is not a
timing test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from logagg.parser import BatchIdentity, parse_line, parse_lines
from logagg.parser.formats import BY_NAME, Format, custom_format
from logagg.parser.formats.pattern import GROK
from logagg.parser.parsing import DEFAULT_CONFIG, clock_for

SIZE = 32 * 1024
BOUND = 1.0  # seconds for one line
IDENTITY = BatchIdentity.of("b", "svc", "10.0.0.1", "2025-01-02T04:00:00.000Z")
CLOCK = clock_for(IDENTITY.service, IDENTITY.received_at, DEFAULT_CONFIG)

# Headers of every format, each cut where the format's variable part begins.
PREFIXES = (
    "",
    "x ",
    "{",
    '{"message":"',
    '{"a":[',
    "2025-01-02 03:04:05,123 - host - 1 - INFO - logger - thread - ",
    "2025-01-02 03:04:05,123 - ",
    "2025-01-02 03:04:05,123 ",
    "2025-01-02 03:04:05,123 INFO ",
    "2025-01-02 03:04:05,123 INFO [",
    "2025-01-02 03:04:05,123 INFO [main] ",
    "2025-01-02 03:04:05,123 INFO [main] a.b",
    "2025-01-02 03:04:05,123 - INFO  [",
    "2025-01-02 03:04:05,123 [main] INFO ",
    "2025-01-02 03:04:05,123 - a - ",
    "2025-01-02T03:04:05.123456789+01:00 ",
    "17/06/09 20:10:40 INFO ",
    "081109 203615 148 INFO ",
    "nova-api.log.1 2017-05-16 00:00:00.008 25746 INFO nova.api ",
    "nova-api.log",
    "2025/01/02 03:04:05 ",
    "<13>1 2025-01-01T00:00:00Z host app 1 - [",
    "<13>1 2025-01-01T00:00:00Z host app 1 - [a",
    '<13>1 2025-01-01T00:00:00Z host app 1 - [a b="',
    "<13>1 2025-01-01T00:00:00Z host app 1 - - ",
    "<13>1 ",
    "1 - - - - - ",
    "<13>Jan  2 03:04:05 host ",
    "Jan  2 03:04:05 host prog[",
    "Jan  2 03:04:05 host prog: ",
    "2025-01-02T03:04:05Z host ",
    '127.0.0.1 - - [02/Jan/2025:03:04:05 +0000] "',
    '127.0.0.1 - - [02/Jan/2025:03:04:05 +0000] "GET / HTTP/1.1" 200 1 "',
    '127.0.0.1 - - [02/Jan/2025:03:04:05 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
    "127.0.0.1 - - [",
    "[Thu Jan 02 03:04:05 2025] [",
    "[Thu Jan 02 03:04:05.123456 2025] [core:error] [pid 1:tid 2] [client ",
    "[Thu Jan 02 03:04:05 2025] [error] ",
    "2025/01/02 03:04:05 [error] 1#1: *1 ",
    "2025/01/02 03:04:05 [error] 1#1: client: ",
    "a=b ",
    'level=info msg="',
    "level=info msg=",
)
# The runs: single characters formats split on, and mixes that open a structure again
# and again without closing it.
RUNS = (
    " ",
    "0",
    "[",
    "]",
    '"',
    "=",
    "-",
    ":",
    ".",
    "/",
    "<",
    "\t",
    "\\",
    "a",
    "[a=",
    'key="',
    'a="b" ',
    "[=]",
    "=]",
    "[]",
    "[[]",
    " -",
    " - ",
    "a.",
    "a ",
    "a=b ",
    "0:",
    "0 ",
    "0.",
    '\\"',
    "] [",
    "*",
    ", client: ",
    "kid1| ",
)


# What comes after a run: nothing, a character no format expects there (so that a match
# that reached the end fails late), or the closing text that makes a structure whole.
TAILS = ("", "\x00x", "=]", '"]', "}")


def _run(prefix: str, run: str, tail: str = "") -> str:
    room = SIZE - len(prefix) - len(tail)
    return prefix + (run * (room // len(run) + 1))[:room] + tail


def hostile_lines() -> Iterator[str]:
    """Every prefix x run x tail, then every prefix with an opening run and a closing one.

    Generated one at a time: together they are hundreds of megabytes.
    """
    for prefix in PREFIXES:
        for run in RUNS:
            for tail in TAILS:
                yield _run(prefix, run, tail)
    half = SIZE // 2
    for prefix in PREFIXES:
        for opening, closing in (("[", "=]"), ("[", "]"), ('"', "\\"), ("{", "}"), ("[a=", '"')):
            yield _run(prefix + _run("", opening)[: half - len(prefix)], closing)


# Custom formats made of each predefined sub-pattern, alone and in a typical layout.
CUSTOM = [
    custom_format(f"{name.lower()}_{number}", pattern)
    for name in sorted(GROK)
    for number, pattern in enumerate(
        (
            f"%{{{name}:labels.x}}$",
            f"%{{{name}:labels.x}} %{{GREEDYDATA:message}}",
            f"%{{TIMESTAMP_ISO8601:timestamp}} %{{LOGLEVEL:level}} %{{{name}:labels.x}} x",
        )
    )
]


def _timed(call: Callable[[str], Any], lines: Iterable[str]) -> list[tuple[float, str]]:
    """The lines that took longer than the bound, with their time, slowest first."""
    slow = []
    for line in lines:
        started = time.perf_counter()
        call(line)
        elapsed = time.perf_counter() - started
        if elapsed > BOUND:
            slow.append((elapsed, line[:80]))
    return sorted(slow, reverse=True)


def test_the_lines_are_32_kib_and_reach_every_header() -> None:
    count = 0
    for line in hostile_lines():
        assert len(line) == SIZE
        count += 1
    assert count > len(PREFIXES) * len(RUNS) * len(TAILS)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_format_reads_hostile_lines_in_linear_time(name: str) -> None:
    fmt: Format = BY_NAME[name]

    def parse(line: str) -> None:
        fields = fmt.parse(line, CLOCK)
        assert fields is None or isinstance(fields, dict)

    assert _timed(parse, hostile_lines()) == []


@pytest.mark.parametrize("fmt", CUSTOM, ids=[fmt.name for fmt in CUSTOM])
def test_custom_formats_of_every_sub_pattern_read_hostile_lines_in_linear_time(
    fmt: Format,
) -> None:
    lines = (
        _run(prefix, run, tail)
        for prefix in ("", "2025-01-02 03:04:05 INFO ")
        for run in RUNS
        for tail in TAILS
    )
    assert _timed(lambda line: fmt.parse(line, CLOCK), lines) == []


def test_parse_line_reads_hostile_lines_in_linear_time() -> None:
    def parse(line: str) -> None:
        event = parse_line(line, IDENTITY)
        assert event["event"]["original"] == line

    assert _timed(parse, hostile_lines()) == []


def test_parse_lines_gives_one_event_per_hostile_line_in_linear_time() -> None:
    def parse(line: str) -> None:
        events = parse_lines([line], IDENTITY)
        assert len(events) == 1
        assert events[0]["event"]["original"] == line

    assert _timed(parse, hostile_lines()) == []


def test_hostile_lines_after_a_line_that_opens_a_trace() -> None:
    # Runs of blanks and tabs may continue a stack trace: the joining must be linear too.
    openers = ("2025-01-02 03:04:05,123 ERROR x", "java.lang.Exception: x", "Traceback (most")
    for opener in openers:
        for run in (" ", "\t", " at", "\tat ", "... ", " ...", ".", "Caused by: "):
            line = _run("", run)
            started = time.perf_counter()
            events = parse_lines([opener, line, "next"], IDENTITY)
            elapsed = time.perf_counter() - started
            assert elapsed < BOUND * 3, (opener, run, elapsed)
            assert 1 <= len(events) <= 3
            assert "\n".join(event["message"] for event in events).endswith("next")
