"""Timestamps: from the shapes found in log lines to RFC 3339 UTC strings.

This is the hot path of the parser, so nothing here calls ``strptime``. Each format
hands over the pieces its regex already split (year, month, ... as text), the pieces are
checked by hand, and the common case (a zone-less time read as UTC, or an explicit UTC
offset) is formatted by string concatenation. Results for the same second in the same
zone are cached, since a batch holds many lines per second.

Every function returns either the timestamp as ``YYYY-MM-DDTHH:MM:SS.fffZ`` (or six
fraction digits when the line carries more than milliseconds), or a
:class:`TimestampProblem`, which the event builder turns into a tag and a fallback to the
receive time. No function here raises on bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from logagg.utc import utc_millis


class TimestampProblem(StrEnum):
    """Why a line's timestamp was not used; the value is the tag the event gets."""

    INVALID = "timestamp_invalid"  # no such date or time (Feb 30, 25:00)
    OUT_OF_RANGE = "timestamp_out_of_range"  # a real date, but absurdly far from now


Timestamp = str | TimestampProblem

_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
# Earliest accepted instant: older dates are clock errors (epoch 0 and before).
_EARLIEST = "1970-01-02T00:00:00"
_CACHE_LIMIT = 20_000
# Per zone: the second text a format matched -> its UTC second (None: no such date).
_caches: dict[str, dict[str, str | None]] = {}
_UTC_SECONDS = _caches.setdefault("", {})


@dataclass(frozen=True, slots=True)
class Clock:
    """What a batch's timestamps are judged against.

    ``zone`` reads zone-less timestamps (``None`` means UTC, the fast path); ``received``
    is when ingest accepted the batch; ``latest`` is the last instant accepted as a
    line's timestamp, as an ISO string so that it compares with results as text.
    """

    zone: tzinfo | None
    zone_key: str
    received_iso: str
    latest: str
    seconds: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_batch(
        cls, received: datetime, zone: tzinfo | None, zone_key: str, max_future: timedelta
    ) -> Clock:
        """The clock for a batch received at ``received`` (aware, any zone)."""
        received = received.astimezone(UTC)
        latest = (received + max_future).strftime("%Y-%m-%dT%H:%M:%S.%f")
        seconds = _caches.setdefault(zone_key, {})
        return cls(zone, zone_key, utc_millis(received), latest, seconds)


def _fraction(frac: str) -> str:
    if not frac:
        return ".000Z"
    if len(frac) == 3:
        return "." + frac + "Z"
    if len(frac) < 3:
        return "." + frac.ljust(3, "0") + "Z"
    return "." + frac[:6].ljust(6, "0") + "Z"


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _valid(year: int, month: int, day: int, hour: int, minute: int, sec: int) -> bool:
    if not (1 <= month <= 12 and 1 <= day <= _DAYS[month]):
        return False
    if month == 2 and day == 29 and not _leap(year):
        return False
    return year >= 1 and hour < 24 and minute < 60 and sec <= 60


def _second(
    zone: tzinfo | None,
    cache: dict[str, str | None],
    key: str,
    year: str,
    month: str,
    day: str,
    hour: str,
    minute: str,
    sec: str,
) -> str | None:
    """The UTC ``YYYY-MM-DDTHH:MM:SS`` of a zone-less local second, or None if no such date.

    ``key`` names the second in ``cache`` (the zone's); the digits are converted only the
    first time it is seen.
    """
    cached = cache.get(key, "")
    if cached != "":
        return cached
    result = _compute_second(
        zone, int(year), int(month), int(day), int(hour), int(minute), int(sec)
    )
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = result
    return result


def _compute_second(
    zone: tzinfo | None, year: int, month: int, day: int, hour: int, minute: int, sec: int
) -> str | None:
    if not _valid(year, month, day, hour, minute, sec):
        return None
    sec = min(sec, 59)  # a leap second is kept in its minute
    if zone is None:
        return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{sec:02d}"
    try:
        local = datetime(year, month, day, hour, minute, sec, tzinfo=zone)
        return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except (ValueError, OverflowError):
        return None


def _judge(clock: Clock, second: str | None, frac: str) -> Timestamp:
    if second is None:
        return TimestampProblem.INVALID
    if second > clock.latest or second < _EARLIEST:
        return TimestampProblem.OUT_OF_RANGE
    return second + _fraction(frac)


def local_parts(
    clock: Clock,
    key: str,
    year: str,
    month: str,
    day: str,
    hour: str,
    minute: str,
    sec: str,
    frac: str = "",
) -> Timestamp:
    """A zone-less timestamp given as digit strings, read in the clock's zone.

    ``key`` identifies the second (usually the matched text up to the seconds) so that
    the check and zone conversion run once per distinct second.
    """
    second = clock.seconds.get(key, "")
    if second == "":
        second = _second(clock.zone, clock.seconds, key, year, month, day, hour, minute, sec)
    if second is None:
        return TimestampProblem.INVALID
    if second > clock.latest or second < _EARLIEST:
        return TimestampProblem.OUT_OF_RANGE
    if len(frac) == 3:
        return f"{second}.{frac}Z"
    return second + _fraction(frac)


