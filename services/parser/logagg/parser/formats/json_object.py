"""JSON objects: one per line (NDJSON, or a JSON line inside a text body), or given whole.

See :mod:`logagg.parser.formats.structured` for how keys map to ECS. A line that is
JSON but not an object (an array, a number) is not this format.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from logagg.parser.fields import Fields
from logagg.parser.formats.base import Format
from logagg.parser.formats.structured import map_record
from logagg.parser.timestamps import Clock

DATASET = "json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def load_object(text: str) -> dict[str, Any] | None:
    """``text`` as a JSON object, or None (not JSON, not an object, or NaN/Infinity inside)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits, which are valid JSON; the standard
        # library reads them (NaN and Infinity stay refused: they are not JSON).
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


def parse(line: str, clock: Clock) -> Fields | None:
    """Parse a line holding one JSON object, or return None."""
    stripped = line.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    record = load_object(stripped)
    if record is None:
        return None
    return parse_object(record, clock)


def parse_object(record: dict[str, Any], clock: Clock) -> Fields:
    """The partial event of a JSON object (already decoded, JSON-ready values)."""
    return map_record(record, clock, DATASET)


def json_ready(value: Any, depth: int = 0) -> Any:
    """``value`` with what JSON cannot carry replaced: NaN/Infinity become None, other
    keys become strings, unknown types their ``repr``; nesting deeper than 64 is cut.

    For objects handed over already decoded, whose producer may have been lenient.
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= 64:
        return repr(value)[:1000]
    if isinstance(value, dict):
        return {str(key): json_ready(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item, depth + 1) for item in value]
    return repr(value)[:1000]


FORMAT = Format("json", DATASET, parse)
