"""The structure finder: timestamp, level, message and header fields of unknown lines.

A line no dedicated format accepts is read in three steps:

1. its header (the first :data:`HEADER_LIMIT` characters) is cut into tokens, and the
   first token (of the first six) that starts a timestamp of the catalogue in
   :mod:`logagg.parser.stamps` gives the time;
2. the tokens after it are classified (a level word, a single level letter, a number,
   a bracket, ``name[pid]:`` or ``name:``, a dotted logger name, ``file.go:12]``, a
   separator ``-`` or ``|``, another word; see :class:`Item`) and a small grammar says
   where the header ends: at a level and what may follow it (thread, pid, ``logger:``),
   at a ``program[pid]:`` tag, or right after the timestamp (``|``-separated fields
   right after the time are read field by field instead);
3. what follows the header is the message, whole.

A line without a timestamp is read only when it starts with a level (``ERROR:``,
``[WARN]``, Python's ``WARNING:root:``) or with the kernel's seconds since boot.

**Batch learning.** One batch holds one service's lines, so the header is learned from
the batch: every line's reading gives a *signature* (where the timestamp stands, its
shape, and the kinds of the header tokens), the signature most lines share becomes the
batch's :class:`Structure`, and every line that fits it is read by it. A line that does
not fit is read alone, more cautiously (no single-letter levels). So a message that
starts with ``Error`` or holds a date does not change the header, and single letters
(``I``, ``W``, ``E``) count as levels only where at least :data:`MIN_LETTER_SUPPORT`
lines show them at the same place. A :class:`Memory` (a bounded LRU, per service) keeps
each service's structure so that the next batch, even a one-line one, starts from it;
a batch whose lines mostly disagree with it learns again.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from logagg.parser.fields import Fields, small_int
from logagg.parser.stamps import (
    MONTH_NUMBERS,
    WEEKDAYS,
    Stamp,
    find_stamp,
    ordered,
    resolve,
    valid_reading,
)
from logagg.parser.timestamps import Clock

DATASET = "app.found"
HEADER_LIMIT = 512
MIN_LETTER_SUPPORT = 3
MEMORY_LIMIT = 1024
SAMPLE = 256  # lines of a batch the structure is learned from
_STAMP_TOKENS = 6  # the timestamp is looked for in the header's first tokens only
_ITEMS = 8  # header tokens classified after the timestamp

LEVEL_WORDS = frozenset(
    (
        "trace",
        "trc",
        "trce",
        "debug",
        "dbg",
        "dbug",
        "debug1",
        "debug2",
        "debug3",
        "debug4",
        "debug5",
        "verbose",
        "vrb",
        "fine",
        "finer",
        "finest",
        "config",
        "info",
        "inf",
        "information",
        "informational",
        "notice",
        "log",
        "warn",
        "wrn",
        "warning",
        "err",
        "eror",
        "error",
        "severe",
        "crit",
        "crt",
        "critical",
        "fatal",
        "ftl",
        "alert",
        "emerg",
        "emergency",
        "panic",
    )
)
_ABBREVIATIONS = {
    "trc": "trace",
    "trce": "trace",
    "dbg": "debug",
    "dbug": "debug",
    "vrb": "verbose",
    "inf": "info",
    "wrn": "warn",
    "eror": "error",
    "crt": "critical",
    "ftl": "fatal",
}
# Level words that are also ordinary English or log words: read as levels only when
# written in capitals or in brackets.
_WEAK_WORDS = frozenset(("log", "config", "fine", "alert", "panic", "notice", "information"))
# Words that are levels only in brackets (MySQL's "[Note]", "[System]").
_BRACKET_WORDS = frozenset(("note", "system"))
_BRACKET_WEAK = frozenset(("config", "log", "fine"))
_STREAMS = frozenset(("stdout", "stderr"))
# Redis's level marks, levels only where a batch shows them as it would letters.
SYMBOLS = {".": "debug", "-": "verbose", "*": "notice", "#": "warning"}
LETTERS = {
    "I": "info",
    "W": "warn",  # Android logcat's name, before a "Tag:"; elsewhere W is "warning"
    "E": "error",
    "D": "debug",
    "V": "verbose",
    "F": "fatal",
    "T": "trace",
}
# Header tokens: a lone separator, a bracket (one level of nesting), an angle bracket,
# a parenthesis, or any run of non-spaces. Every quantifier is bounded, and the
# bracket's alternatives cannot overlap, so a token costs time linear in its length.
_ITEM = re.compile(
    r"[ \t]{0,64}(?:"
    r"(?P<sep>(?:-{1,3}|[|:>\u00bb])(?=\s|$))"
    r"|\[(?P<br>[^\[\]]{0,200}(?:\[[^\[\]]{0,100}\][^\[\]]{0,100}){0,3})\](?P<brc>:?)(?=\s|$|\[)"
    r"|<(?P<ang>[^<>\s]{1,40})>(?P<angc>:?)(?=\s|$)"
    r"|\((?P<par>[^()]{1,60})\)(?P<parc>:?)(?=\s|$)"
    r"|(?P<tok>\S{1,200}))"
)
_TAG = re.compile(r"(?P<name>(?:[\w$./@()#-]|::){1,100}?)(?:\[(?P<pid>\d{1,10})\])?:")
_PROGRAM = re.compile(r"(?P<name>[\w$./@()-]{1,100}?)\[(?P<pid>\d{1,10})\]")
_DOTTED = re.compile(r"[A-Za-z_$][\w$]{0,100}(?:\.[\w$]{1,100}){1,20}")
# A Java-style logger name: lower-case package segments and at least two dots.
_PACKAGE = re.compile(r"[a-z_][\w$]{0,100}(?:\.[\w$]{1,100}){2,20}")
_SOURCE = re.compile(r"(?P<file>[\w./-]{0,100}[\w-]\.[A-Za-z]{1,10}):(?P<line>\d{1,7})\]?")
_PID_TID = re.compile(r"#?(?P<pid>\d{1,10})(?:#(?P<tid>\d{1,10}))?:?")
_BRACKET_PID = re.compile(r"pid (?P<pid>\d{1,10})(?::tid (?P<tid>\d{1,20}))?")
_UPTIME = re.compile(r"\s{0,12}\d{1,10}\.\d{1,9}")  # the kernel's seconds since boot
_CONNECTION = re.compile(r"\*\d{1,20}")  # nginx's connection number
_ROLE_PID = re.compile(r"(?P<pid>\d{1,10}):[A-Za-z]")  # Redis's "1234:M"
_TRAILING_LOGGER = re.compile(r" \(([a-z_][\w$]{0,60}(?:\.[\w$]{1,60}){2,12})\)$")
_PLAIN_WORD = re.compile(r"[A-Za-z]{2,30}[,.;:]?")
_CAPITALS = re.compile(r"[A-Z][A-Z0-9_]{1,30}")
_PYTHON = re.compile(r"(?P<level>[A-Za-z]{3,13}):(?P<logger>[\w.-]{1,100}):")
_SPACES = re.compile(r"\s{0,4096}")


@dataclass(frozen=True, slots=True)
class Item:
    """One classified header token: its kind letter, its text, and where it ends.

    Kinds: ``L`` a level in capitals or brackets, ``M`` a level word otherwise, ``l`` a
    level letter, ``P`` a number (``pid`` holds a second one), ``B`` a bracket, ``T``
    ``name[pid]:`` or ``name:``, ``J`` a package-style logger, ``D`` another dotted
    name, ``U`` a word in capitals, ``Q`` a word padded to a column's width, ``S``
    ``file.ext:line``, ``K`` the end of a bracket the timestamp opened, ``O`` a container
    stream name, ``-`` a separator, ``W`` any other word.
    """

    kind: str
    text: str
    end: int
    pid: str = ""


@dataclass(frozen=True, slots=True)
class Structure:
    """A learned header layout: timestamp token, shape and reading; header token kinds."""

    stamp_index: int
    shape: str
    reading: str
    kinds: str
    letters: bool


@dataclass(slots=True)
class Reading:
    """One line's reading: the timestamp found, the header items, the header length."""

    stamp_index: int
    stamp: Stamp | None
    prefix: list[Item]
    items: list[Item]
    header: int
    stamp_start: int

    def signature(self) -> tuple[int, str, str]:
        shape = self.stamp.shape if self.stamp is not None else ""
        return self.stamp_index, shape, _kinds(self.items[: self.header])


