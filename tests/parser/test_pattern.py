"""Custom patterns: grok references, raw named groups, ECS names, labels for the rest."""

from __future__ import annotations

import pytest

from logagg.parser import BatchIdentity, ParserConfig, parse_line
from logagg.parser.formats import PatternError, custom_format


def parse(pattern: str, line: str) -> dict[str, object]:
    config = ParserConfig(formats={"svc": custom_format("app", pattern)})
    return parse_line(line, BatchIdentity.of("b", "svc", "", "2025-04-18T12:00:00.000Z"), config)


def test_grok_and_raw_groups() -> None:
    event = parse(
        r"%{TIMESTAMP_ISO8601:timestamp} (?P<process__pid>\d+) %{IP:client.ip} "
        r"%{WORD:order_id} %{GREEDYDATA:message}",
        "2025-04-18T10:00:00Z 4242 10.1.2.3 A17 paid - in full",
    )
    assert event["@timestamp"] == "2025-04-18T10:00:00.000Z"
    assert event["process"] == {"pid": 4242}
    assert event["client"] == {"ip": "10.1.2.3"}
    assert event["labels"] == {"order_id": "A17"}
    assert event["message"] == "paid - in full"


def test_identity_fields_cannot_be_set_by_a_pattern() -> None:
    event = parse(r"%{NOTSPACE:service.name} %{GREEDYDATA:message}", "evil hello")
    assert event["service"] == {"name": "svc"}
    assert event["labels"] == {"service.name": "evil"}


def test_invalid_ip_goes_to_labels() -> None:
    event = parse(r"%{NOTSPACE:client.ip} %{GREEDYDATA:message}", "nope hello")
    assert "client" not in event
    assert event["labels"] == {"client_address": "nope"}


def test_non_matching_line_is_unparsed() -> None:
    event = parse(r"%{INT:pid} %{GREEDYDATA:message}", "no digits here")
    assert event["tags"] == ["unparsed"]
    assert event["message"] == "no digits here"


@pytest.mark.parametrize("pattern", ["(unclosed", "%{UNKNOWN:x}", "(?P<a>x)(?P<a>y)"])
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        custom_format("bad", pattern)
