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

# Optional file-name prefix some collectors add (OpenStack's "nova-api.log.1.2017-...").
_FILE = r"(?:(?P<file>[\w.-]{0,200}\.log[\w.:-]{0,100})\s+)?"  # bounded: no backtracking blow-up
_TIMESTAMPS = (
    # ISO 8601 / log4j ISO8601 / Python asctime, optional fraction and zone
    r"(?P<iy>\d{4})-(?P<imo>\d\d)-(?P<id>\d\d)[T ](?P<ih>\d\d):(?P<imi>\d\d):(?P<is>\d\d)"
    r"(?:[,.](?P<if>\d{1,9}))?(?P<iz>Z|[+-]\d\d:?\d\d)?",
    # log4j "yy/MM/dd HH:mm:ss" (Spark)
    r"(?P<sy>\d\d)/(?P<smo>\d\d)/(?P<sd>\d\d) (?P<sh>\d\d):(?P<smi>\d\d):(?P<ss>\d\d)",
    # "yyMMdd HHmmss" (HDFS)
    r"(?P<hy>\d\d)(?P<hmo>\d\d)(?P<hd>\d\d) (?P<hh>\d\d)(?P<hmi>\d\d)(?P<hs>\d\d)",
    # "yyyy/MM/dd HH:mm:ss" (Go's log package, nginx-like)
    r"(?P<gy>\d{4})/(?P<gmo>\d\d)/(?P<gd>\d\d)[ T](?P<gh>\d\d):(?P<gmi>\d\d):(?P<gs>\d\d)"
    r"(?:[,.](?P<gf>\d{1,9}))?",
)
_TS = "(?:" + "|".join(_TIMESTAMPS) + ")"
_LEVEL = (
    r"(?P<level>(?i:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRITICAL"
    r"|CRIT|ALERT|EMERG|EMERGENCY|FINEST|FINER|FINE|CONFIG))(?![\w.-])"
)
# A bracket that may hold one level of nested brackets ("QuorumPeer[myid=1]/0.0.0.0").
_BRACKET = r"\[(?P<{name}>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
_DOTTED = r"[A-Za-z_$][\w$]*(?:\.[\w$]+)+"
_LINE = re.compile(
    _FILE
    + _TS
    + r"(?:\s+-)?\s+"
    + "(?:"
    + _BRACKET.format(name="thread0")
    + r"\s+)?"
    + r"(?:(?P<pid>\d+)\s+)?"
    + _LEVEL
    + r":?\s*"
    + "(?:"
    + _BRACKET.format(name="thread")
    + r"\s*)?"
    + r"(?:(?P<pid2>\d+)\s+)?"
    + r"(?:-\s+)?"
    + r"(?:(?P<logger>"
    + _DOTTED
    + r")(?::\s*|\s+-\s+)"
    + r"|(?P<logger3>"
    + _DOTTED
    + r")\s+\[(?P<ctx>[^\]]*)\]\s+)?"
    + r"(?P<msg>.*)",
    re.DOTALL,
)
# Python logging's default "asctime - name - levelname - message".
_PYTHON = re.compile(
    _TS + r" - (?P<logger>[^ ]+) - " + _LEVEL + r" - (?P<msg>.*)",
    re.DOTALL,
)
_LOOSE = re.compile(_FILE + _TS + r"(?:\s+|$)(?P<msg>.*)", re.DOTALL)
# log4j's "%t:%C{1}@%L" thread blocks (Zookeeper): thread, class, line.
_THREAD_ORIGIN = re.compile(r"(.*):([\w$]+)@(\d+)$", re.DOTALL)


def _timestamp(match: re.Match[str], clock: Clock) -> Timestamp:
    group = match.group
    if group("iy") is not None:
        zone = group("iz")
        if zone is not None:
            return offset_parts(
                clock,
                group("iy"),
                group("imo"),
                group("id"),
                group("ih"),
                group("imi"),
                group("is"),
                group("if") or "",
                zone,
            )
        start = match.start("iy")
        return local_parts(
            clock,
            match.string[start : start + 19],
            group("iy"),
            group("imo"),
            group("id"),
            group("ih"),
            group("imi"),
            group("is"),
            group("if") or "",
        )
    if group("sy") is not None:
        start = match.start("sy")
        return local_parts(
            clock,
            "s" + match.string[start : start + 17],
            "20" + group("sy"),
            group("smo"),
            group("sd"),
            group("sh"),
            group("smi"),
            group("ss"),
        )
    if group("hy") is not None:
        start = match.start("hy")
        return local_parts(
            clock,
            "h" + match.string[start : start + 13],
            "20" + group("hy"),
            group("hmo"),
            group("hd"),
            group("hh"),
            group("hmi"),
            group("hs"),
        )
    start = match.start("gy")
    return local_parts(
        clock,
        "g" + match.string[start : start + 19],
        group("gy"),
        group("gmo"),
        group("gd"),
        group("gh"),
        group("gmi"),
        group("gs"),
        group("gf") or "",
    )


def _context(fields: Fields, context: str) -> None:
    labels = fields.setdefault("labels", {})
    labels["context"] = context
    first = context.split(" ", 1)[0]
    if first.startswith("req-"):
        labels["request_id"] = first


def parse(line: str, clock: Clock) -> Fields | None:
    """Parse a timestamp-and-level application line, or return None."""
    match = _LINE.match(line)
    if match is None:
        match = _PYTHON.match(line)
        if match is None:
            return None
    group = match.groupdict()
    log: Fields = {"level": group["level"].lower()}
    fields: Fields = {
        "@timestamp": _timestamp(match, clock),
        "message": group["msg"].rstrip(),
        "log": log,
        "event": {"dataset": DATASET},
    }
    logger = group.get("logger") or group.get("logger3")
    if logger:
        log["logger"] = logger
    thread = group.get("thread") or group.get("thread0")
    if thread:
        origin = _THREAD_ORIGIN.match(thread)
        if origin is not None:
            thread = origin.group(1)
            log.setdefault("logger", origin.group(2))
            line_number = small_int(origin.group(3))
            if line_number is not None:
                log["origin"] = {"file": {"line": line_number}}
        fields["process"] = {"thread": {"name": thread}}
    pid = group.get("pid") or group.get("pid2")
    if pid:
        pid_number = small_int(pid)
        if pid_number is not None:
            fields.setdefault("process", {})["pid"] = pid_number
    if group.get("ctx") is not None:
        _context(fields, group["ctx"])
    if group.get("file"):
        log["file"] = {"path": group["file"]}
    return fields


def parse_loose(line: str, clock: Clock) -> Fields | None:
    """Take any line that starts with an application timestamp; the rest is the message."""
    match = _LOOSE.match(line)
    if match is None:
        return None
    fields: Fields = {
        "@timestamp": _timestamp(match, clock),
        "message": match.group("msg").rstrip(),
        "event": {"dataset": LOOSE_DATASET},
    }
    if match.group("file"):
        fields["log"] = {"file": {"path": match.group("file")}}
    return fields


FORMAT = Format("application", DATASET, parse)
LOOSE_FORMAT = Format("timestamped", LOOSE_DATASET, parse_loose, loose=True)
