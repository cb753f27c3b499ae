"""What a bulk answer means, item by item, and what a failed request means.

A ``200`` bulk answer says only that the request was read: each item carries its own
status. ``201`` (created) and ``409`` (already there, from an earlier try of the same
``create``) are delivered; ``429`` and ``5xx`` are worth retrying; any other ``4xx`` is a
rejection for good (a mapping conflict, a malformed document) and goes to the dead-letter
store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from logagg.shipper.elasticsearch.bulk import BulkItem

MAX_REASON_LENGTH = 2000


class ItemOutcome(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item's fate: its outcome, the status Elasticsearch gave, and why."""

    item: BulkItem
    outcome: ItemOutcome
    status: int
    reason: str = ""  # short, for grouping: the error type, e.g. document_parsing_exception
    detail: str = ""  # the full reason Elasticsearch gave


@dataclass(slots=True)
class BulkOutcome:
    """The items of one bulk request, sorted by what happens to them next."""

    delivered: list[ItemResult] = field(default_factory=list)
    retry: list[ItemResult] = field(default_factory=list)
    rejected: list[ItemResult] = field(default_factory=list)

    def add(self, result: ItemResult) -> None:
        {
            ItemOutcome.DELIVERED: self.delivered,
            ItemOutcome.RETRY: self.retry,
            ItemOutcome.REJECTED: self.rejected,
        }[result.outcome].append(result)

    def extend(self, other: BulkOutcome) -> None:
        self.delivered += other.delivered
        self.retry += other.retry
        self.rejected += other.rejected


class MalformedBulkAnswer(ValueError):
    """The answer does not match the request (wrong item count, missing statuses)."""


def item_outcome(status: int) -> ItemOutcome:
    """The outcome of one bulk item by its HTTP status."""
    if status in (200, 201, 409):
        return ItemOutcome.DELIVERED
    if status == 429 or status >= 500:
        return ItemOutcome.RETRY
    if 400 <= status < 500:
        return ItemOutcome.REJECTED
    # 0, 1xx, 3xx: nothing an item should answer; try again rather than lose it
    return ItemOutcome.RETRY


def describe_error(error: Any) -> tuple[str, str]:
    """``(type, full reason)`` of a bulk item's ``error`` object (or string)."""
    if isinstance(error, Mapping):
        kind = str(error.get("type") or "error")
        parts = [f"{kind}: {error.get('reason') or ''}".rstrip(": ")]
        cause = error.get("caused_by")
        depth = 0
        while isinstance(cause, Mapping) and depth < 3:
            parts.append(f"caused by {cause.get('type')}: {cause.get('reason') or ''}".rstrip())
            cause = cause.get("caused_by")
            depth += 1
        return kind, "; ".join(parts)[:MAX_REASON_LENGTH]
    if error is None:
        return "error", ""
    return "error", str(error)[:MAX_REASON_LENGTH]


def classify_bulk_answer(answer: Mapping[str, Any], chunk: Sequence[BulkItem]) -> BulkOutcome:
    """Sort the items of ``chunk`` by the answer Elasticsearch gave to its bulk request.

    Items are matched by position, as the bulk API answers in request order. The
    top-level ``errors`` flag is not trusted either way: every item's status decides.
    """
    items = answer.get("items")
    if not isinstance(items, list) or len(items) != len(chunk):
        got = len(items) if isinstance(items, list) else "no"
        raise MalformedBulkAnswer(f"bulk answer has {got} items for {len(chunk)} sent")
    outcome = BulkOutcome()
    delivered = outcome.delivered
    for item, entry in zip(chunk, items, strict=True):
        # this loop runs for every document shipped: plain dict access, checked by catching
        try:
            (result,) = entry.values()
            status = result["status"]
        except (AttributeError, TypeError, ValueError, KeyError) as error:
            raise MalformedBulkAnswer(f"bulk answer item without a status: {entry!r}") from error
        if status == 201 or status == 409 or status == 200:
            delivered.append(ItemResult(item, ItemOutcome.DELIVERED, status))
            continue
        if not isinstance(status, int):
            raise MalformedBulkAnswer(f"bulk answer item status is not a number: {entry!r}")
        kind = item_outcome(status)
        reason, detail = describe_error(result.get("error"))
        outcome.add(ItemResult(item, kind, status, reason, detail or f"status {status}"))
    return outcome


class RequestVerdict(Enum):
    """What to do when a whole bulk request fails."""

    SPLIT = "split"  # too large for the server: send the halves separately
    RETRY_JOB = "retry_job"  # the cluster or the path to it is unwell: retry the batch later
    REJECT = "reject"  # the server refuses this request for good: dead-letter its items


def request_verdict(status: int | None, items_in_request: int) -> RequestVerdict:
    """Decide about a bulk request that failed as a whole.

    ``status`` is ``None`` when no HTTP answer came (connection refused, reset, timeout).
    ``413`` splits the request while it holds more than one item; a single item that is
    still too large is rejected. Auth failures (``401``/``403``) are retried: they are
    fixed by an operator, not by changing the batch, and retries run out into the
    dead-letter store anyway.
    """
    if status is None or status in (401, 403, 408, 429) or status >= 500:
        return RequestVerdict.RETRY_JOB
    if status == 413:
        return RequestVerdict.SPLIT if items_in_request > 1 else RequestVerdict.REJECT
    if 400 <= status < 500:
        return RequestVerdict.REJECT
    return RequestVerdict.RETRY_JOB