class Memory:
    """Each service's last learned structure, the ``limit`` most recent services kept."""

    __slots__ = ("_entries", "limit")

    def __init__(self, limit: int = MEMORY_LIMIT) -> None:
        self.limit = limit
        self._entries: OrderedDict[str, Structure] = OrderedDict()

    def get(self, service: str) -> Structure | None:
        """The structure remembered for ``service``, marked as recently used."""
        found = self._entries.get(service)
        if found is not None:
            self._entries.move_to_end(service)
        return found

    def put(self, service: str, structure: Structure) -> None:
        """Remember ``structure`` for ``service``, forgetting the least recently used."""
        self._entries[service] = structure
        self._entries.move_to_end(service)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every structure."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _kinds(items: Sequence[Item]) -> str:
    return "".join(item.kind for item in items)


def _level_word(text: str) -> str | None:
    """``text`` as a level name in lower case, or None (odd casings are not levels).

    Words are kept as written (``warning`` stays ``warning``, as every dedicated format
    keeps them); abbreviations (``WRN``, ``dbug``) become the word they stand for.
    """
    if not text.isalnum() or len(text) > 13:
        return None
    lower = text.lower()
    if lower not in LEVEL_WORDS:
        return None
    if text.isupper() or text.islower() or (text[0].isupper() and text[1:].islower()):
        return _ABBREVIATIONS.get(lower, lower)
    return None