def offset_parts(
    clock: Clock,
    year: str,
    month: str,
    day: str,
    hour: str,
    minute: str,
    sec: str,
    frac: str,
    offset: str,
) -> Timestamp:
    """A timestamp with an explicit zone: ``Z``, ``+HH:MM``, ``+HHMM``, ``+HH`` or ``UTC``."""
    if offset in ("Z", "z", "+00:00", "+0000", "-00:00", "-0000", "UTC", "GMT", "+00"):
        key = f"{year}-{month}-{day}T{hour}:{minute}:{sec}"
        second = _second(None, _UTC_SECONDS, key, year, month, day, hour, minute, sec)
        return _judge(clock, second, frac)
    # Cached like the UTC path: an access log's lines share their offset and their second.
    key = f"{year}-{month}-{day}T{hour}:{minute}:{sec}{offset}"
    second = _UTC_SECONDS.get(key, "")
    if second == "":
        second = _offset_second(year, month, day, hour, minute, sec, offset)
        if len(_UTC_SECONDS) >= _CACHE_LIMIT:
            _UTC_SECONDS.clear()
        _UTC_SECONDS[key] = second
    return _judge(clock, second, frac)


def _offset_second(
    year: str, month: str, day: str, hour: str, minute: str, sec: str, offset: str
) -> str | None:
    """The UTC second of a local time at ``offset`` (``+HH:MM``, ``+HHMM``, ``+HH``)."""
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    if not digits.isdigit() or len(digits) not in (2, 4):
        return None
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) == 4 else 0)
    if minutes > 18 * 60:
        return None
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), min(int(sec), 59), tzinfo=UTC
        ) - timedelta(minutes=sign * minutes)
    except (ValueError, OverflowError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def month_number(name: str) -> int:
    """1-12 for an English month abbreviation (any case, extra letters ignored), else 0."""
    return MONTHS.get(name[:3].lower(), 0)


def yearless(
    clock: Clock, month: str, day: str, hour: str, minute: str, sec: str, frac: str = ""
) -> Timestamp:
    """A timestamp without a year (RFC 3164 ``Jun 14 15:16:01``).

    The year is the latest one that does not put the line further ahead than the clock
    accepts (``LOGAGG_PARSER_MAX_FUTURE`` after the receive time): a ``Dec 31`` line
    received on 1 January belongs to last year, a ``Jan 1`` line received on 31 December
    (a sender's clock a little ahead) to next year.
    """
    year_key = (clock.zone_key, clock.latest[:16], month, day)
    year = _years.get(year_key)
    if year is None:
        year = _infer_year(clock, month, day)
        if len(_years) >= _CACHE_LIMIT:
            _years.clear()
        _years[year_key] = year
    if year == 0:
        return TimestampProblem.INVALID
    key = f"{year}-{month}-{day}T{hour}:{minute}:{sec}"
    text = clock.seconds.get(key, "")
    if text == "":  # not cached yet (None is a cached "no such second")
        text = _second(
            clock.zone,
            clock.seconds,
            key,
            str(year),
            str(month_number(month)),
            day,
            hour,
            minute,
            sec,
        )
    return _judge(clock, text, frac)


_years: dict[tuple[str, str, str, str], int] = {}


def _infer_year(clock: Clock, month: str, day: str) -> int:
    """The year of a yearless date (0 when the date exists in no year considered)."""
    number = month_number(month)
    if not number or not day.strip().isdigit():
        return 0
    day_number = int(day)
    # The latest year that does not put the line past what the clock accepts
    # (``LOGAGG_PARSER_MAX_FUTURE`` after the receive time): a date further ahead is
    # last year's, not this year's to be rejected as out of range.
    latest = datetime.fromisoformat(clock.latest).replace(tzinfo=UTC)
    local_latest = latest if clock.zone is None else latest.astimezone(clock.zone)
    horizon = local_latest.timetuple()[:3]
    year = local_latest.year
    for candidate in (year + 1, year, year - 1, year - 2, year - 3, year - 4):
        if (candidate, number, day_number) > horizon:
            continue
        if _valid(candidate, number, day_number, 0, 0, 0):
            return candidate
        if not (number == 2 and day_number == 29):
            return 0
    return 0


def epoch(clock: Clock, value: float) -> Timestamp:
    """A Unix time in seconds, milliseconds, microseconds or nanoseconds (chosen by size)."""
    if value != value or value in (float("inf"), float("-inf")):
        return TimestampProblem.INVALID
    magnitude = abs(value)
    if magnitude >= 1e17:
        value /= 1e9
    elif magnitude >= 1e14:
        value /= 1e6
    elif magnitude >= 1e11:
        value /= 1e3
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError):
        return TimestampProblem.OUT_OF_RANGE
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = f"{moment.microsecond // 1000:03d}"
    return _judge(clock, text, millis)


_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?"
    r"\s?(Z|z|[+-]\d\d(?::?\d\d)?|UTC|GMT)?$"
)


def from_text(clock: Clock, text: str) -> Timestamp:
    """A timestamp written as text in a structured field (JSON, logfmt, a custom pattern).

    Accepts RFC 3339 / ISO 8601 (``T`` or space, ``,`` or ``.`` fraction, optional zone)
    and Unix times written as digits.
    """
    text = text.strip()
    match = _ISO.match(text)
    if match is not None:
        year, month, day, hour, minute, sec, frac, zone = match.groups()
        sec = sec or "00"
        if zone is None:
            key = text[:19]
            return local_parts(clock, key, year, month, day, hour, minute, sec, frac or "")
        return offset_parts(clock, year, month, day, hour, minute, sec, frac or "", zone)
    try:
        return epoch(clock, float(text))
    except ValueError:
        return TimestampProblem.INVALID
