"""Where an event is written: a data stream or a daily index, named by its dataset."""

from __future__ import annotations

import re
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
    """``event.dataset`` made safe for an index name (``generic`` when absent).

    Elastic's naming scheme allows lower-case letters, digits, ``_`` and ``.`` in the
    dataset (``-`` separates the parts of the name), at most 100 characters.
    """
    meta = event.get("event")
    raw = meta.get("dataset") if isinstance(meta, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        return DEFAULT_DATASET
    cleaned = _NOT_DATASET.sub("_", raw.strip().lower()).lstrip("._")[:100]
    return cleaned or DEFAULT_DATASET


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
    moment = event_time(event)
    return f"{base}-{moment:%Y.%m.%d}" if moment else f"{base}-undated"