def _bracket(group: str, inner: str, end: int, colon: bool) -> Item:
    text = inner.strip()
    level = _level_word(text)
    if level in _BRACKET_WEAK and not text.isupper():
        level = None  # Envoy's "[config]" names a logger
    if level is None and ":" in text:
        level = _level_word(text.rsplit(":", 1)[1])  # Apache's "[core:error]"
    if level is None and text.lower() in _BRACKET_WORDS:
        level = text.lower()
    if level is not None:
        return Item("L", level, end)
    if text.isdigit() and len(text) <= 10 and group != "ang":
        return Item("P", text, end)
    if group == "br":
        if len(text) == 1 and text in LETTERS:
            return Item("l", text, end)
        pid = _BRACKET_PID.fullmatch(text)
        if pid is not None:
            return Item("P", pid.group("pid"), end, pid.group("tid") or "")
        if text.startswith("client "):  # Apache's client address reads as message
            return Item("W", inner, end)
        if _SOURCE.fullmatch(text) is not None:
            return Item("S", text, end)
    if group != "ang" and ("=" in text or colon) and " " in text:
        return Item("C", inner, end)  # "[KafkaServer id=0]": a context, not a thread
    return Item("B", inner, end)


_KINDS: dict[str, Item] = {}
_KINDS_LIMIT = 50_000


def _classify(match: re.Match[str]) -> Item:
    """The kind of one header token (cached by its text: a logger repeats its tokens)."""
    text = match.group(0).lstrip(" \t")
    known = _KINDS.get(text)
    end = match.end()
    if known is None:
        known = _classify_new(match)
        if len(_KINDS) >= _KINDS_LIMIT:
            _KINDS.clear()
        _KINDS[text] = known
    return Item(known.kind, known.text, end, known.pid)


