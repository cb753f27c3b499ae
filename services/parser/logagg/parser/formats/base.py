"""What a line format is: a name, the ``event.dataset`` it yields, and a parse function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from logagg.parser.fields import Fields
from logagg.parser.timestamps import Clock

ParseFunction = Callable[[str, Clock], Fields | None]


@dataclass(frozen=True, slots=True)
class Format:
    """A line format.

    ``parse`` returns the partial event for a line of this format, or ``None`` when the
    line is not one; it never raises on any text. ``loose`` formats accept so much that
    they are tried only after every strict format has declined the line.
    """

    name: str
    dataset: str
    parse: ParseFunction
    loose: bool = False
