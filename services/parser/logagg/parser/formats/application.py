"""Application lines that start with a timestamp and a level.

The layouts of log4j, logback, java.util.logging-like wrappers, Python ``logging``,
Spark, Hadoop, Zookeeper, HDFS and OpenStack (oslo.log)::

    2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.MRAppMaster: Created ...
    2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:FastLeaderElection@774] - ...
    17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers
    081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block ...
    nova-api.log.1 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-...] ...
    2025-04-18 10:12:01.123 [main] INFO  com.example.Service - started
    2025-04-18 10:12:01,123 - myapp.db - WARNING - slow query

Thread, logger, process id and a bracketed request context (kept in ``labels.context``,
its request id in ``labels.request_id``) are taken where the layout has them; the message
is what follows. A second format, ``timestamped``, takes any line that merely starts with
one of these timestamps (the rest is the message); it is loose, so it is tried last.
"""

from __future__ import annotations

import re

from logagg.parser.fields import Fields, small_int
from logagg.parser.formats.base import Format
from logagg.parser.timestamps import Clock, Timestamp, local_parts, offset_parts

DATASET = "app.log"
LOOSE_DATASET = "app.timestamped"

# Optional file-name prefix some collectors add (OpenStack's "nova-api.log.1.2017-...");
# bounded quantifiers keep backtracking linear on hostile lines.
_FILE = re.compile(r"([\w.-]{0,200}\.log[\w.:-]{0,100})\s+")
# The timestamp forms, each tried only when the line's shape says it may be that one.
_ISO = re.compile(  # ISO 8601 / log4j ISO8601 / Python asctime, optional fraction and zone
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[,.](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?"
)
_SLASHED = re.compile(r"(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)")  # log4j yy/MM/dd (Spark)
_COMPACT = re.compile(r"(\d\d)(\d\d)(\d\d) (\d\d)(\d\d)(\d\d)")  # yyMMdd HHmmss (HDFS)
_SLASHED_LONG = re.compile(  # yyyy/MM/dd HH:mm:ss (Go's log package)
    r"(\d{4})/(\d\d)/(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:[,.](\d{1,9}))?"
)
_LEVEL = (
    r"((?i:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRITICAL"
    r"|CRIT|ALERT|EMERG|EMERGENCY|FINEST|FINER|FINE|CONFIG))(?![\w.-])"
)
# A bracket that may hold one level of nested brackets ("QuorumPeer[myid=1]/0.0.0.0").
# Possessive quantifiers (Python 3.11+) here and in the logger name: a partial match
# could never be followed by what comes next, so giving characters back is wasted work.
_BRACKET = r"\[((?:[^\[\]]++|\[[^\[\]]*+\])*+)\]"
_DOTTED = r"[A-Za-z_$][\w$]*+(?:(?:\.|::)[\w$]++)++"  # Java packages, Rust module paths
# What follows the timestamp. Groups: 1 thread before the level, 2 pid, 3 level,
# 4 thread after it, 5 pid after it, 6 thread after Spring Boot's "---" (the last of
# its "[app] [thread]"), 7 Spring Boot's logger column (any non-space name, Tomcat's
# "o.a.c.c.C.[.[.[/]" too), 8 logger, 9 logger before a context, 10 context, 11 message.
_REST = re.compile(
    r"(?:\s+-)?\s+"
    + f"(?:{_BRACKET}\\s+)?"
    + r"(?:(\d+)\s+)?"
    + _LEVEL
    + r":?\s*"
    + f"(?:{_BRACKET}\\s*)?"
    + r"(?:(\d+)\s+)?"
    + f"(?:-{{1,3}}\\s+(?:{_BRACKET}\\s+){{0,2}}(?:([^\\s]{{1,200}}+)\\s++:\\s)?)?"
    + f"(?:({_DOTTED})(?:\\s*+:\\s*|\\s+-\\s+)"
    + f"|({_DOTTED})\\s+\\[([^\\]]*+)\\]\\s+)?"
    + r"(.*)",
    re.DOTALL,
)
# Python logging's default "asctime - name - levelname - message": 1 logger, 2 level,
# 3 message.
_PYTHON_REST = re.compile(r" - ([^ ]+) - " + _LEVEL + r" - (.*)", re.DOTALL)
_LOOSE_REST = re.compile(r"(?:\s+|$)(.*)", re.DOTALL)
# log4j's "%t:%C{1}@%L" thread blocks (Zookeeper): thread, class, line.
_THREAD_ORIGIN = re.compile(r"(.*):([\w$]+)@(\d+)$", re.DOTALL)


def _stamp(line: str, clock: Clock, start: int) -> tuple[Timestamp, int] | None:
    """The timestamp at ``start`` of ``line`` and where it ends, or None."""
    fourth = line[start + 4 : start + 5]
    if fourth == "-":
        match = _ISO.match(line, start)
        if match is None:
            return None
        year, month, day, hour, minute, sec, frac, zone = match.groups()
        if zone is not None:
            stamp = offset_parts(clock, year, month, day, hour, minute, sec, frac or "", zone)
        else:
            key = line[start : start + 19]
            stamp = local_parts(clock, key, year, month, day, hour, minute, sec, frac or "")
        return stamp, match.end()
    if fourth == "/":
        match = _SLASHED_LONG.match(line, start)
        if match is None:
            return None
        year, month, day, hour, minute, sec, frac = match.groups()
        key = "g" + line[start : start + 19]
        return local_parts(clock, key, year, month, day, hour, minute, sec, frac or ""), match.end()
    third = line[start + 2 : start + 3]
    if third == "/":
        match = _SLASHED.match(line, start)
        if match is None:
            return None
        year, month, day, hour, minute, sec = match.groups()
        key = "s" + line[start : start + 17]
        return local_parts(clock, key, "20" + year, month, day, hour, minute, sec), match.end()
    if third.isdigit():
        match = _COMPACT.match(line, start)
        if match is None:
            return None
        year, month, day, hour, minute, sec = match.groups()
        key = "h" + line[start : start + 13]
        return local_parts(clock, key, "20" + year, month, day, hour, minute, sec), match.end()
    return None


def _start(line: str, clock: Clock) -> tuple[Timestamp, int, str | None] | None:
    """The line's timestamp, where it ends, and the file-name prefix before it if any."""
    if line[:1].isdigit():
        found = _stamp(line, clock, 0)
        if found is not None:
            return found[0], found[1], None
    prefix = _FILE.match(line)
    if prefix is None:
        return None
    found = _stamp(line, clock, prefix.end())
    if found is None:
        return None
    return found[0], found[1], prefix.group(1)


def _context(fields: Fields, context: str) -> None:
    labels = fields.setdefault("labels", {})
    labels["context"] = context
    first = context.split(" ", 1)[0]
    if first.startswith("req-"):
        labels["request_id"] = first


def _thread(fields: Fields, log: Fields, thread: str) -> None:
    origin = _THREAD_ORIGIN.match(thread)
    if origin is not None:
        thread = origin.group(1)
        log.setdefault("logger", origin.group(2))
        line_number = small_int(origin.group(3))
        if line_number is not None:
            log["origin"] = {"file": {"line": line_number}}
    fields["process"] = {"thread": {"name": thread}}


def parse(line: str, clock: Clock) -> Fields | None:
    """Parse a timestamp-and-level application line, or return None."""
    start = _start(line, clock)
    if start is None:
        return None
    stamp, end, file = start
    match = _REST.match(line, end)
    if match is not None:
        thread0, pid, level, thread, pid2, thread2, column, logger, logger3, context, message = (
            match.groups()
        )
        logger = column or logger
    else:
        python = _PYTHON_REST.match(line, end)
        if python is None:
            return None
        logger, level, message = python.groups()
        thread0 = pid = thread = pid2 = thread2 = logger3 = context = None
    log: Fields = {"level": level.lower()}
    fields: Fields = {
        "@timestamp": stamp,
        "message": message.rstrip(),
        "log": log,
        "event": {"dataset": DATASET},
    }
    logger = logger or logger3
    if logger:
        log["logger"] = logger
    thread = thread2 or thread or thread0
    if thread and thread.strip():
        _thread(fields, log, thread.strip())
    pid = pid or pid2
    if pid:
        pid_number = small_int(pid)
        if pid_number is not None:
            fields.setdefault("process", {})["pid"] = pid_number
    if context is not None:
        _context(fields, context)
    if file:
        log["file"] = {"path": file}
    return fields


def parse_loose(line: str, clock: Clock) -> Fields | None:
    """Take any line that starts with an application timestamp; the rest is the message."""
    start = _start(line, clock)
    if start is None:
        return None
    stamp, end, file = start
    match = _LOOSE_REST.match(line, end)
    if match is None:
        return None
    fields: Fields = {
        "@timestamp": stamp,
        "message": match.group(1).rstrip(),
        "event": {"dataset": LOOSE_DATASET},
    }
    if file:
        fields["log"] = {"file": {"path": file}}
    return fields


FORMAT = Format("application", DATASET, parse)
LOOSE_FORMAT = Format("timestamped", LOOSE_DATASET, parse_loose, loose=True)
