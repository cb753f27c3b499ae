"""JSON on the shipper's hot path: every event is decoded from its job and encoded again
for Elasticsearch and the archive, so this uses orjson (several times faster than the
standard library), falling back to the standard library for what orjson refuses.
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


class OrjsonSerializer:
    """RQ's JSON job format, read and written with orjson (the bytes stay plain JSON, so
    jobs enqueued with RQ's ``JSONSerializer`` read the same)."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> bytes:
        return dumps(obj)

    @staticmethod
    def loads(data: bytes | str, *args: Any, **kwargs: Any) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # the standard library also reads NaN and Infinity, which it may have written
            return json.loads(data)
