"""Choosing the format of each line.

Most batches hold one format, so the format that parsed the previous line is tried
first; only when it declines are the others tried, strict ones in
:data:`~logagg.parser.formats.DETECTION_ORDER`, loose ones last. A service whose format
is pinned by the operator skips detection. A line no format takes is left to the
structure finder (:mod:`logagg.parser.finder`), which reads the batch's lines together.

A reading whose host name is no host name (``[INFO]``, ``0``, ``stdout``: the word after
an application's RFC 3339 time, taken by the BSD syslog layout for a host) is declined,
so that the line goes on to the other formats and the finder.
"""

from __future__ import annotations

import re

from logagg.parser.fields import Fields
from logagg.parser.formats import DETECTION_ORDER, TEXT_FORMATS, Format
from logagg.parser.timestamps import Clock

# A DNS name or an IP address: letters, digits, "-", "_", "." and ":" (IPv6), with a
# letter or a separator somewhere (a bare number is no host).
_HOST = re.compile(r"(?=[0-9_-]*+[A-Za-z.:])[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}")
_NOT_HOSTS = frozenset(("stdout", "stderr"))


def _plausible(fields: Fields) -> bool:
    host = fields.get("host")
    if host is None:
        return True
    name = host.get("hostname")
    return name is None or (_HOST.fullmatch(name) is not None and name not in _NOT_HOSTS)


class Detector:
    """Finds the format of successive lines, remembering the last strict winner.

    One detector serves one batch (or one stream of lines); it is not shared between
    threads.
    """

    __slots__ = ("_last", "_order", "_pinned")

    def __init__(self, pinned: Format | None = None, dedicated: bool = True) -> None:
        self._pinned = pinned
        formats = tuple(f for f in DETECTION_ORDER if dedicated or f not in TEXT_FORMATS)
        self._order = tuple(fmt for fmt in formats if not fmt.loose) + tuple(
            fmt for fmt in formats if fmt.loose
        )
        self._last: Format | None = None

    def parse(self, line: str, clock: Clock) -> Fields | None:
        """The partial event of ``line`` by the first format that accepts it, or None."""
        if self._pinned is not None:
            return self._pinned.parse(line, clock)
        last = self._last
        if last is not None:
            fields = last.parse(line, clock)
            if fields is not None and _plausible(fields):
                return fields
        for fmt in self._order:
            if fmt is last:
                continue
            fields = fmt.parse(line, clock)
            if fields is not None and _plausible(fields):
                if not fmt.loose:
                    self._last = fmt
                return fields
        return None
