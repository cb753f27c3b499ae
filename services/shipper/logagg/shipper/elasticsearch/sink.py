"""The Elasticsearch sink: sends a batch as bounded bulk requests and acts on every item.

The decisions live in :mod:`.bulk`, :mod:`.outcomes` and :mod:`logagg.shipper.retry`;
this module only moves bytes and follows them. The client is reached through
:class:`BulkTransport`, so unit tests drive the whole loop with canned answers.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from logagg.queues import ShipBatch
from logagg.shipper.deadletter import DeadLetter, DeadLetterStore, item_letter_id, now_rfc3339
from logagg.shipper.elasticsearch.bulk import BulkItem, bulk_items, chunk_items, request_body
from logagg.shipper.elasticsearch.layout import Layout
from logagg.shipper.elasticsearch.outcomes import (
    BulkOutcome,
    ItemOutcome,
    ItemResult,
    MalformedBulkAnswer,
    RequestVerdict,
    classify_bulk_answer,
    request_verdict,
)
from logagg.shipper.errors import Undelivered
from logagg.shipper.metrics import ShipperMetrics
from logagg.shipper.retry import BackoffPolicy, Verdict
from logagg.shipper.routing import DEFAULT_BOUNDS, TimeBounds

log = logging.getLogger(__name__)

SINK: Final = "elasticsearch"


class BulkRequestFailed(Exception):
    """A bulk request failed as a whole; ``status`` is ``None`` when no answer came."""

    def __init__(self, status: int | None, reason: str, detail: str = "") -> None:
        super().__init__(f"{status or 'no answer'}: {reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail


class BulkTransport(Protocol):
    """Sends one NDJSON bulk body and returns the parsed answer, or raises
    :class:`BulkRequestFailed`."""

    def bulk(self, body: bytes) -> Mapping[str, Any]: ...


class IndexPreparer(Protocol):
    """Makes sure a daily index exists behind its alias before the first write to it."""

    def __call__(self, index: str, alias: str) -> None: ...


@dataclass(slots=True)
class ShipReport:
    """What shipping one batch did."""

    created: int = 0
    already_there: int = 0
    rejected: int = 0
    item_retries: int = 0
    rejected_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def delivered(self) -> int:
        return self.created + self.already_there


@dataclass(frozen=True, slots=True)
class BulkBounds:
    max_documents: int
    max_bytes: int


class ElasticsearchSink:
    """Delivers parsed batches to Elasticsearch, one bulk item at a time in effect."""

    def __init__(
        self,
        transport: BulkTransport,
        *,
        namespace: str,
        layout: Layout,
        bounds: BulkBounds,
        policy: BackoffPolicy,
        deadletters: DeadLetterStore,
        metrics: ShipperMetrics | None = None,
        prepare_index: IndexPreparer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        time_bounds: TimeBounds = DEFAULT_BOUNDS,
    ) -> None:
        self.transport = transport
        self.time_bounds = time_bounds
        self.namespace = namespace
        self.layout = layout
        self.bounds = bounds
        self.policy = policy
        self.deadletters = deadletters
        self.metrics = metrics or ShipperMetrics()
        self.prepare_index = prepare_index
        self.sleep = sleep
        self.rng = rng
        self._prepared: set[str] = set()

    def ship(self, batch: ShipBatch, *, attempt: int = 1) -> ShipReport:
        """Deliver ``batch``: every event ends up indexed, already there, or dead-lettered.

        Items answered ``429``/``5xx`` are sent again, alone, with backoff. When they are
        still failing after the policy's attempts, or when a whole request fails (node
        down, timeout), :class:`Undelivered` carries the events still owed; the job
        decides between RQ's retry and the dead-letter store. ``attempt`` is the job's
        try number, recorded with dead letters.
        """
        started = time.perf_counter()
        items = bulk_items(batch, self.layout, self.namespace, self.time_bounds)
        report = ShipReport()
        settled: set[int] = set()
        try:
            self._prepare_indices(items)
            pending = items
            try_number = 1
            while True:
                retry: list[ItemResult] = []
                for chunk in chunk_items(pending, self.bounds.max_documents, self.bounds.max_bytes):
                    # settled per request, so a later request failing as a whole owes
                    # only what was not delivered before it
                    outcome = self._send_chunk(chunk, report)
                    self._settle(outcome, batch, attempt, report, settled)
                    retry += outcome.retry
                if not retry:
                    break
                if self.policy.verdict(try_number) is Verdict.DEAD_LETTER:
                    raise _undelivered_items(retry)
                self.sleep(self.policy.delay(try_number, self.rng))
                try_number += 1
                report.item_retries += len(retry)
                self.metrics.retries.labels(SINK, "item").inc(len(retry))
                pending = [result.item for result in retry]
        except BulkRequestFailed as failure:
            self._observe(started, "failed")
            owed = [item.event for item in items if item.position not in settled]
            undelivered = Undelivered(failure.reason, failure.detail, owed)
            _settled_so_far(undelivered, report)
            raise undelivered from failure
        except Undelivered as failure:
            self._observe(started, "failed")
            failure.events = [item.event for item in items if item.position not in settled]
            _settled_so_far(failure, report)
            raise
        self._observe(started, "ok")
        return report

    def _observe(self, started: float, result: str) -> None:
        self.metrics.ship_seconds.labels(SINK, result).observe(time.perf_counter() - started)

    def _prepare_indices(self, items: Sequence[BulkItem]) -> None:
        if self.prepare_index is None or self.layout is not Layout.DAILY:
            return
        for item in items:
            if item.index not in self._prepared:
                alias = item.index.rsplit("-", 1)[0]
                self.prepare_index(item.index, alias)
                self._prepared.add(item.index)

    def _send_chunk(self, chunk: list[BulkItem], report: ShipReport) -> BulkOutcome:
        try:
            answer = self.transport.bulk(request_body(chunk))
            outcome = classify_bulk_answer(answer, chunk)
        except MalformedBulkAnswer as error:
            self.metrics.bulk_requests.labels("failed").inc()
            raise BulkRequestFailed(None, "malformed_bulk_answer", str(error)) from error
        except BulkRequestFailed as failure:
            verdict = request_verdict(failure.status, len(chunk))
            if verdict is RequestVerdict.SPLIT:
                self.metrics.bulk_requests.labels("split").inc()
                half = len(chunk) // 2
                outcome = self._send_chunk(chunk[:half], report)
                outcome.extend(self._send_chunk(chunk[half:], report))
                return outcome
            self.metrics.bulk_requests.labels("failed").inc()
            if verdict is RequestVerdict.RETRY_JOB:
                raise
            rejected = BulkOutcome()
            for item in chunk:
                rejected.add(
                    ItemResult(
                        item,
                        ItemOutcome.REJECTED,
                        failure.status or 0,
                        failure.reason,
                        failure.detail,
                    )
                )
            return rejected
        self.metrics.bulk_requests.labels(
            "ok" if not (outcome.retry or outcome.rejected) else "partial"
        ).inc()
        return outcome

    def _settle(
        self,
        outcome: BulkOutcome,
        batch: ShipBatch,
        attempt: int,
        report: ShipReport,
        settled: set[int],
    ) -> None:
        # counted per (outcome, status), not per item: a labelled counter takes a lock
        statuses: Counter[tuple[str, int]] = Counter()
        for result in outcome.delivered:
            settled.add(result.item.position)
            statuses["delivered", result.status] += 1
        already = statuses["delivered", 409]
        report.already_there += already
        report.created += len(outcome.delivered) - already
        if outcome.delivered:
            self.metrics.documents_indexed.inc(len(outcome.delivered))
        for result in outcome.retry:
            statuses["retry", result.status] += 1
        for result in outcome.rejected:
            statuses["rejected", result.status] += 1
        for (kind, status), number in statuses.items():
            if number:
                self.metrics.bulk_items.labels(kind, str(status)).inc(number)
        if not outcome.rejected:
            return
        letters = []
        for result in outcome.rejected:
            self.metrics.dead_lettered.labels(SINK, result.reason).inc()
            report.rejected_reasons[result.reason] += 1
            letters.append(
                DeadLetter(
                    id=item_letter_id(SINK, result.item.doc_id),
                    sink=SINK,
                    reason=result.reason,
                    detail=result.detail,
                    time=now_rfc3339(),
                    attempts=attempt,
                    batch_id=batch["batch_id"],
                    service=batch["service"],
                    events=[result.item.event],
                    status=result.status,
                )
            )
            log.warning(
                "dead-lettered %s in batch %s: %s",
                result.item.doc_id,
                batch["batch_id"],
                result.detail,
            )
        dropped = self.deadletters.add(letters)
        if dropped:
            self.metrics.dead_letters_dropped.inc(dropped)
        for result in outcome.rejected:
            settled.add(result.item.position)
        report.rejected += len(outcome.rejected)


def _settled_so_far(failure: Undelivered, report: ShipReport) -> None:
    failure.delivered = report.delivered
    failure.dead_letter_reasons = dict(report.rejected_reasons)


def _undelivered_items(results: Sequence[ItemResult]) -> Undelivered:
    reasons = Counter(result.reason for result in results)
    reason, _ = reasons.most_common(1)[0]
    detail = next(result.detail for result in results if result.reason == reason)
    return Undelivered(reason, detail, [result.item.event for result in results])
