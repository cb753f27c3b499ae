"""JSON on the shipper's hot path: every event is encoded again for Elasticsearch and the
archive, so this uses orjson (several times faster than the standard library), falling
back to the standard library for what orjson refuses.
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
