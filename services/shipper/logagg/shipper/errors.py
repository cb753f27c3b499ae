"""The shipper's errors: what a sink could not deliver, and why the sink cannot start."""

from __future__ import annotations

from typing import Any

from logagg.errors import LogaggError, TransientError


class Undelivered(TransientError):
    """Some events of a batch are not delivered yet and may be later.

    Carries the events still owed and a short reason, so the last try of a job can put
    exactly those into the dead-letter store; and what this try settled before it failed
    (``delivered``, and ``dead_letter_reasons`` of the items rejected for good), for the
    batch's receipt.
    """

    def __init__(self, reason: str, detail: str, events: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(events)} event(s) not delivered: {reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.events = events
        self.delivered = 0
        self.dead_letter_reasons: dict[str, int] = {}


class SinkUnavailable(LogaggError):
    """A sink cannot work at all (bucket missing, credentials refused, cluster unreachable).

    Raised at start-up, so a worker fails its readiness with one clear message instead of
    failing every job with a stack trace. ``unreachable`` tells a peer that may still be
    starting (worth waiting for) from one that answered no (worth reporting at once).
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class ArchiveWriteFailed(TransientError):
    """Writing one archive object failed; ``reason`` is short and stable (``s3:SlowDown``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ArchiveReadFailed(LogaggError):
    """Listing or reading archive objects failed (replay); the message says where and why."""
