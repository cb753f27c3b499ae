"""Operator-defined formats: a regular expression with named groups, grok-style.

A pattern is a Python regular expression in which ``%{NAME:field}`` stands for a
predefined sub-pattern (``%{NAME}`` alone matches without capturing) and
``(?P<field>...)`` captures directly. Field names are ECS names written with dots
(``%{WORD:log.logger}``) or, inside ``(?P<...>)``, with ``__`` for each dot. The names
``timestamp``, ``level``, ``message``, ``logger``, ``thread`` and ``pid`` are shorthands.
Names outside the ECS fields listed in :data:`ECS_FIELDS` are kept under ``labels``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from logagg.parser.fields import Fields, small_int, valid_ip
from logagg.parser.formats.base import Format
from logagg.parser.timestamps import Clock, from_text

GROK: dict[str, str] = {
    "TIMESTAMP_ISO8601": (
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d(?::?\d\d)?)?"
    ),
    "LOGLEVEL": (
        r"(?i:trace|debug|info|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?|fatal|severe"
        r"|emerg(?:ency)?|alert)"
    ),
    # bounded: two overlapping unbounded runs ("::::") backtrack quadratically
    "IP": r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]{0,39}:[0-9A-Fa-f:.]{1,45})",
    "INT": r"[+-]?\d+",
    "NUMBER": r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?",
    "WORD": r"\w+",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "QUOTEDSTRING": r'"(?:[^"\\]++|\\.)*+"',
    "UUID": r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}",
    "HOSTNAME": r"[0-9A-Za-z][0-9A-Za-z.-]*",
    # not "(?:/[^\s]*)+": a repeat of a repeat that both match "/" is exponential
    "PATH": r"/\S*",
}

SHORTHANDS = {
    "timestamp": "@timestamp",
    "level": "log.level",
    "logger": "log.logger",
    "thread": "process.thread.name",
    "pid": "process.pid",
}
# ECS fields a pattern may fill; anything else lands under labels, so a pattern cannot
# overwrite what the batch decides (service, source, host.ip, event ids).
ECS_FIELDS = frozenset(
    {
        "@timestamp",
        "message",
        "log.level",
        "log.logger",
        "log.origin.function",
        "log.origin.file.name",
        "log.origin.file.line",
        "process.pid",
        "process.name",
        "process.thread.name",
        "client.ip",
        "http.request.method",
        "http.response.status_code",
        "http.response.body.bytes",
        "url.original",
        "user_agent.original",
        "user.name",
        "host.hostname",
        "error.message",
    }
)
_INTEGER_FIELDS = frozenset(
    {"process.pid", "log.origin.file.line", "http.response.status_code", "http.response.body.bytes"}
)
_GROK_REFERENCE = re.compile(r"%\{(\w+)(?::([\w.@]+))?\}")


class PatternError(ValueError):
    """A custom pattern that cannot be compiled; the message says why."""


def _group_name(field: str) -> str:
    return field.replace("@", "").replace(".", "__")


def compile_pattern(text: str) -> re.Pattern[str]:
    """Expand ``%{NAME:field}`` references and compile; raise :class:`PatternError`."""

    def expand(match: re.Match[str]) -> str:
        name, field = match.group(1), match.group(2)
        if name not in GROK:
            raise PatternError(f"unknown pattern %{{{name}}} (known: {', '.join(sorted(GROK))})")
        if field is None:
            return f"(?:{GROK[name]})"
        return f"(?P<{_group_name(field)}>{GROK[name]})"

    try:
        return re.compile(_GROK_REFERENCE.sub(expand, text), re.DOTALL)
    except re.error as error:
        raise PatternError(f"not a valid regular expression: {error}") from error


def _put(fields: Fields, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    target = fields
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


@dataclass(frozen=True, slots=True)
class PatternFormat:
    """A compiled custom pattern; :meth:`parse` is a format's parse function."""

    name: str
    regex: re.Pattern[str]
    dataset: str = field(init=False)
    # group name -> the field it fills, worked out once rather than for every line
    targets: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", f"custom.{self.name}")
        targets = {}
        for group in self.regex.groupindex:
            dotted = group.replace("__", ".")
            targets[group] = SHORTHANDS.get(dotted, dotted)
        object.__setattr__(self, "targets", targets)

    def parse(self, line: str, clock: Clock) -> Fields | None:
        """Parse ``line`` with the pattern (it must match from the start), or return None."""
        match = self.regex.match(line)
        if match is None:
            return None
        fields: Fields = {"event": {"dataset": self.dataset}}
        labels: dict[str, Any] = {}
        targets = self.targets
        for group, value in match.groupdict().items():
            if value is None:
                continue
            dotted = targets[group]
            if dotted not in ECS_FIELDS:
                labels[dotted] = value
            elif dotted == "@timestamp":
                fields["@timestamp"] = from_text(clock, value)
            elif dotted == "log.level":
                _put(fields, dotted, value.strip().lower())
            elif dotted == "client.ip":
                address = valid_ip(value)
                if address is None:
                    labels["client_address"] = value
                else:
                    _put(fields, dotted, address)
            elif dotted in _INTEGER_FIELDS:
                number = small_int(value)
                if number is None:
                    labels[dotted] = value
                else:
                    _put(fields, dotted, number)
            else:
                _put(fields, dotted, value.rstrip() if dotted == "message" else value)
        if labels:
            fields["labels"] = labels
        return fields


def custom_format(name: str, pattern: str) -> Format:
    """The :class:`Format` of a custom pattern; raise :class:`PatternError` if invalid."""
    compiled = PatternFormat(name, compile_pattern(pattern))
    return Format(f"pattern:{name}", compiled.dataset, compiled.parse)
