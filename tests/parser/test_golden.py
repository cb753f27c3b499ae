"""Golden files: raw lines in, the exact expected events out, one file per format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logagg.parser import BatchIdentity, parse_lines

GOLDEN = Path(__file__).resolve().parent / "golden"
FILES = sorted(GOLDEN.glob("*.json"))


def _cases() -> list[Any]:
    params = []
    for path in FILES:
        document = json.loads(path.read_text(encoding="utf-8"))
        for number, case in enumerate(document["cases"]):
            params.append(pytest.param(document["batch"], case, id=f"{path.stem}-{number}"))
    return params


def test_every_format_has_a_golden_file() -> None:
    names = {path.stem for path in FILES}
    assert {
        "logagg",
        "json",
        "logfmt",
        "syslog",
        "http",
        "application",
        "multiline",
        "unparsed",
    } <= names


@pytest.mark.parametrize(("batch", "case"), _cases())
def test_golden(batch: dict[str, str], case: dict[str, Any]) -> None:
    identity = BatchIdentity.of(
        batch["batch_id"], batch["service"], batch["source_ip"], batch["received_at"]
    )
    assert parse_lines(case["lines"], identity) == case["events"]
