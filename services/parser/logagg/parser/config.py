"""What the parser needs to know besides the lines: zones, pinned formats, options.

A plain frozen object, built from settings by :mod:`logagg.parser.settings` or directly
in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo

from logagg.parser.formats import Format


@dataclass(frozen=True, slots=True)
class ParserConfig:
    """How lines are read.

    ``default_zone`` reads zone-less timestamps (``None`` is UTC); ``zones`` overrides it
    per ``service.name``; ``formats`` pins a service to one format; ``keep_original``
    keeps the raw line in ``event.original``; a timestamp more than ``max_future`` after
    the receive time is absurd and replaced by the receive time; ``dedicated_formats``
    off leaves every text line to the structure finder (JSON objects are still read as
    such), which is how the finder's generality is measured.
    """

    default_zone: tzinfo | None = None
    zones: Mapping[str, tzinfo | None] = field(default_factory=dict)
    formats: Mapping[str, Format] = field(default_factory=dict)
    keep_original: bool = True
    max_future: timedelta = timedelta(days=1)
    dedicated_formats: bool = True

    def zone_for(self, service: str) -> tuple[tzinfo | None, str]:
        """The zone for ``service``'s zone-less timestamps and a key naming it."""
        zone = self.zones.get(service, self.default_zone)
        return zone, "UTC" if zone is None else str(zone)
