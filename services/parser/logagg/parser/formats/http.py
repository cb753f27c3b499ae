"""Web server logs: the access log (common and combined), Apache's and nginx's error logs.

Apache and nginx write the same access layouts, so they share one dataset::

    127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "ref" "agent"
    [Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6
    [Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328] [client 1.2.3.4:5] ...
    2025/04/18 10:12:01 [error] 31#31: *7 open() "/x" failed (2: No such file), client: 1.2.3.4

The ``[client ...]`` block stays in the error message (it reads as part of it) and also
gives ``client.ip``.
"""

from __future__ import annotations

import re

from logagg.parser.fields import Fields, small_int, valid_ip
from logagg.parser.formats.base import Format
from logagg.parser.timestamps import Clock, local_parts, month_number, offset_parts

ACCESS_DATASET = "http.access"
ERROR_DATASET = "apache.error"
NGINX_ERROR_DATASET = "nginx.error"

# Possessive: a quoted field ends at its first unescaped quote and nowhere else.
_QUOTED = r'"((?:[^"\\]++|\\.)*+)"'
_ACCESS = re.compile(
    r"(\S+) (\S+) (\S+) \[(\d\d)/([A-Za-z]{3})/(\d{4}):(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? "
    r"([+-]\d{4})\] " + _QUOTED + r" (\d{3}|-) (\d+|-)(?: " + _QUOTED + " " + _QUOTED + r")?(.*)$",
    re.DOTALL,
)
_REQUEST = re.compile(r"([A-Za-z]+) (\S+)(?: HTTP/(\d(?:\.\d)?))?$")
_ERROR = re.compile(
    r"\[[A-Za-z]{3} ([A-Za-z]{3}) (\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? (\d{4})\] "
    r"\[(?:([^:\]]*):)?([A-Za-z]+\d?)\]"
    r"(?: \[pid (\d+)(?::tid (\d+))?\])?"
    r" ?((?:\[client ([^\]]+)\] )?.*)$",
    re.DOTALL,
)

_NGINX_ERROR = re.compile(
    r"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) \[([a-z]+)\] (\d+)#(\d+): "
    r"(?:\*(\d+) )?(.*)$",
    re.DOTALL,
)
_NGINX_CLIENT = re.compile(r", client: ([^,\s]+)")


def _client(fields: Fields, text: str) -> None:
    address = valid_ip(text)
    if address is None and text.count(":") == 1:
        address = valid_ip(text.rsplit(":", 1)[0])
    if address is None and text.startswith("[") and "]:" in text:
        address = valid_ip(text[1 : text.index("]:")])
    if address is not None:
        fields["client"] = {"ip": address}
    elif text != "-":
        fields["client"] = {"address": text}


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\") if "\\" in text else text


def parse_access(line: str, clock: Clock) -> Fields | None:
    """Parse a common or combined access-log line, or return None."""
    match = _ACCESS.match(line)
    if match is None:
        return None
    (
        client,
        _ident,
        user,
        day,
        month,
        year,
        hour,
        minute,
        sec,
        frac,
        zone,
        request,
        status,
        size,
        referrer,
        agent,
        extra,
    ) = match.groups()
    fields: Fields = {
        "@timestamp": offset_parts(
            clock, year, f"{month_number(month):02d}", day, hour, minute, sec, frac or "", zone
        ),
        "message": line.rstrip(),
        "event": {"dataset": ACCESS_DATASET},
    }
    _client(fields, client)
    http: Fields = {}
    request = _unescape(request)
    parts = _REQUEST.match(request)
    if parts is not None:
        http["request"] = {"method": parts.group(1).upper()}
        fields["url"] = {"original": parts.group(2)}
        if parts.group(3):
            http["version"] = parts.group(3)
    elif request and request != "-":
        fields["labels"] = {"request": request}
    status_code = small_int(status)
    if status_code is not None:
        http["response"] = {"status_code": status_code}
    size_bytes = small_int(size)
    if size_bytes is not None:
        http.setdefault("response", {})["body"] = {"bytes": size_bytes}
    if referrer is not None and referrer not in ("", "-"):
        http.setdefault("request", {})["referrer"] = _unescape(referrer)
    if http:
        fields["http"] = http
    if agent is not None and agent not in ("", "-"):
        fields["user_agent"] = {"original": _unescape(agent)}
    if user != "-":
        fields["user"] = {"name": user}
    if extra.strip():
        fields.setdefault("labels", {})["extra"] = extra.strip()
    return fields


def parse_error(line: str, clock: Clock) -> Fields | None:
    """Parse an Apache error-log line (2.2 and 2.4 layouts), or return None."""
    match = _ERROR.match(line)
    if match is None:
        return None
    month, day, hour, minute, sec, frac, year, module, lvl, pid, tid, message, client = (
        match.groups()
    )
    number = month_number(month)
    fields: Fields = {
        "@timestamp": local_parts(
            clock,
            "a" + year + month + day + hour + minute + sec,
            year,
            str(number),
            day,
            hour,
            minute,
            sec,
            frac or "",
        ),
        "message": message.rstrip(),
        "log": {"level": lvl.lower()},
        "event": {"dataset": ERROR_DATASET},
    }
    if module:
        fields["log"]["logger"] = module
    if pid is not None:
        process: Fields = {"pid": small_int(pid)}
        thread = small_int(tid or "")
        if thread is not None:
            process["thread"] = {"id": thread}
        if process["pid"] is not None:
            fields["process"] = process
    if client is not None:
        _client(fields, client)
    return fields


def parse_nginx_error(line: str, clock: Clock) -> Fields | None:
    """Parse an nginx error-log line, or return None."""
    match = _NGINX_ERROR.match(line)
    if match is None:
        return None
    year, month, day, hour, minute, sec, lvl, pid, tid, connection, message = match.groups()
    fields: Fields = {
        "@timestamp": local_parts(clock, "n" + line[:19], year, month, day, hour, minute, sec),
        "message": message.rstrip(),
        "log": {"level": lvl},
        "event": {"dataset": NGINX_ERROR_DATASET},
    }
    process: Fields = {}
    pid_number, thread = small_int(pid), small_int(tid)
    if pid_number is not None:
        process["pid"] = pid_number
    if thread is not None:
        process["thread"] = {"id": thread}
    if process:
        fields["process"] = process
    if connection is not None:
        fields["labels"] = {"connection": connection}
    client = _NGINX_CLIENT.search(message)
    if client is not None:
        _client(fields, client.group(1))
    return fields


ACCESS = Format("access", ACCESS_DATASET, parse_access)
APACHE_ERROR = Format("apache_error", ERROR_DATASET, parse_error)
NGINX_ERROR = Format("nginx_error", NGINX_ERROR_DATASET, parse_nginx_error)
