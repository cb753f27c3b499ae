"""Syslog: RFC 5424, RFC 3164 (BSD), and the RFC 3339-stamped BSD layout of rsyslog.

Each with or without the ``<PRI>`` header. ``PRI`` gives ``log.syslog.facility`` and
``log.syslog.severity`` (and ``log.level`` from the severity). The BSD layout carries no
year: it is inferred from the receive time (see :func:`~logagg.parser.timestamps.yearless`).
"""

from __future__ import annotations

import re

from logagg.parser.fields import Fields, small_int
from logagg.parser.formats.base import Format
from logagg.parser.timestamps import Clock, from_text, month_number, yearless

DATASET_5424 = "syslog.rfc5424"
DATASET_3164 = "syslog.rfc3164"

SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

# Possessive quantifiers: an element's text cannot end anywhere but at its first
# unescaped "]", so giving characters back could only retry the same failure.
_5424 = re.compile(
    r"(?:<(\d{1,3})>)?1 (-|\S++) (\S++) (\S++) (\S++) (\S++) "
    r"(-|(?:\[(?:[^\]\\]++|\\.)*+\])++)(?: (.*))?$",
    re.DOTALL,
)
# Structured data is read element after element from where the previous one ended,
# never searched for: a search restarts at every "[" and rescans what follows, which is
# quadratic in a line of thousands of "[".
_SD_ELEMENT = re.compile(r"\[((?:[^\]\\]++|\\.)*+)\]", re.DOTALL)
_SD_ID = re.compile(r"[^\s=\]\"]++")
_SD_PARAM = re.compile(r"\s++([^\s=\]\"]++)=\"((?:[^\"\\]++|\\.)*+)\"", re.DOTALL)
_SD_END = re.compile(r"\s*+$")
_SD_ESCAPE = re.compile(r"\\([\"\\\]])")

_3164 = re.compile(
    r"(?:<(\d{1,3})>)?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) "
    r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
    r"(?: (\d{4}))? +(\S+) +(.*)$",
    re.DOTALL,
)
_ISO = re.compile(
    r"(?:<(\d{1,3})>)?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) "
    r"(\S+) +(.*)$",
    re.DOTALL,
)
# "program[pid]: message" or "program: message"; the program may hold spaces and
# parentheses ("syslogd 1.4.1", "sshd(pam_unix)"), never a colon or bracket.
_TAG = re.compile(r"([^:\[\]]{1,48}?)(?:\[(\d+)\])?: ?(.*)$", re.DOTALL)
_LEVEL_WORDS = frozenset(
    ("trace", "debug", "info", "notice", "warn", "warning", "error", "fatal", "critical")
)


def _priority(fields: Fields, text: str | None) -> None:
    if text is None:
        return
    priority = int(text)
    if priority > 191:
        fields.setdefault("tags", []).append("syslog_bad_priority")
        return
    severity = priority & 7
    fields["log"] = {
        "level": SEVERITIES[severity],
        "syslog": {
            "priority": priority,
            "facility": {"code": priority >> 3},
            "severity": {"code": severity, "name": SEVERITIES[severity]},
        },
    }


def _element(inside: str) -> tuple[str, dict[str, str]] | None:
    """The SD-ID and parameters of one element's text, or None if it is not well formed."""
    name = _SD_ID.match(inside)
    if name is None:
        return None
    params: dict[str, str] = {}
    position = name.end()
    while (param := _SD_PARAM.match(inside, position)) is not None:
        params[param.group(1)] = _SD_ESCAPE.sub(r"\1", param.group(2))
        position = param.end()
    if _SD_END.match(inside, position) is None:
        return None
    return name.group(), params


def _structured_data(text: str) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    position = 0
    while (element := _SD_ELEMENT.match(text, position)) is not None:
        position = element.end()
        found = _element(element.group(1))
        if found is not None:
            result.setdefault(found[0], {}).update(found[1])
    return result


def parse_5424(line: str, clock: Clock) -> Fields | None:
    """Parse an RFC 5424 line (``<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG``)."""
    match = _5424.match(line)
    if match is None:
        return None
    pri, stamp, host, app, procid, msgid, data, message = match.groups()
    fields: Fields = {"event": {"dataset": DATASET_5424}}
    if stamp != "-":
        fields["@timestamp"] = from_text(clock, stamp)
    message = message or ""
    if message.startswith("\ufeff"):
        message = message[1:]
    fields["message"] = message.rstrip()
    _priority(fields, pri)
    if host != "-":
        fields["host"] = {"hostname": host}
    process: Fields = {}
    if app != "-":
        process["name"] = app
    pid = small_int(procid)
    if pid is not None:
        process["pid"] = pid
    if process:
        fields["process"] = process
    syslog = fields.setdefault("log", {}).setdefault("syslog", {})
    if msgid != "-":
        syslog["msgid"] = msgid
    if procid != "-" and pid is None:
        syslog["procid"] = procid
    if data != "-":
        syslog["structured_data"] = _structured_data(data)
    if not syslog:
        del fields["log"]["syslog"]
        if not fields["log"]:
            del fields["log"]
    return fields


def _program(fields: Fields, rest: str) -> None:
    tag = _TAG.match(rest)
    if tag is None or tag.group(1).strip() == "" or ": " in tag.group(1):
        fields["message"] = rest.rstrip()
        return
    program, pid, message = tag.groups()
    process: Fields = {"name": program.strip()}
    if pid is not None:
        pid_number = small_int(pid)
        if pid_number is not None:
            process["pid"] = pid_number
    fields["process"] = process
    fields["message"] = message.rstrip()


def parse_3164(line: str, clock: Clock) -> Fields | None:
    """Parse an RFC 3164 line (``<PRI>Mmm dd hh:mm:ss host program[pid]: message``)."""
    match = _3164.match(line)
    if match is not None:
        pri, month, day, hour, minute, sec, frac, year, host, rest = match.groups()
        fields: Fields = {"event": {"dataset": DATASET_3164}}
        if year is not None:
            fields["@timestamp"] = from_text(
                clock, f"{year}-{_month(month)}-{int(day):02d}T{hour}:{minute}:{sec}"
            )
        else:
            fields["@timestamp"] = yearless(clock, month, day, hour, minute, sec, frac or "")
    else:
        match = _ISO.match(line)
        if match is None:
            return None
        pri, stamp, host, rest = match.groups()
        if host.lower() in _LEVEL_WORDS:
            return None
        fields = {"event": {"dataset": DATASET_3164}, "@timestamp": from_text(clock, stamp)}
    _priority(fields, pri)
    fields["host"] = {"hostname": host}
    _program(fields, rest)
    return fields


def _month(name: str) -> str:
    return f"{month_number(name):02d}"


RFC5424 = Format("syslog5424", DATASET_5424, parse_5424)
RFC3164 = Format("syslog3164", DATASET_3164, parse_3164)
