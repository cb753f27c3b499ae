"""RFC 5424 structured data, read element after element."""

from __future__ import annotations

from typing import Any

import pytest

from logagg.parser.formats import syslog
from logagg.parser.parsing import DEFAULT_CONFIG, clock_for

CLOCK = clock_for("svc", "2025-01-02T04:00:00.000Z", DEFAULT_CONFIG)
HEADER = "<165>1 2025-01-02T03:04:05.000Z host app 12 ID1 "


def _parsed(data: str, message: str = " msg") -> dict[str, Any]:
    fields = syslog.parse_5424(HEADER + data + message, CLOCK)
    assert fields is not None
    return fields


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('[a@1 x="1"]', {"a@1": {"x": "1"}}),
        (
            '[a@1 x="1" y="two words"][b@2 z=""]',
            {"a@1": {"x": "1", "y": "two words"}, "b@2": {"z": ""}},
        ),
        ("[timeQuality]", {"timeQuality": {}}),
        (
            r'[a@1 x="q\"uote" y="br\]acket" z="back\\slash"]',
            {"a@1": {"x": 'q"uote', "y": "br]acket", "z": "back\\slash"}},
        ),
        ('[a@1 x="1"][a@1 y="2"]', {"a@1": {"x": "1", "y": "2"}}),
        # a malformed element is left out, its well-formed neighbours are kept
        ('[a@1 x="1"][bad junk][c@3 k="v"]', {"a@1": {"x": "1"}, "c@3": {"k": "v"}}),
        ('[a@1 x=1][c@3 k="v" ]', {"c@3": {"k": "v"}}),
    ],
)
def test_structured_data(data: str, expected: dict[str, Any]) -> None:
    fields = _parsed(data)
    assert fields["log"]["syslog"]["structured_data"] == expected
    assert fields["message"] == "msg"


def test_no_structured_data() -> None:
    fields = _parsed("-")
    assert "structured_data" not in fields["log"]["syslog"]
    assert fields["message"] == "msg"


def test_text_after_the_elements_that_is_not_a_message_is_not_rfc_5424() -> None:
    assert syslog.parse_5424(HEADER + '[a@1 x="1"]junk', CLOCK) is None