def _classify_new(match: re.Match[str]) -> Item:
    end = 0
    sep = match.group("sep")
    if sep is not None:
        return Item("-", sep, end)
    for group in ("br", "ang", "par"):
        inner = match.group(group)
        if inner is not None:
            return _bracket(group, inner, end, bool(match.group(group + "c")))
    token = match.group("tok")
    core = token[:-1] if token.endswith(":") and len(token) > 1 else token
    level = _level_word(core)
    if level is not None:
        if core.isupper() or core != token:
            return Item("L", level, end)
        if level not in _WEAK_WORDS:
            return Item("M", level, end)
    if len(core) == 1 and core in LETTERS:
        return Item("l", core, end)
    if token in SYMBOLS:  # "-" never gets here: it is a separator
        return Item("y", token, end)
    if _CONNECTION.fullmatch(token) is not None:
        return Item("N", token, end)
    role = _ROLE_PID.fullmatch(token)
    if role is not None:
        return Item("P", role.group("pid"), end)
    if token.endswith("|") and len(token) > 1:
        return Item("T", token[:-1], end)
    if core in _STREAMS:
        return Item("O", core, end)
    if _SOURCE.fullmatch(token) is not None:
        return Item("S", token, end)
    numbers = _PID_TID.fullmatch(token)
    if numbers is not None and (token[0] == "#" or "#" in token or token.isdigit()):
        return Item("P", numbers.group("pid"), end, numbers.group("tid") or "")
    if token.endswith(":") and len(token) > 1:
        tag = _TAG.fullmatch(token)
        if tag is not None:
            return Item("T", tag.group("name"), end, tag.group("pid") or "")
    if token.endswith("]"):
        program = _PROGRAM.fullmatch(token)
        if program is not None:
            return Item("T", program.group("name"), end, program.group("pid"))
    if _PACKAGE.fullmatch(token) is not None:
        return Item("J", token, end)
    if _DOTTED.fullmatch(token) is not None:
        return Item("D", token, end)
    if _CAPITALS.fullmatch(token) is not None:
        return Item("U", token, end)
    return Item("W", token, end)


def _items(
    line: str, pos: int, limit: int, count: int, open_bracket: bool
) -> tuple[list[Item], int]:
    """The header tokens from ``pos``, and how many end a bracket opened before them."""
    items: list[Item] = []
    closed = 0
    while len(items) < count and pos < limit:
        match = _ITEM.match(line, pos, limit)
        if match is None or match.end() == pos:
            break
        token = match.group("tok")
        if open_bracket and token is not None and token.endswith("]"):
            items.append(_closing(token[:-1], match.end()))
            open_bracket = False
            closed = len(items)
        else:
            item = _classify(match)
            if item.text == ":" and item.kind == "-" and items and items[-1].kind in "WDJUQ":
                item = Item("T", items.pop().text, item.end)  # logcat's padded "Tag   :"
            elif item.kind in "WDU" and line[item.end : item.end + 2] == "  ":
                item = Item("Q", item.text, item.end)  # a word padded to a column's width
            items.append(item)
        pos = match.end()
    return items, closed


def _closing(core: str, end: int) -> Item:
    """The token that ends a bracket the timestamp opened (``INFO my_app]``)."""
    level = _level_word(core)
    if level is not None:
        return Item("L", level, end)
    if len(core) == 1 and core in LETTERS:
        return Item("l", core, end)
    numbers = _PID_TID.fullmatch(core)
    if numbers is not None:
        return Item("P", numbers.group("pid"), end, numbers.group("tid") or "")
    return Item("K", core, end)


def _after_level(kinds: str, i: int) -> int:
    """Where a header ends that has a level at ``i``."""
    n = len(kinds)
    j = i + 1
    if j < n and kinds[j] == "-":
        j += 1
    taken = 0
    while j < n and kinds[j] in "BPKN-" and taken < 3:
        taken += kinds[j] != "-"
        j += 1
    if j < n:
        kind = kinds[j]
        pair = kinds[j : j + 2]
        if kind in "TSK":
            j += 1
        elif kind == "Q":  # a fixed-width component column (MongoDB's "NETWORK  ")
            j += 1 + (kinds[j + 1 : j + 2] == "B")
        elif len(pair) == 2 and (
            (pair[1] == "-" and kind in "DJWU") or (pair[1] in "BC" and kind in "DJU")
        ):
            j += 2
        elif kind == "J":
            j += 1
    if j < n and kinds[j] == "-":
        j += 1
    return j


def header_length(kinds: str, letters: bool, bracketed: bool = False) -> int:
    """How many of the classified tokens ``kinds`` after a timestamp form the header.

    ``bracketed``: the timestamp stood in brackets, so the line is no syslog line and a
    word before a ``name:`` tag is message, not a host name.
    """
    levels = "Lly" if letters else "L"
    words = 0
    limit = min(len(kinds), 6)
    for i in range(limit):
        kind = kinds[i]
        if kind in levels or (kind == "M" and words == 0):
            return _after_level(kinds, i)
        if kind == "T":
            if bracketed and words:
                break
            j = i + 1
            if j < len(kinds) and kinds[j] in levels + "M":
                j += 1
            return j
        if kind in "SK":
            return i + 1 + (kinds[i + 1 : i + 2] == "-")
        if kind == "O" and kinds[i + 1 : i + 2] == "l":
            return i + 2  # a container runtime's "stdout F": stream and line flag
        if kind in "PB-":
            continue
        words += 1
        if words > 3:
            break
    # No level and no tag: only the numbers and brackets right after the time.
    j = 0
    while j < len(kinds) and kinds[j] in "PB":
        j += 1
    return j


