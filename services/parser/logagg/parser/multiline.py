"""Joining stack traces to the line they belong to.

A Java stack trace (``\\tat ...``, ``Caused by: ...``, ``... 12 more``, and the exception
line right before the first ``at``) or a Python traceback (``Traceback (most recent call
last):``, its indented frames and the final exception line) that follows a line within a
batch belongs to that line's event. :func:`group_lines` says which lines go together;
it looks only at the lines' first characters unless a line may continue a trace.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_JAVA_FRAME = re.compile(r"\s+at\s|\s*\.\.\. \d+ (?:more|common frames omitted)")
_JAVA_CAUSE = re.compile(r"\s*(?:Caused by|Suppressed|Wrapped by):\s")
_JAVA_EXCEPTION = re.compile(r"(?:[A-Za-z_$][\w$]*\.)*[\w$]*(?:Exception|Error|Throwable)\b")
_PY_START = "Traceback (most recent call last):"
_PY_CHAIN = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


# Any line that could continue a trace starts with one of these (a Java exception line
# continues one only when a frame, which starts with whitespace, follows it).
_MAYBE_CONTINUATION = re.compile(r"^(?:[ \t.]|Caused by: |Traceback |During |The above )", re.M)


def _is_java_frame(line: str) -> bool:
    return _JAVA_FRAME.match(line) is not None


def group_lines(lines: Sequence[Any]) -> list[tuple[int, int]]:
    """``(start, end)`` ranges of ``lines`` that form one event each (``end`` exclusive).

    Non-string items (structured objects) always stand alone; a trace with no line
    before it in the batch stands alone too.
    """
    if all(line.__class__ is str for line in lines) and not _MAYBE_CONTINUATION.search(
        "\n".join(lines)
    ):
        return [(index, index + 1) for index in range(len(lines))]
    return group_line_by_line(lines)


def group_line_by_line(lines: Sequence[Any]) -> list[tuple[int, int]]:
    """:func:`group_lines` without the shortcut for batches that hold no trace."""
    count = len(lines)
    groups: list[tuple[int, int]] = []
    start = -1
    in_traceback = False
    after_traceback = False  # just past a traceback's exception line
    index = 0
    while index < count:
        line = lines[index]
        joined = False
        if start < 0 or not isinstance(lines[start], str):
            pass
        elif isinstance(line, str) and line:
            first = line[0]
            if in_traceback:
                if first in " \t" or line.startswith(_PY_START) or line in _PY_CHAIN:
                    joined = True
                else:
                    joined = True  # the exception line closes the traceback
                    in_traceback = False
                    after_traceback = True
                    index += 1
                    continue
            elif after_traceback and line in _PY_CHAIN:
                joined = True
                in_traceback = True
            elif first in " \t.":
                joined = _is_java_frame(line) or _JAVA_CAUSE.match(line) is not None
            elif first == "C" and line.startswith("Caused by: "):
                joined = True
            elif first == "T" and line.startswith(_PY_START):
                joined = True
                in_traceback = True
            elif index + 1 < count:
                # an exception line is a trace's only if a frame follows it
                following = lines[index + 1]
                joined = (
                    isinstance(following, str)
                    and following[:1] in (" ", "\t")
                    and _is_java_frame(following)
                    and _JAVA_EXCEPTION.match(line) is not None
                )
        elif (in_traceback or after_traceback) and line == "":
            # a blank line inside chained Python exceptions
            following = lines[index + 1] if index + 1 < count else None
            joined = isinstance(following, str) and (
                following in _PY_CHAIN or following.startswith(_PY_START)
            )
            if joined:
                in_traceback = True
        after_traceback = False
        if not joined:
            if start >= 0:
                groups.append((start, index))
            start = index
            in_traceback = False
        index += 1
    if start >= 0:
        groups.append((start, count))
    return groups
