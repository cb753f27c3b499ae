"""Retry decisions: how long to wait, and when to stop trying and dead-letter.

Pure functions: the random source is passed in, so tests pin the jitter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

_JITTER = random.Random()


class Verdict(Enum):
    """What to do with something that failed transiently."""

    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in delay.

    ``attempts`` counts every try including the first, so ``attempts=1`` never retries.
    """

    attempts: int
    base: float
    cap: float

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based).

        The ceiling doubles per attempt from ``base`` up to ``cap``; the wait is drawn
        uniformly below it ("full jitter"), so shippers that failed together do not
        come back together.
        """
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1; got {attempt}")
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return (rng or _JITTER).uniform(0, ceiling)

    def verdict(self, attempt: int) -> Verdict:
        """Whether try number ``attempt`` (1-based) that just failed is worth another."""
        return Verdict.RETRY if attempt < self.attempts else Verdict.DEAD_LETTER

    def worst_case_wait(self) -> float:
        """The longest total wait all retries can add (for fitting inside a job timeout)."""
        return sum(min(self.cap, self.base * 2.0 ** (n - 1)) for n in range(1, self.attempts))


def job_verdict(retries_left: int | None) -> Verdict:
    """Whether a job whose whole request failed should be left to RQ's ``Retry``.

    RQ counts down ``retries_left`` on each re-run; when none are left (or the job was
    enqueued without ``Retry``), this run is the last one and the batch must go to the
    dead-letter store instead of failing into a registry nobody reads.
    """
    return Verdict.RETRY if retries_left else Verdict.DEAD_LETTER
