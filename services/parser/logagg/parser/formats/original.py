"""The original LogAggregator line.

``%(asctime)s - client_ip - %(process)d - %(levelname)s - %(funcName)s - %(filename)s -
%(message)s``. The message is everything after the sixth separator, hyphens and `` - ``
included. The original clients pad the address (``%(client_ip)-15s``), so spaces may
stand between it and its separator.
"""

from __future__ import annotations

import re

from logagg.parser.fields import Fields, small_int, valid_ip
from logagg.parser.formats.base import Format
from logagg.parser.timestamps import Clock, local_parts

DATASET = "logagg.line"

# Fields before the message hold no spaces, so each stops at its own separator and the
# message keeps every later " - ".
_LINE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:,(\d{1,6}))? - "
    r"([^ ]*) {1,40}- (\d*) - ([A-Za-z]+) - ([^ ]*) - ([^ ]*) - (.*)",
    re.DOTALL,
)


def parse(line: str, clock: Clock) -> Fields | None:
    """Parse an original LogAggregator line, or return None."""
    match = _LINE.match(line)
    if match is None:
        return None
    year, month, day, hour, minute, sec, frac, ip, pid, lvl, func, file, message = match.groups()
    fields: Fields = {
        "@timestamp": local_parts(
            clock, line[:19], year, month, day, hour, minute, sec, frac or ""
        ),
        "message": message.rstrip(),
        "log": {
            "level": lvl.lower(),
            "origin": {"function": func, "file": {"name": file}},
        },
        "event": {"dataset": DATASET},
    }
    pid_number = small_int(pid)
    if pid_number is not None:
        fields["process"] = {"pid": pid_number}
    if ip and ip != "-":
        address = valid_ip(ip)
        if address is not None:
            fields["client"] = {"ip": address}
        else:
            fields["labels"] = {"client_address": ip}
    return fields


FORMAT = Format("logagg", DATASET, parse)