def _tokens_before(line: str, limit: int) -> list[tuple[int, bool, re.Match[str]]]:
    """The first header tokens: start, whether an epoch or time alone may start there.

    A plain word (``just``, ``with,``) ends them: a timestamp after one is in a message.
    """
    found: list[tuple[int, bool, re.Match[str]]] = []
    pos = 0
    while len(found) < _STAMP_TOKENS and pos < limit:
        match = _ITEM.match(line, pos, limit)
        if match is None or match.end() == pos:
            break
        start = match.start() + (len(match.group(0)) - len(match.group(0).lstrip(" \t")))
        found.append((start, not found, match))
        word = match.group("tok")
        if (
            word is not None
            and _PLAIN_WORD.fullmatch(word)
            and _level_word(word.rstrip(",.;:")) is None
            and not _starts_stamp(word)
        ):
            break
        pos = match.end()
    return found


def _starts_stamp(word: str) -> bool:
    lower = word.rstrip(",.").lower()
    return lower in WEEKDAYS or lower in MONTH_NUMBERS


def _stamp_at(line: str, start: int, leading: bool, limit: int) -> tuple[Stamp, int, bool] | None:
    """A timestamp at ``start`` (or inside a bracket there), where its token ends, and
    whether it opened a bracket that the header tokens after it close (``[time INFO x]``).
    """
    opener = line[start : start + 1]
    if opener in ("[", "(", "<"):
        closer = {"[": "]", "(": ")", "<": ">"}[opener]
        inner = start + 1
        while inner < limit and line[inner] == " ":
            inner += 1
        stamp = find_stamp(line, inner, True)
        if stamp is None:
            return None
        end = stamp.end
        while end < limit and line[end] == " ":
            end += 1
        if line[end : end + 1] != closer:
            return (stamp, stamp.end, True) if opener == "[" else None
        end += 1
        if line[end : end + 1] == ":":
            end += 1
        return stamp, end, False
    stamp = find_stamp(line, start, leading)
    if stamp is None:
        return None
    end = stamp.end
    if line[end : end + 1] in (":", ","):
        end += 1
    if end < len(line) and not line[end].isspace() and line[end] not in "[|":
        return None
    return stamp, end, False


def read(line: str, count: int = _ITEMS) -> Reading:
    """One line's reading, single letters taken for levels (the batch then judges them).

    ``count`` header tokens after the timestamp are classified.
    """
    limit = min(len(line), HEADER_LIMIT)
    found = _stamp_at(line, 0, True, limit) if line[:1].isalnum() else None
    if found is not None:  # the common case: the line starts with its timestamp
        return _reading(line, limit, 0, 0, found, [], count)
    tokens = _tokens_before(line, limit)
    for index in range(len(tokens)):
        start, leading, _ = tokens[index]
        found = _stamp_at(line, start, leading, limit)
        if found is not None:
            prefix = [_classify(tokens[k][2]) for k in range(index)]
            return _reading(line, limit, index, start, found, prefix, count)
    items, _ = _items(line, 0, limit, _ITEMS, False)
    header = 0
    if items and items[0].kind == "L":
        header = _after_level(_kinds(items), 0)
    elif items and items[0].kind == "B" and _UPTIME.fullmatch(items[0].text):
        header = 1  # dmesg: seconds since boot are no wall-clock time
    return Reading(-1, None, [], items, header, 0)


