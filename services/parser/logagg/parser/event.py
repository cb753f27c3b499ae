"""Turning a format's partial event into the full event of the contract.

The identity fields (``service.name``, ``source.ip``, ``host.ip``, ``event.ingested``)
come from the batch only, never from the line; ``event.id`` is ``<batch_id>-<position>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from logagg.parser.fields import Fields, valid_ip
from logagg.utc import utc_millis

UNPARSED_DATASET = "raw"
UNPARSED = "unparsed"
MULTILINE = "multiline"
TRUNCATED = "truncated"
INVALID_UTF8 = "invalid_utf8"


@dataclass(frozen=True, slots=True)
class BatchIdentity:
    """Who sent a batch and when, as ingest stamped it."""

    batch_id: str
    service: str
    source_ip: str | None  # a valid IP address, or None
    received_at: str  # RFC 3339 UTC

    @classmethod
    def of(cls, batch_id: str, service: str, source_ip: str, received_at: str) -> BatchIdentity:
        """Build from the batch's metadata.

        A source address that is not an IP is dropped; the receive time is normalised to
        ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the time of this call if it is unreadable, so that
        no event carries an invalid date).
        """
        address = valid_ip(source_ip) if source_ip else None
        return cls(batch_id, service, address, utc_millis(parse_received(received_at)))


def parse_received(text: str) -> datetime:
    """``received_at`` as an aware datetime; now when it is missing or unreadable."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def unparsed(line: str) -> Fields:
    """The partial event of a line no format accepted: the whole line is the message."""
    return {"message": line, "event": {"dataset": UNPARSED_DATASET}, "tags": [UNPARSED]}


def finish(
    fields: Fields,
    identity: BatchIdentity,
    position: int,
    raw: str,
    keep_original: bool,
    extra_tags: list[str] | None,
) -> dict[str, Any]:
    """Complete ``fields`` (modified in place) into an event and return it.

    A missing or rejected ``@timestamp`` becomes the receive time; a rejection adds its
    tag. ``raw`` (the line as received) goes to ``event.original`` when kept, and is
    the message when the format found none.
    """
    tags: list[str] | None = fields.pop("tags", None)
    stamp = fields.get("@timestamp")
    if stamp is None:
        fields["@timestamp"] = identity.received_at
    elif stamp.__class__ is not str:
        # a TimestampProblem: its value is the tag
        fields["@timestamp"] = identity.received_at
        tags = [*tags, str(stamp)] if tags else [str(stamp)]
    if "message" not in fields:
        fields["message"] = raw
    event = fields.get("event")
    if event is None:
        event = fields["event"] = {}
    event["id"] = f"{identity.batch_id}-{position}"
    event["ingested"] = identity.received_at
    if keep_original:
        event["original"] = raw
    fields["service"] = {"name": identity.service}
    if identity.source_ip is not None:
        fields["source"] = {"ip": identity.source_ip}
        host = fields.get("host")
        if host is None:
            fields["host"] = {"ip": identity.source_ip}
        else:
            host["ip"] = identity.source_ip
    if extra_tags:
        tags = [*tags, *extra_tags] if tags else list(extra_tags)
    if tags:
        fields["tags"] = tags
    return fields
