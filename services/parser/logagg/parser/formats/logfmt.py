"""logfmt: ``level=info msg="request done" path=/x duration=12ms``.

The line must be nothing but ``key=value`` pairs (values bare or double-quoted), at
least two of them, so that prose that happens to hold one ``a=b`` is not taken for it.
Keys map to ECS as JSON keys do (:mod:`logagg.parser.formats.structured`).
"""

from __future__ import annotations

import re
from typing import Any

from logagg.parser.fields import Fields
from logagg.parser.formats.base import Format
from logagg.parser.formats.structured import map_record
from logagg.parser.timestamps import Clock

DATASET = "logfmt"

_START = re.compile(r"[\w.@/-]+=")
_PAIR = re.compile(r'\s*([\w.@/-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?=\s|$)')
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unquote(value: str) -> str:
    if not value.startswith('"'):
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), inner)


def parse(line: str, clock: Clock) -> Fields | None:
    """Parse a logfmt line, or return None."""
    if _START.match(line) is None:
        return None
    text = line.rstrip()
    record: dict[str, Any] = {}
    position = 0
    end = len(text)
    while position < end:
        pair = _PAIR.match(text, position)
        if pair is None:
            return None
        record.setdefault(pair.group(1), _unquote(pair.group(2)))
        position = pair.end()
    if len(record) < 2:
        return None
    return map_record(record, clock, DATASET)


FORMAT = Format("logfmt", DATASET, parse)