def _reading(
    line: str,
    limit: int,
    index: int,
    start: int,
    found: tuple[Stamp, int, bool],
    prefix: list[Item],
    count: int,
) -> Reading:
    stamp, end, open_bracket = found
    if line[end : end + 1] == "|":
        items = _pipe_items(line, end, limit, count)
        return Reading(index, stamp, prefix, items, len(items), start)
    items, closed = _items(line, end, limit, count, open_bracket)
    kinds = _kinds(items)
    if any(item.kind in "LM" for item in prefix):
        # the level came before the time (Cassandra's "INFO [main] 2025-...")
        header = _after_level("L" + kinds, 0) - 1
    else:
        header = header_length(kinds, True, line[start : start + 1] in "[(<")
    return Reading(index, stamp, prefix, items, max(header, closed), start)


def _pipe_items(line: str, end: int, limit: int, count: int) -> list[Item]:
    """The ``|``-separated fields after a time (``2025-...|INFO|main|message``).

    Every field but the last is header; the batch settles how many there are, since a
    message may hold a ``|`` too.
    """
    items: list[Item] = []
    start = end + 1
    while len(items) < count:
        bar = line.find("|", start, limit)
        if bar < 0:
            break
        match = _ITEM.match(line, start, bar)
        if match is None:
            items.append(Item("W", "", bar + 1))
        else:
            item = _classify(match)
            text = item.text if item.kind in "LMlyPT" else line[start:bar].strip()
            items.append(Item(item.kind, text, bar + 1, item.pid))
        start = bar + 1
    return items


def _fits(reading: Reading, structure: Structure) -> bool:
    """Whether ``reading`` agrees with ``structure`` (letters count as levels there)."""
    stamp = reading.stamp
    if stamp is None or reading.stamp_index != structure.stamp_index:
        return False
    if stamp.shape != structure.shape:
        return False
    if structure.reading and stamp.readings and structure.reading not in stamp.readings:
        return False
    kinds = structure.kinds
    if len(reading.items) < len(kinds):
        return False
    for item, want in zip(reading.items, kinds, strict=False):
        have = item.kind
        if have == want:
            continue
        if want == "W" and have in "WDJUPl":
            continue
        if want in "DJU" and have in "DJUW":
            continue
        if want == "Q" and have in "WDJU":  # a value as wide as its column
            continue
        if want == "y" and item.text == "-":  # Redis's verbose mark reads as a separator
            continue
        return False
    return True


def _choose_reading(readings: Sequence[Reading], clock: Clock) -> str:
    """The order the batch's numeric dates are read in.

    The order that gives a real date on most lines wins; among equals, the one whose
    dates lie nearest before the receive time, then the usual order of the shape.
    """
    options: dict[str, list[int]] = {}
    received_year = int(clock.received_iso[:4])
    for rank, reading in enumerate(readings):
        stamp = reading.stamp
        if stamp is None:
            continue
        a, b, c = stamp.parts
        for order_rank, option in enumerate(stamp.readings):
            entry = options.setdefault(option, [0, 0, order_rank])
            if valid_reading(option, a, b, c):
                entry[0] += 1
                if entry[0] == 1:
                    year = ordered(option, a, b, c)[0]
                    year_number = int(year) + (2000 if len(year) == 2 else 0) if year else 0
                    entry[1] = abs(received_year - year_number) if year_number else 0
        if rank >= 200:
            break
    if not options:
        return ""
    return min(options, key=lambda r: (-options[r][0], options[r][1], options[r][2]))


def learn(readings: Sequence[Reading], clock: Clock) -> Structure | None:
    """The structure most of ``readings`` share (letters only with enough support)."""
    votes: Counter[tuple[int, str, str]] = Counter()
    for reading in readings:
        if reading.stamp is not None:
            votes[reading.signature()] += 1
    for (index, shape, kinds), count in votes.most_common():
        letters = "l" in kinds or "y" in kinds
        if letters and count < MIN_LETTER_SUPPORT:
            continue
        same = [r for r in readings if r.stamp is not None and r.signature()[:2] == (index, shape)]
        return Structure(index, shape, _choose_reading(same, clock), kinds, letters)
    return None


def _level_of(items: Sequence[Item], kinds: str) -> str | None:
    for position, (item, kind) in enumerate(zip(items, kinds, strict=False)):
        if kind in "LM":
            return item.text
        if kind == "l" and not (position and kinds[position - 1] == "O"):
            if item.text == "W" and kinds[position + 1 : position + 2] != "T":
                return "warning"  # glog's and MongoDB's W; logcat's "W Tag:" is Warn
            return LETTERS.get(item.text)
        if kind == "y":
            return SYMBOLS.get(item.text)
    return None


