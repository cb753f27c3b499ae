"""The line formats the parser knows, by name, in the order auto-detection tries them."""

from __future__ import annotations

from logagg.parser.formats import application, http, json_object, logfmt, original, squid, syslog
from logagg.parser.formats.base import Format, ParseFunction
from logagg.parser.formats.pattern import PatternError, custom_format

# Detection order: the most specific layouts first, so that a line that fits several
# (an original LogAggregator line also starts like an application line) gets the
# narrowest reading. A line none of them takes goes to the structure finder.
DETECTION_ORDER: tuple[Format, ...] = (
    json_object.FORMAT,
    original.FORMAT,
    application.FORMAT,
    syslog.RFC5424,
    syslog.RFC3164,
    http.ACCESS,
    http.APACHE_ERROR,
    http.NGINX_ERROR,
    squid.FORMAT,
    logfmt.FORMAT,
)
# Formats that read text lines (every one but JSON objects): the ones
# ``ParserConfig.dedicated_formats`` turns off, leaving text lines to the finder.
TEXT_FORMATS = frozenset(fmt for fmt in DETECTION_ORDER if fmt is not json_object.FORMAT)

# ``timestamped`` (any line that starts with an application timestamp) is no longer
# detected, since the structure finder reads those lines better; it can still be pinned.
BY_NAME: dict[str, Format] = {fmt.name: fmt for fmt in (*DETECTION_ORDER, application.LOOSE_FORMAT)}

__all__ = [
    "BY_NAME",
    "DETECTION_ORDER",
    "TEXT_FORMATS",
    "Format",
    "ParseFunction",
    "PatternError",
    "custom_format",
]
