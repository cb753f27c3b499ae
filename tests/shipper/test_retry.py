"""Retry decisions: exponential backoff with full jitter, and when to give up."""

from __future__ import annotations

import random

import pytest

from logagg.shipper.retry import BackoffPolicy, Verdict, job_verdict


def test_delay_ceiling_doubles_up_to_the_cap() -> None:
    policy = BackoffPolicy(attempts=10, base=0.5, cap=3.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert max(delays) <= ceiling
        assert min(delays) >= 0
        # full jitter spreads over the whole range, not just near the ceiling
        assert max(delays) > ceiling * 0.8
        assert min(delays) < ceiling * 0.2


def test_jitter_is_reproducible_with_a_seeded_source() -> None:
    policy = BackoffPolicy(attempts=3, base=1.0, cap=10.0)
    assert policy.delay(2, random.Random(1)) == policy.delay(2, random.Random(1))


def test_verdict_counts_every_try() -> None:
    policy = BackoffPolicy(attempts=3, base=0.1, cap=1.0)
    assert [policy.verdict(n) for n in (1, 2, 3, 4)] == [
        Verdict.RETRY, Verdict.RETRY, Verdict.DEAD_LETTER, Verdict.DEAD_LETTER
    ]  # fmt: skip
    assert BackoffPolicy(attempts=1, base=0.1, cap=1.0).verdict(1) is Verdict.DEAD_LETTER


def test_worst_case_wait_fits_the_defaults_in_a_job_timeout() -> None:
    assert BackoffPolicy(attempts=5, base=0.2, cap=10.0).worst_case_wait() == pytest.approx(3.0)


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        BackoffPolicy(attempts=3, base=0.1, cap=1.0).delay(0)


@pytest.mark.parametrize(
    ("retries_left", "verdict"),
    [(3, Verdict.RETRY), (1, Verdict.RETRY), (0, Verdict.DEAD_LETTER), (None, Verdict.DEAD_LETTER)],
)
def test_job_verdict(retries_left: int | None, verdict: Verdict) -> None:
    assert job_verdict(retries_left) is verdict