def _number(process: Fields, item: Item, numbers: int) -> int:
    """Take a number of the header: the process id first, then the thread id."""
    for text in (item.text, item.pid):
        number = small_int(text) if text else None
        if number is None:
            continue
        if numbers == 0 and "pid" not in process:
            process["pid"] = number
        else:
            process.setdefault("thread", {}).setdefault("id", number)
        numbers += 1
    return numbers


def _fields(
    line: str, reading: Reading, header: int, kinds: str, clock: Clock, reading_order: str
) -> Fields:
    stamp = reading.stamp
    fields: Fields = {"event": {"dataset": DATASET}}
    if stamp is not None:
        order = reading_order if reading_order in stamp.readings else (stamp.readings or ("",))[0]
        fields["@timestamp"] = resolve(stamp, order, clock)
    items = reading.items[:header]
    log: Fields = {}
    process: Fields = {}
    level = _level_of(items, kinds)
    if level is None and stamp is not None and stamp.level:
        level = stamp.level
    if level is None:
        level = _prefix_level(reading.prefix)
    if level is not None:
        log["level"] = level
    seen_level = False
    numbers = 0
    for item in reading.prefix:
        if item.kind == "P" and len(item.text) <= 7:  # Redis's "1234:M"; not an epoch
            numbers = _number(process, item, numbers)
        elif item.kind == "B":
            process.setdefault("thread", {}).setdefault("name", item.text.strip())
        elif item.kind == "W" and ".log" in item.text:
            log.setdefault("file", {"path": item.text})
    for position, (item, kind) in enumerate(zip(items, kinds, strict=False)):
        before = kinds[position - 1] if position else ""
        after = kinds[position + 1 : position + 2]
        if kind in "LMly":
            seen_level = True
        elif kind == "P":
            numbers = _number(process, item, numbers)
        elif kind in "BC":
            if reading.stamp is None and _UPTIME.fullmatch(item.text):
                pass  # dmesg's seconds since boot
            elif before in ("D", "J") or (before == "U" and kind == "C"):
                _context(fields, item.text)
            elif kind == "C":
                pass
            elif _DOTTED.fullmatch(item.text.strip()) and "logger" not in log:
                log["logger"] = item.text.strip()  # Elasticsearch's "[o.e.n.Node   ]"
            else:  # the last bracket is the thread (Spring Boot's "[app] [main]")
                process.setdefault("thread", {})["name"] = item.text.strip()
        elif kind == "T":
            if seen_level or "P" in kinds[:position] or "logger" in log:
                log["logger"] = item.text
            else:
                process["name"] = item.text
                if position == 1 and kinds[0] == "W":
                    fields["host"] = {"hostname": items[0].text}
            if item.pid and not seen_level:  # after a level, "Logger[14]" is an event id
                number = small_int(item.pid)
                if number is not None:
                    process["pid"] = number
        elif kind in "DJUKQ" or (kind == "W" and after == "-"):
            log.setdefault("logger", item.text.strip())
        elif kind == "S":
            source = _SOURCE.fullmatch(item.text)
            if source is not None:
                number = small_int(source.group("line"))
                origin: Fields = {"file": {"name": source.group("file")}}
                if number is not None:
                    origin["file"]["line"] = number
                log["origin"] = origin
    if log:
        fields["log"] = log
    if process:
        fields["process"] = process
    end = items[-1].end if items else stamp_end(line, reading)
    message = line[end:].strip()
    if "logger" not in log and message.endswith(")"):
        trailing = _TRAILING_LOGGER.search(message, max(0, len(message) - 220))
        if trailing is not None:  # log4j's "%m (%c)" (Kafka)
            log["logger"] = trailing.group(1)
            message = message[: trailing.start()]
            fields["log"] = log
    fields["message"] = message
    return fields


def _prefix_level(prefix: Sequence[Item]) -> str | None:
    for item in prefix:
        if item.kind in "LM":
            return item.text
    return None


