"""The structure finder's timestamp catalogue: the date and time shapes log headers use.

Each shape is a regular expression anchored at a header token (bounded quantifiers
only, so a match costs time linear in the line) plus a check of the pieces it split.
The shapes, by their first character:

* a digit: dates with ``-``, ``/`` or ``.`` between year, month and day in any common
  order (``2025-03-07``, ``07.03.2025``, ``03/07/25``, ``07/Mar/2025``, ``2025.03.07``),
  the year-less ``MM-dd`` of Android's logcat, compact ``yyyyMMdd`` and ``yyMMdd`` dates,
  day-first dates with a month name (``07 Mar 2025``, RFC 1123 without its weekday),
  epoch seconds and milliseconds, and a time of day alone;
* a letter: month-first dates with an optional weekday, year and zone (syslog's
  ``Mar  7 09:01:02``, C's ``ctime`` ``Fri Mar 07 09:01:02 2025``, ``date``'s
  ``Fri Mar 07 09:01:02 UTC 2025``, Java's ``Mar 7, 2025 9:01:02 AM``, JavaScript's
  ``Fri Mar 07 2025 09:01:02 GMT+0100``), weekday-first RFC 1123 dates, and glog/klog's
  ``I0307 09:01:02.123456`` whose first letter is the level;
* ``@``: TAI64N labels (daemontools, runit, s6).

The time joins the date by a space, ``T``, ``-``, ``_``, ``:``, ``|``, ``,`` or nothing
(compact forms); seconds may carry a fraction of 1-9 digits after ``.``, ``,`` or
``:``; ``AM``/``PM`` and a zone (``Z``, ``UTC``, ``GMT``, an offset or an unambiguous
abbreviation) may follow. Pieces out of range (month 13, hour 25) mean "not a
timestamp", so the line is not given an invented date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from logagg.parser.timestamps import (
    Clock,
    Timestamp,
    TimestampProblem,
    epoch,
    local_parts,
    offset_parts,
    yearless,
)

_MONTH_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_FULL = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTH_NUMBERS: dict[str, int] = {
    **{name: number for number, name in enumerate(_MONTH_ABBR, start=1)},
    **{name: number for number, name in enumerate(_MONTH_FULL, start=1)},
    "sept": 9,
}
WEEKDAYS = frozenset(
    (
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    )
)
# Zone abbreviations whose offset is not in doubt. CST (China / US Central), IST
# (India / Ireland / Israel) and other clashing names are left out: a wrong offset is
# worse than the receiving zone.
ZONES: dict[str, str] = {
    "Z": "+00:00",
    "UT": "+00:00",
    "UTC": "+00:00",
    "GMT": "+00:00",
    "WET": "+00:00",
    "WEST": "+01:00",
    "BST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "MET": "+01:00",
    "MEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "HKT": "+08:00",
    "SGT": "+08:00",
    "AWST": "+08:00",
    "JST": "+09:00",
    "KST": "+09:00",
    "ACST": "+09:30",
    "AEST": "+10:00",
    "AEDT": "+11:00",
    "NZST": "+12:00",
    "NZDT": "+13:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
}

# ASCII digits only (re.ASCII below): other scripts' digits are no timestamp here.
_FRAC = r"(?:[.,:](?P<frac>\d{1,9}))?"
_TIME = r"(?P<H>\d{1,2})(?P<ts>[:.])(?P<M>\d\d)(?:(?P=ts)(?P<S>\d\d)" + _FRAC + r")?"
_AMPM = r"(?:\s?(?P<ampm>[AaPp][Mm])(?![A-Za-z]))?"
_ZONE = (
    r"(?:\s?(?P<zone>(?:UTC|GMT)(?:[+-]\d\d(?::?\d\d)?)?(?![A-Za-z])"
    r"|Z(?![A-Za-z])|[+-]\d\d(?::?\d\d)?(?!\d)|[A-Z]{2,5}(?![A-Za-z])))?"
)
_END = r"(?![\w])"
_JOIN = r"(?:, ?| ?\| ?|[T_:-]| {1,3})"

# Date first, its parts separated by "-", "/" or "." (a month name allowed in the middle).
_NUMERIC = re.compile(
    r"(?P<a>\d{1,4})(?P<s>[-/.])(?P<b>\d{1,2}|[A-Za-z]{3,9})(?P=s)(?P<c>\d{1,4})"
    + _JOIN
    + _TIME
    + _AMPM
    + _ZONE
    + _END,
    re.ASCII,
)
# A year-less MM-dd (logcat), MM/dd, or dd.MM / MM.dd (the batch decides).
_MONTH_DAY = re.compile(
    r"(?P<b>\d\d)(?P<s>[-/.])(?P<c>\d\d) {1,3}" + _TIME + _ZONE + _END, re.ASCII
)
# yyyyMMdd / yyMMdd, then the time with or without colons.
_COMPACT = re.compile(
    r"(?P<d>\d{8}|\d{6})(?:[T_ -]|)"
    r"(?:(?P<H>\d\d)(?P<M>\d\d)(?P<S>\d\d)|(?P<H2>\d\d):(?P<M2>\d\d):(?P<S2>\d\d))"
    + _FRAC
    + _ZONE
    + _END,
    re.ASCII,
)
# Day, month name, year: "07 Mar 2025 09:01:02", "Fri, 07 Mar 2025 09:01:02 GMT".
_DAY_NAMED = re.compile(
    r"(?:(?P<wd>[A-Za-z]{3,9}),? )?(?P<d>\d{1,2})[ -](?P<mon>[A-Za-z]{3,9})[ -](?P<y>\d{4}|\d\d)"
    + _JOIN
    + _TIME
    + _AMPM
    + _ZONE
    + _END,
    re.ASCII,
)
# Month name first: syslog, ctime, date(1), Java's medium format, JavaScript.
_NAMED = re.compile(
    r"(?:(?P<wd>[A-Za-z]{3,9}),?\s{1,2})?(?P<mon>[A-Za-z]{3,9})\.?[ -]{1,2}(?P<d>\d{1,2})"
    r"(?:(?:,? |-)(?P<y>\d{4}))?(?:,? {1,2}|[T:-])"
    + _TIME
    + _AMPM
    + _ZONE
    + r"(?: (?P<y2>\d{4}))?"
    + _END,
    re.ASCII,
)
# glog / klog: Lmmdd hh:mm:ss.uuuuuu (the level letter is part of the stamp).
_KLOG = re.compile(
    r"(?P<lvl>[IWEF])(?P<b>\d\d)(?P<c>\d\d) (?P<H>\d\d):(?P<M>\d\d):(?P<S>\d\d)\.(?P<frac>\d{6})"
    + _END,
    re.ASCII,
)
# TAI64N (daemontools, runit, s6): "@" and 24 hex digits, 2**62 + seconds, nanoseconds.
_TAI64N = re.compile(r"@(?P<s>4[0-9a-fA-F]{15})(?P<n>[0-9a-fA-F]{8})" + _END, re.ASCII)
_EPOCH = re.compile(r"(?P<e>\d{13}|\d{10})(?:\.(?P<frac>\d{1,9}))?" + _END, re.ASCII)
_TIME_ONLY = re.compile(
    r"(?P<H>\d\d)(?P<ts>:)(?P<M>\d\d):(?P<S>\d\d)" + _FRAC + _AMPM + _ZONE + _END, re.ASCII
)

# Readings of a numeric date's three parts a, b, c (in preference order when several
# are possible and the batch does not decide).
YMD, DMY, MDY = "ymd", "dmy", "mdy"
KLOG_LEVELS = {"I": "info", "W": "warning", "E": "error", "F": "fatal"}  # glog's names
_EPOCH_FIRST = 946_684_800  # 2000-01-01
_EPOCH_LAST = 4_102_444_800  # 2100-01-01


@dataclass(frozen=True, slots=True)
class Stamp:
    """A timestamp found in a header: its shape, where it ends, and its pieces.

    ``shape`` names the catalogue entry and the writing of its date (separators and
    part widths), the same for every line a logger writes; ``readings`` are the orders
    the date's numeric parts may be read in (empty when not in doubt); ``level`` is a
    level the stamp itself carries (klog's first letter).
    """

    shape: str
    end: int
    parts: tuple[str, str, str]  # the date's parts a, b, c as written (c may be "")
    readings: tuple[str, ...]
    hour: str
    minute: str
    second: str
    frac: str
    ampm: str
    zone: str
    level: str = ""


def _month(text: str) -> int:
    if text.isdigit():
        return int(text)
    return MONTH_NUMBERS.get(text.lower(), 0)


def _time_ok(hour: str, minute: str, second: str, ampm: str) -> bool:
    h = int(hour)
    if ampm:
        return 1 <= h <= 12 and int(minute) < 60 and int(second or "0") <= 60
    return h < 24 and int(minute) < 60 and int(second or "0") <= 60


def _zone_of(match: re.Match[str]) -> tuple[str, int]:
    """The zone text of a match and where the stamp ends (before an unknown word)."""
    zone = match.group("zone") or ""
    if zone and zone[0].isalpha() and zone not in ZONES and zone[:3] not in ("UTC", "GMT"):
        return "", match.start("zone")
    return zone, match.end()


def _trim(line: str, start: int, end: int) -> int:
    """``end`` moved back over the spaces a zone-less match may have taken."""
    while end > start and line[end - 1] == " ":
        end -= 1
    return end


def _date_readings(a: str, b: str, c: str, sep: str) -> tuple[str, ...]:
    """The possible orders of a date's parts (a month name fixes the order)."""
    if not b.isdigit():
        if MONTH_NUMBERS.get(b.lower(), 0) == 0:
            return ()
        if len(a) == 4 and len(c) <= 2:
            return (YMD,)
        if len(a) <= 2 and len(c) in (2, 4):
            return (DMY,)
        return ()
    if len(a) == 4:
        return (YMD,) if len(c) <= 2 else ()
    if len(a) == 3 or len(c) == 3 or len(c) == 1:
        return ()
    candidates: tuple[str, ...]
    if len(c) == 4:
        candidates = (MDY, DMY) if sep == "/" else (DMY, MDY)
    elif len(a) == 2:
        candidates = (YMD, DMY, MDY) if sep != "." else (DMY, YMD, MDY)
    else:
        candidates = (MDY, DMY) if sep == "/" else (DMY, MDY)
    return tuple(r for r in candidates if valid_reading(r, a, b, c))


def valid_reading(reading: str, a: str, b: str, c: str) -> bool:
    """Whether reading ``a``, ``b``, ``c`` in ``reading`` order gives a real month and day."""
    year, month, day = ordered(reading, a, b, c)
    m = _month(month)
    if not 1 <= m <= 12 or not day.isdigit() or not 1 <= int(day) <= 31:
        return False
    return year == "" or year.isdigit()


def ordered(reading: str, a: str, b: str, c: str) -> tuple[str, str, str]:
    """Year, month and day of the parts in ``reading`` order."""
    if reading == YMD:
        return a, b, c
    if reading == DMY:
        return c, b, a
    return c, a, b


def _numeric(line: str, pos: int) -> Stamp | None:
    match = _NUMERIC.match(line, pos)
    if match is None:
        return None
    a, sep, b, c = match.group("a", "s", "b", "c")
    readings = _date_readings(a, b, c, sep)
    hour, minute, second = match.group("H", "M", "S")
    ampm = match.group("ampm") or ""
    if not readings or not _time_ok(hour, minute, second, ampm):
        return None
    if match.group("ts") == "." and second is None:
        return None
    zone, end = _zone_of(match)
    shape = f"n{sep}{len(a)}{'a' if b.isalpha() else len(b)}{len(c)}"
    return Stamp(
        shape,
        _trim(line, pos, end),
        (a, b, c),
        readings,
        hour,
        minute,
        second or "00",
        match.group("frac") or "",
        ampm,
        zone,
    )


def _month_day(line: str, pos: int) -> Stamp | None:
    match = _MONTH_DAY.match(line, pos)
    if match is None:
        return None
    first, second_part, sep = match.group("b", "c", "s")
    hour, minute, second = match.group("H", "M", "S")
    if match.group("ts") != ":" or second is None or not _time_ok(hour, minute, second, ""):
        return None
    # the parts (first, second, no year) read month first or day first
    candidates = (DMY, MDY) if sep == "." else (MDY, DMY)
    readings = tuple(r for r in candidates if valid_reading(r, first, second_part, ""))
    if not readings:
        return None
    zone, end = _zone_of(match)
    frac = match.group("frac") or ""
    return Stamp(
        "md" + sep, _trim(line, pos, end), (first, second_part, ""), readings, hour, minute,
        second, frac, "", zone,
    )  # fmt: skip


def _compact(line: str, pos: int) -> Stamp | None:
    match = _COMPACT.match(line, pos)
    if match is None:
        return None
    digits = match.group("d")
    if match.group("H") is not None:
        hour, minute, second = match.group("H", "M", "S")
        colons = ""
    else:
        hour, minute, second = match.group("H2", "M2", "S2")
        colons = ":"
    year, month, day = (digits[:4], digits[4:6], digits[6:]) if len(digits) == 8 else (
        digits[:2], digits[2:4], digits[4:]
    )  # fmt: skip
    if not valid_reading(YMD, year, month, day) or not _time_ok(hour, minute, second, ""):
        return None
    if len(year) == 4 and not "1990" <= year <= "2099":
        return None
    zone, end = _zone_of(match)
    return Stamp(
        f"c{len(digits)}{colons}", _trim(line, pos, end), (year, month, day), (YMD,), hour,
        minute, second, match.group("frac") or "", "", zone,
    )  # fmt: skip


def _day_named(line: str, pos: int) -> Stamp | None:
    match = _DAY_NAMED.match(line, pos)
    if match is None:
        return None
    weekday = match.group("wd")
    if weekday is not None and weekday.lower() not in WEEKDAYS:
        return None
    day, month, year = match.group("d", "mon", "y")
    hour, minute, second = match.group("H", "M", "S")
    ampm = match.group("ampm") or ""
    if not MONTH_NUMBERS.get(month.lower()) or not 1 <= int(day) <= 31:
        return None
    if not _time_ok(hour, minute, second, ampm) or match.group("ts") != ":":
        return None
    zone, end = _zone_of(match)
    return Stamp(
        "dn", _trim(line, pos, end), (day, month, year), (DMY,), hour, minute, second or "00",
        match.group("frac") or "", ampm, zone,
    )  # fmt: skip


def _named(line: str, pos: int) -> Stamp | None:
    match = _NAMED.match(line, pos)
    if match is None:
        return None
    weekday = match.group("wd")
    if weekday is not None and weekday.lower() not in WEEKDAYS:
        return None
    month, day = match.group("mon", "d")
    year = match.group("y") or match.group("y2") or ""
    hour, minute, second = match.group("H", "M", "S")
    ampm = match.group("ampm") or ""
    if not MONTH_NUMBERS.get(month.lower()) or not 1 <= int(day) <= 31:
        return None
    if not _time_ok(hour, minute, second, ampm) or match.group("ts") != ":":
        return None
    zone, end = _zone_of(match)
    if match.group("y2") is not None and zone == "" and match.group("zone"):
        return None  # an unknown word between the time and the year
    if match.group("y2") is None:
        end = _trim(line, pos, end)
    return Stamp(
        "mn" + ("y" if year else ""), end, (day, month, year), (DMY,), hour, minute,
        second or "00", match.group("frac") or "", ampm, zone,
    )  # fmt: skip


def _klog(line: str, pos: int) -> Stamp | None:
    match = _KLOG.match(line, pos)
    if match is None:
        return None
    b, c = match.group("b", "c")
    hour, minute, second = match.group("H", "M", "S")
    if not (1 <= int(b) <= 12 and 1 <= int(c) <= 31) or not _time_ok(hour, minute, second, ""):
        return None
    return Stamp(
        "klog", match.end(), ("", b, c), (), hour, minute, second, match.group("frac"), "", "",
        KLOG_LEVELS[match.group("lvl")],
    )  # fmt: skip


def _epoch(line: str, pos: int) -> Stamp | None:
    match = _EPOCH.match(line, pos)
    if match is None:
        return None
    digits = match.group("e")
    seconds = int(digits) if len(digits) == 10 else int(digits) // 1000
    if not _EPOCH_FIRST <= seconds < _EPOCH_LAST:
        return None
    return Stamp(
        f"e{len(digits)}", match.end(), (digits, "", ""), (), "", "", "", match.group("frac") or "",
        "", "",
    )  # fmt: skip


def _tai64n(line: str, pos: int) -> Stamp | None:
    match = _TAI64N.match(line, pos)
    if match is None:
        return None
    # TAI runs ahead of UTC by the leap seconds (37 since 2017); close enough for a log
    # line, and what daemontools' own tai64nlocal ignores too.
    seconds = int(match.group("s"), 16) - (1 << 62)
    if not _EPOCH_FIRST <= seconds < _EPOCH_LAST:
        return None
    nanos = int(match.group("n"), 16)
    if nanos > 999_999_999:
        return None
    return Stamp("tai", match.end(), (str(seconds), "", ""), (), "", "", "", f"{nanos:09d}", "", "")


def _time_only(line: str, pos: int) -> Stamp | None:
    match = _TIME_ONLY.match(line, pos)
    if match is None:
        return None
    hour, minute, second = match.group("H", "M", "S")
    ampm = match.group("ampm") or ""
    if not _time_ok(hour, minute, second, ampm):
        return None
    zone, end = _zone_of(match)
    return Stamp(
        "t", _trim(line, pos, end), ("", "", ""), (), hour, minute, second,
        match.group("frac") or "", ampm, zone,
    )  # fmt: skip


def find_stamp(line: str, pos: int, leading: bool) -> Stamp | None:
    """The catalogue's timestamp starting at ``pos`` of ``line``, or None.

    ``leading`` says the position is the line's first token or inside a bracket, the
    only places where an epoch number or a time of day alone is taken for a timestamp.
    """
    first = line[pos : pos + 1]
    if first.isdigit():
        third = line[pos + 2 : pos + 3]
        fifth = line[pos + 4 : pos + 5]
        if third in ("-", "/", ".") or fifth in ("-", "/", ".") or line[pos + 1 : pos + 2] in (
            "-", "/", ".",
        ):  # fmt: skip
            found = _numeric(line, pos) or _month_day(line, pos)
            if found is not None:
                return found
        if third == ":":
            return _time_only(line, pos) if leading else None
        if third == " " or line[pos + 1 : pos + 2] == " ":
            return _day_named(line, pos)
        found = _compact(line, pos)
        if found is not None:
            return found
        return _epoch(line, pos) if leading else None
    if first == "@":
        return _tai64n(line, pos) if leading else None
    if first.isalpha():
        if first in "IWEF" and line[pos + 1 : pos + 2].isdigit():
            return _klog(line, pos)
        return _named(line, pos) or _day_named(line, pos)
    return None


def resolve(stamp: Stamp, reading: str, clock: Clock) -> Timestamp:
    """The UTC timestamp of ``stamp`` with its date read in ``reading`` order."""
    hour, minute, second, frac = stamp.hour, stamp.minute, stamp.second, stamp.frac
    shape = stamp.shape
    if shape[0] == "e" or shape == "tai":
        value = float(stamp.parts[0] + ("." + frac if frac else ""))
        return epoch(clock, value)
    if stamp.ampm:
        h = int(hour) % 12 + (12 if stamp.ampm in ("pm", "PM", "Pm", "pM") else 0)
        hour = str(h)
    hour, minute, second = hour.zfill(2), minute.zfill(2), second.zfill(2)
    if shape == "t":
        return _today(clock, hour, minute, second, frac, stamp.zone)
    a, b, c = stamp.parts
    if shape.startswith("md"):
        _, month, day = ordered(reading or stamp.readings[0], a, b, c)
    if shape == "klog" or shape.startswith("md") or (shape.startswith("mn") and not c):
        if shape.startswith("mn"):
            month, day = b, a
        elif shape == "klog":
            month, day = b, c
        number = _month(month)
        if not number:
            return TimestampProblem.INVALID
        return yearless(clock, _MONTH_ABBR[number - 1], str(int(day)), hour, minute, second, frac)
    year, month_text, day = ordered(reading, a, b, c)
    if len(year) == 2:
        year = "20" + year
    number = _month(month_text)
    if not number or not year.isdigit():
        return TimestampProblem.INVALID
    month, day = f"{number:02d}", day.zfill(2)
    zone = stamp.zone
    if zone:
        offset = ZONES.get(zone)
        if offset is None:
            offset = zone[3:] if zone[:3] in ("UTC", "GMT") else zone
            offset = offset or "+00:00"
        return offset_parts(clock, year, month, day, hour, minute, second, frac, offset)
    key = f"f{year}{month}{day}{hour}{minute}{second}"
    return local_parts(clock, key, year, month, day, hour, minute, second, frac)


_TOLERANCE = timedelta(minutes=10)


def _today(clock: Clock, hour: str, minute: str, second: str, frac: str, zone: str) -> Timestamp:
    """A time of day alone, on the receive date (the day before when that is later)."""
    received = datetime.fromisoformat(clock.received_iso.replace("Z", "+00:00"))
    local = received if clock.zone is None else received.astimezone(clock.zone)
    if zone:
        offset = ZONES.get(zone, zone[3:] if zone[:3] in ("UTC", "GMT") else zone) or "+00:00"
        try:
            local = received.astimezone(datetime.strptime(offset, "%z").tzinfo)
        except ValueError:
            return TimestampProblem.INVALID
    try:
        moment = local.replace(
            hour=int(hour), minute=int(minute), second=min(int(second), 59), microsecond=0
        )
    except ValueError:
        return TimestampProblem.INVALID
    if moment - local > _TOLERANCE:
        moment -= timedelta(days=1)
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    key = f"t{text}"
    return local_parts(clock.__class__(None, "", clock.received_iso, clock.latest), key,
                       text[:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19],
                       frac)  # fmt: skip
