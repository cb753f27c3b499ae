"""Lines of widely used programs, written from their documented default layouts.

Each case is one batch, parsed with auto-detection; every event is checked on the
fields its golden entry lists (see ``golden/software/README.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logagg.parser import BatchIdentity, parse_lines

SOFTWARE = Path(__file__).resolve().parent / "golden" / "software"
FILES = sorted(SOFTWARE.glob("*.json"))
MISSING = object()


def _cases() -> list[Any]:
    params = []
    for path in FILES:
        document = json.loads(path.read_text(encoding="utf-8"))
        for number, case in enumerate(document["cases"]):
            params.append(pytest.param(document["service"], case, id=f"{path.stem}-{number}"))
    return params


def _field(event: dict[str, Any], dotted: str) -> Any:
    """The value at ``dotted`` (``@timestamp``, ``log.level``) in ``event``, or MISSING."""
    value: Any = event
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def test_at_least_25_programs_with_documented_lines() -> None:
    programs = set()
    for path in FILES:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["program"], path.name
        assert document["documentation"], path.name
        for case in document["cases"]:
            assert case["lines"], path.name
            assert case["events"], path.name
            assert all("@timestamp" in expected for expected in case["events"]), path.name
        programs.add(document["program"])
    assert len(programs) >= 25


@pytest.mark.parametrize(("service", "case"), _cases())
def test_software_lines(service: str, case: dict[str, Any]) -> None:
    identity = BatchIdentity.of("b1", service, "203.0.113.9", case["received_at"])
    events = parse_lines(case["lines"], identity)
    got = [
        {name: _field(event, name) for name in expected}
        for event, expected in zip(events, case["events"], strict=False)
    ]
    assert got == case["events"], case["layout"]
    assert len(events) == len(case["events"]), [event["message"] for event in events]
    for event in events:
        assert "unparsed" not in event.get("tags", []), event["message"]