def stamp_end(line: str, reading: Reading) -> int:
    """Where the timestamp's token ends (0 for a line without one)."""
    if reading.stamp is None:
        return 0
    limit = min(len(line), HEADER_LIMIT)
    found = _stamp_at(line, reading.stamp_start, reading.stamp_index == 0, limit)
    return found[1] if found is not None else reading.stamp.end


def _context(fields: Fields, context: str) -> None:
    labels = fields.setdefault("labels", {})
    labels["context"] = context
    first = context.split(" ", 1)[0]
    if first.startswith("req-"):
        labels["request_id"] = first


def _python(line: str) -> Fields | None:
    """Python logging's default ``LEVEL:logger:message`` (no timestamp)."""
    match = _PYTHON.match(line)
    if match is None or not match.group("level").isupper():
        return None
    level = _level_word(match.group("level"))
    if level is None:
        return None
    return {
        "event": {"dataset": DATASET},
        "log": {"level": level, "logger": match.group("logger")},
        "message": line[match.end() :].strip(),
    }


class Finder:
    """Reads one batch's lines by the structure the batch shows (see the module)."""

    __slots__ = ("_clock", "_memory", "_service", "structure")

    def __init__(self, clock: Clock, memory: Memory | None = None, service: str = "") -> None:
        self._clock = clock
        self._memory = memory
        self._service = service
        self.structure: Structure | None = None

    def parse_all(self, lines: Sequence[str]) -> list[Fields | None]:
        """The partial events of ``lines`` (None for a line with no structure found).

        The structure is learned from up to :data:`SAMPLE` lines spread over the batch;
        the other lines are first read only as far as the structure's header goes.
        """
        step = max(1, -(-len(lines) // SAMPLE))
        sample = {position: read(lines[position]) for position in range(0, len(lines), step)}
        readings = list(sample.values())
        remembered = self._memory.get(self._service) if self._memory is not None else None
        structure: Structure | None = None
        stamped = [r for r in readings if r.stamp is not None]
        if remembered is not None and stamped:
            agree = sum(1 for r in stamped if _fits(r, remembered))
            if agree * 2 >= len(stamped):
                structure = remembered
        if structure is None:
            structure = learn(readings, self._clock)
            if structure is None and remembered is not None and not stamped:
                structure = remembered
        if structure is not None and self._memory is not None and stamped:
            self._memory.put(self._service, structure)
        self.structure = structure
        results: list[Fields | None] = []
        count = max(1, len(structure.kinds)) if structure is not None else _ITEMS
        for position, line in enumerate(lines):
            reading = sample.get(position)
            if reading is None:
                reading = read(line, count)
                if structure is None or not _fits(reading, structure):
                    reading = read(line) if count != _ITEMS else reading
            results.append(self._one(line, reading, structure))
        return results

    def _one(self, line: str, reading: Reading, structure: Structure | None) -> Fields | None:
        if structure is not None and reading.stamp is not None and _fits(reading, structure):
            return _fields(
                line, reading, len(structure.kinds), structure.kinds, self._clock, structure.reading
            )
        kinds = _kinds(reading.items[: reading.header])
        if reading.stamp is None:
            if reading.header == 0:
                return _python(line)
        elif ("l" in kinds or "y" in kinds) and not _letter_where_learned(reading, structure):
            # read alone, a single letter is not taken for a level
            reading.header = header_length(_kinds(reading.items), False, False)
            kinds = _kinds(reading.items[: reading.header]).replace("l", "W").replace("y", "W")
        order = structure.reading if structure is not None else ""
        return _fields(line, reading, reading.header, kinds, self._clock, order)


def _letter_where_learned(reading: Reading, structure: Structure | None) -> bool:
    """Whether the line has a level letter where the batch's structure has one."""
    if structure is None or not structure.letters:
        return False
    if reading.stamp_index != structure.stamp_index:
        return False
    marks = [p for p in (structure.kinds.find("l"), structure.kinds.find("y")) if p >= 0]
    position = min(marks)
    if position >= len(reading.items):
        return False
    return reading.items[position].kind == structure.kinds[position]


def find(line: str, clock: Clock) -> Fields | None:
    """The partial event of one line read alone, or None when it shows no structure."""
    return Finder(clock).parse_all([line])[0]
