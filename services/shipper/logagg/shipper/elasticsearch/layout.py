"""Where an event is written: a data stream or a daily index, named by its dataset."""

from __future__ import annotations

import functools
import re
from datetime import date
from enum import Enum
from typing import Any

from logagg.shipper.timestamps import event_time

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


@functools.lru_cache(maxsize=1024)
def _utc_day(date_text: str) -> str | None:
    try:
        return date.fromisoformat(date_text).strftime("%Y.%m.%d")
    except ValueError:
        return None


def index_day(event: dict[str, Any]) -> str | None:
    """The UTC day of the event as ``YYYY.MM.DD``, or ``None`` without a usable time."""
    day = canonical_day(event.get("@timestamp"))
    if day is not None:
        return day
    moment = event_time(event)
    return f"{moment:%Y.%m.%d}" if moment else None


def canonical_day(stamp: object) -> str | None:
    """The UTC day ``YYYY.MM.DD`` of an ``@timestamp`` as the parser writes it
    (``YYYY-MM-DDTHH:MM:SS.sssZ``: its first ten characters, checked once per distinct
    day), or ``None`` for anything else, which only the whole event can date."""
    if isinstance(stamp, str) and len(stamp) > 11 and stamp[10] == "T" and stamp[-1] == "Z":
        return _utc_day(stamp[:10])
    return None


def alias_name(dataset: str, namespace: str) -> str:
    """The name users search: the data stream itself, or the alias over daily indices."""
    return f"logs-{dataset}-{namespace}"


def target_index(event: dict[str, Any], layout: Layout, namespace: str) -> str:
    """The data stream or concrete index ``event`` is written to.

    A daily index is chosen by the event's own date, so a retry of the same event
    always targets the same index, where ``create`` with the same ``_id`` answers 409.
    An event without a usable time goes to ``...-undated`` rather than to today's index,
    for the same reason.
    """
    base = alias_name(dataset_of(event), namespace)
    if layout is Layout.DATA_STREAM:
        return base
    day = index_day(event)
    return f"{base}-{day}" if day else f"{base}-undated"


def routed_index(
    dataset: str | None, stamp: str | None, layout: Layout, namespace: str
) -> str | None:
    """:func:`target_index` from an event's route (its raw ``event.dataset`` and
    ``@timestamp``), or ``None`` when only the whole event can tell its day."""
    base = alias_name(dataset_name(dataset), namespace)
    if layout is Layout.DATA_STREAM:
        return base
    day = canonical_day(stamp)
    return f"{base}-{day}" if day else None
