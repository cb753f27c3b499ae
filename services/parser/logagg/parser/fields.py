"""Small shared pieces of building event fields: IP addresses, integers.

The formats use these so that every format normalises the same way.
"""

from __future__ import annotations

import ipaddress
from typing import Any

Fields = dict[str, Any]
"""A partial event as a format produces it (nested ECS dicts).

``@timestamp`` holds a :data:`~logagg.parser.timestamps.Timestamp` (text or a problem)
or is absent when the line carries none; ``tags`` may hold tags of the format's own.
"""

_ip_cache: dict[str, str | None] = {}
_IP_CACHE_LIMIT = 10_000


def valid_ip(text: str) -> str | None:
    """``text`` as a canonical IP address when it is one (``[v6]`` brackets allowed), else None.

    Only valid addresses may reach fields that Elasticsearch maps as ``ip``.
    """
    cached = _ip_cache.get(text, "")
    if cached != "":
        return cached
    candidate = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        result: str | None = str(ipaddress.ip_address(candidate))
    except ValueError:
        result = None
    if len(_ip_cache) >= _IP_CACHE_LIMIT:
        _ip_cache.clear()
    _ip_cache[text] = result
    return result


def small_int(text: str) -> int | None:
    """``text`` as an int when it is plain decimal digits of a sane length, else None."""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None
