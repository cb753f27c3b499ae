"""Retry decisions: which statuses are retried, backoff bounds, Retry-After."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from logagg.client.retry import (
    Verdict,
    backoff_delay,
    classify,
    parse_retry_after,
    retry_delay,
)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.ACCEPTED),
        (202, Verdict.ACCEPTED),
        (401, Verdict.REAUTHENTICATE),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (504, Verdict.RETRY),
        (400, Verdict.REJECTED),
        (403, Verdict.REJECTED),
        (404, Verdict.REJECTED),
        (413, Verdict.REJECTED),
        (415, Verdict.REJECTED),
    ],
)
def test_classify(status: int, verdict: Verdict) -> None:
    assert classify(status) is verdict


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(7)
    for attempt, bound in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 30.0), (40, 30.0)):
        delays = [backoff_delay(attempt, 0.5, 30.0, rng) for _ in range(2000)]
        assert all(0.0 <= delay <= bound for delay in delays)
        # spread over the whole range, not clustered at the bound
        assert min(delays) < bound * 0.05
        assert max(delays) > bound * 0.95


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0 ") == 0.0
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
    for unreadable in (None, "", "soon", "-1", "1.5e3"):
        assert parse_retry_after(unreadable) is None


def test_retry_delay_follows_retry_after_within_its_bound() -> None:
    rng = random.Random(1)
    assert retry_delay(1, base=0.01, cap=0.02, rng=rng, retry_after=5.0) == 5.0
    assert retry_delay(1, base=0.01, cap=0.02, rng=rng, retry_after=900.0) == 300.0
    assert retry_delay(3, base=0.01, cap=0.02, rng=rng) <= 0.02
