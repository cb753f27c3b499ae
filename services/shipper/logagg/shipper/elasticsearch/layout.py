"""Where an event is written: a data stream or a daily index, named by its dataset and
placed by :mod:`logagg.shipper.routing`."""

from __future__ import annotations

import functools
import re
from enum import Enum
from typing import Any

from logagg.shipper.routing import DEFAULT_BOUNDS, TimeBounds, event_placement, place

DEFAULT_DATASET = "generic"
_NOT_DATASET = re.compile(r"[^a-z0-9_.]")


class Layout(Enum):
    """``data_stream``: ``logs-<dataset>-<namespace>``; ``daily``: one index per UTC day
    ``logs-<dataset>-<namespace>-YYYY.MM.DD`` behind the alias ``logs-<dataset>-<namespace>``.
    """

    DATA_STREAM = "data_stream"
    DAILY = "daily"


def dataset_of(event: dict[str, Any]) -> str:
    """``event.dataset`` made safe for an index name (``generic`` when absent)."""
    meta = event.get("event")
    return dataset_name(meta.get("dataset") if isinstance(meta, dict) else None)


def dataset_name(raw: object) -> str:
    """A raw ``event.dataset`` made safe for an index name (``generic`` when absent).

    Elastic's naming scheme allows lower-case letters, digits, ``_`` and ``.`` in the
    dataset (``-`` separates the parts of the name), at most 100 characters.
    """
    if not isinstance(raw, str):
        return DEFAULT_DATASET
    return _clean_dataset(raw)


@functools.lru_cache(maxsize=1024)
def _clean_dataset(raw: str) -> str:
    # a handful of datasets recur across millions of events
    cleaned = _NOT_DATASET.sub("_", raw.strip().lower()).lstrip("._")[:100]
    return cleaned or DEFAULT_DATASET


def index_day(event: dict[str, Any], bounds: TimeBounds = DEFAULT_BOUNDS) -> str | None:
    """The UTC day ``YYYY.MM.DD`` that places the event (:mod:`logagg.shipper.routing`),
    or ``None`` without a usable time."""
    return _day(event_placement(event, bounds).hour)


def _day(hour: str | None) -> str | None:
    return f"{hour[:4]}.{hour[5:7]}.{hour[8:10]}" if hour else None


def alias_name(dataset: str, namespace: str) -> str:
    """The name users search: the data stream itself, or the alias over daily indices."""
    return f"logs-{dataset}-{namespace}"


def target_index(
    event: dict[str, Any], layout: Layout, namespace: str, bounds: TimeBounds = DEFAULT_BOUNDS
) -> str:
    """The data stream or concrete index ``event`` is written to.

    A daily index is chosen by the event's placement (its own date, or its receive date
    when its own time is out of bounds), which depends on the event alone, so a retry of
    the same event always targets the same index, where ``create`` with the same
    ``_id`` answers 409. An event without a usable time goes to ``...-undated`` rather
    than to today's index, for the same reason.
    """
    base = alias_name(dataset_of(event), namespace)
    if layout is Layout.DATA_STREAM:
        return base
    day = index_day(event, bounds)
    return f"{base}-{day}" if day else f"{base}-undated"


def routed_index(
    dataset: str | None,
    stamp: str | None,
    received: str | None,
    layout: Layout,
    namespace: str,
    bounds: TimeBounds = DEFAULT_BOUNDS,
) -> tuple[str, bool]:
    """:func:`target_index` from an event's route (its raw ``event.dataset``,
    ``@timestamp`` and ``event.ingested``), and whether its time is out of bounds."""
    base = alias_name(dataset_name(dataset), namespace)
    placement = place(stamp, received, bounds)
    if layout is Layout.DATA_STREAM:
        return base, placement.out_of_bounds
    day = _day(placement.hour)
    return (f"{base}-{day}" if day else f"{base}-undated"), placement.out_of_bounds
