"""Scoring the parser against the loghub samples' hand-checked structure.

Shared by the golden test and the benchmark: for each system, the share of lines whose
timestamp, level and message match the structured CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logagg.parser import BatchIdentity, ParserConfig, parse_lines
from logagg.parser.finder import Memory

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "loghub"
SYSTEMS = ("Apache", "HDFS", "Hadoop", "Linux", "OpenSSH", "OpenStack", "Spark", "Zookeeper")
RECEIVED_AT = "2026-01-15T12:00:00.000Z"
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _month(name: str) -> str:
    return f"{_MONTHS.index(name) + 1:02d}"


def _ms(time: str) -> str:
    """``HH:MM:SS`` or ``HH:MM:SS,mmm`` / ``.mmm`` as ``HH:MM:SS.mmm``."""
    if len(time) == 8:
        return time + ".000"
    return time[:8] + "." + time[9:12]


# Each system: the expected timestamp text (the event's @timestamp must end with it)
# and the CSV column holding a real level, or None where the sample has none (Linux's
# "Level" column holds the host name).
ExpectedTime = Callable[[dict[str, str]], str]
EXPECTED_TIME: dict[str, ExpectedTime] = {
    "Apache": lambda r: (
        f"{r['Time'][-4:]}-{_month(r['Time'][4:7])}-{r['Time'][8:10]}T{r['Time'][11:19]}.000Z"
    ),
    "HDFS": lambda r: (
        f"20{r['Date'][:2]}-{r['Date'][2:4]}-{r['Date'][4:6]}T"
        f"{r['Time'][:2]}:{r['Time'][2:4]}:{r['Time'][4:6]}.000Z"
    ),
    "Hadoop": lambda r: f"{r['Date']}T{_ms(r['Time'])}Z",
    "Linux": lambda r: f"-{_month(r['Month'])}-{int(r['Date']):02d}T{r['Time']}.000Z",
    "OpenSSH": lambda r: f"-{_month(r['Date'])}-{int(r['Day']):02d}T{r['Time']}.000Z",
    "OpenStack": lambda r: f"{r['Date']}T{_ms(r['Time'])}Z",
    "Spark": lambda r: f"20{r['Date'].replace('/', '-')}T{r['Time']}.000Z",
    "Zookeeper": lambda r: f"{r['Date']}T{_ms(r['Time'])}Z",
}
LEVEL_COLUMN: dict[str, str | None] = {
    "Apache": "Level",
    "HDFS": "Level",
    "Hadoop": "Level",
    "Linux": None,
    "OpenSSH": None,
    "OpenStack": "Level",
    "Spark": "Level",
    "Zookeeper": "Level",
}


@dataclass
class Score:
    """How many of a system's lines matched, per field and on all three at once."""

    system: str
    lines: int = 0
    timestamp: int = 0
    level: int = 0
    message: int = 0
    all_three: int = 0
    misses: list[tuple[str, str, Any, Any]] = field(default_factory=list)

    def share(self, count: int) -> float:
        return count / self.lines if self.lines else 0.0


def load(system: str) -> tuple[list[str], list[dict[str, str]]]:
    """The raw lines and the structured rows of ``system`` (fails when missing)."""
    folder = CORPUS / system
    raw = (folder / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace")
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    with (folder / f"{system}_2k.log_structured.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return lines, rows


FINDER_ONLY = ParserConfig(dedicated_formats=False)


def score(system: str, config: ParserConfig | None = None) -> Score:
    """Parse ``system``'s sample as one batch and compare with its CSV.

    ``config`` defaults to auto-detection over every format; :data:`FINDER_ONLY` leaves
    the text lines to the structure finder alone. The finder starts with no memory.
    """
    lines, rows = load(system)
    identity = BatchIdentity.of("golden", system.lower(), "", RECEIVED_AT)
    events = parse_lines(lines, identity, config or ParserConfig(), memory=Memory())
    by_position = {int(event["event"]["id"].rsplit("-", 1)[1]): event for event in events}
    result = Score(system)
    level_column = LEVEL_COLUMN[system]
    for position, row in enumerate(rows):
        result.lines += 1
        event = by_position.get(position)
        if event is None:
            result.misses.append(("joined", row["LineId"], None, lines[position]))
            continue
        expected_time = EXPECTED_TIME[system](row)
        time_ok = event["@timestamp"].endswith(expected_time)
        if level_column is None:
            level_ok = "level" not in event.get("log", {})
        else:
            level_ok = event.get("log", {}).get("level") == row[level_column].strip().lower()
        content = row["Content"].strip()
        message = event["message"].strip()
        message_ok = message == content or (
            message.endswith(content) and "context" in event.get("labels", {})
        )
        result.timestamp += time_ok
        result.level += level_ok
        result.message += message_ok
        result.all_three += time_ok and level_ok and message_ok
        for name, ok, got, want in (
            ("timestamp", time_ok, event["@timestamp"], expected_time),
            ("level", level_ok, event.get("log", {}).get("level"), level_column),
            ("message", message_ok, event["message"], content),
        ):
            if not ok:
                result.misses.append((name, row["LineId"], got, want))
    return result
