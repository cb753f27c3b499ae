"""Events as JSON on the hot paths: orjson (several times faster than the standard
library), and the standard library for what orjson refuses.

The parser encodes every event once for both shippers, which forward the bytes;
dead letters decode them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value``.

    orjson refuses integers beyond 64 bits, which a JSON payload may hold (a label with a
    long number); the standard library writes them.
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    """The value of JSON text ``data``, read as job payloads are (orjson)."""
    return orjson.loads(data)
