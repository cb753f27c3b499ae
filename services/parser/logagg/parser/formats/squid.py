"""Squid's native access log (``logformat squid``, the default of ``access_log``)::

    1735787045.123 125 10.0.0.5 TCP_MISS/200 1234 GET http://a.test/ - HIER_DIRECT/10.0.0.9 -

Fields: time (Unix seconds with milliseconds), elapsed milliseconds, client address,
Squid's result code and the HTTP status, reply size, method, URL, user (``-`` when
none), hierarchy code and the peer it went to, content type. The fields Elasticsearch
maps become ECS fields (``client.ip``, ``http.*``, ``url.original``, ``user.name``); the
rest are kept under ``labels``. The whole line stays the message, as for the web
servers' access logs.
"""

from __future__ import annotations

import re

from logagg.parser.fields import Fields, small_int, valid_ip
from logagg.parser.formats.base import Format
from logagg.parser.timestamps import Clock, epoch

DATASET = "squid.access"

# Every field is a run of non-blanks between blanks, so nothing can be given back.
_LINE = re.compile(
    r"(\d{9,11})\.(\d{3}) ++(\d{1,18}) (\S++) ([A-Z_]++)/(\d{3}) (\d{1,18}) (\S++) (\S++) "
    r"(\S++) ([A-Z_]++)/(\S++) (\S++)\s*+$"
)


def parse(line: str, clock: Clock) -> Fields | None:
    """Parse a Squid native access-log line, or return None."""
    match = _LINE.match(line)
    if match is None:
        return None
    (
        seconds,
        millis,
        elapsed,
        client,
        result,
        status,
        size,
        method,
        url,
        user,
        hierarchy,
        peer,
        mime,
    ) = match.groups()
    fields: Fields = {
        "@timestamp": epoch(clock, float(f"{seconds}.{millis}")),
        "message": line.rstrip(),
        "event": {"dataset": DATASET},
        "url": {"original": url},
    }
    address = valid_ip(client)
    fields["client"] = {"ip": address} if address is not None else {"address": client}
    response: Fields = {}
    status_code = small_int(status)
    if status_code:  # 000: no reply was sent
        response["status_code"] = status_code
    size_bytes = small_int(size)
    if size_bytes is not None:
        response["body"] = {"bytes": size_bytes}
    fields["http"] = {"request": {"method": method.upper()}, "response": response}
    if user != "-":
        fields["user"] = {"name": user}
    labels: Fields = {"squid_result": result, "squid_hierarchy": hierarchy}
    duration = small_int(elapsed)
    if duration is not None:
        labels["elapsed_ms"] = duration
    if peer != "-":
        labels["squid_peer"] = peer
    if mime != "-":
        labels["content_type"] = mime
    fields["labels"] = labels
    return fields


FORMAT = Format("squid", DATASET, parse)
