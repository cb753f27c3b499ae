"""What to do after an answer or a failure: pure decisions, no I/O.

- ``200`` (any 2xx): done.
- ``401``: the access token expired or was revoked; get a new one and send again.
- ``429``, ``503``: the server is busy or its store unreachable; wait ``Retry-After``.
- other 5xx, ``408``, connection errors and timeouts: retry with exponential backoff and
  full jitter (a delay drawn uniformly from zero to the exponential bound, so clients
  that failed together do not retry together).
- every other 4xx (400, 403, 404, 405, 413, 415, ...): refused for good; never retried.
"""

from __future__ import annotations

import enum
import random
import time
from email.utils import parsedate_to_datetime


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    REAUTHENTICATE = "reauthenticate"
    RETRY = "retry"
    REJECTED = "rejected"


_RETRIED_4XX = frozenset({408, 429})


def classify(status: int) -> Verdict:
    """The verdict on an HTTP status."""
    if 200 <= status < 300:
        return Verdict.ACCEPTED
    if status == 401:
        return Verdict.REAUTHENTICATE
    if status >= 500 or status in _RETRIED_4XX:
        return Verdict.RETRY
    return Verdict.REJECTED


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Full-jitter delay before retry number ``attempt`` (1 for the first retry)."""
    bound = min(cap, base * 2 ** max(attempt - 1, 0))
    return rng.uniform(0.0, bound)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); ``None`` if
    absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    rng: random.Random,
    retry_after: float | None = None,
    max_retry_after: float = 300.0,
) -> float:
    """How long to wait before retry ``attempt``: the server's ``Retry-After`` when it gave
    one (bounded by ``max_retry_after``), else the jittered backoff."""
    if retry_after is not None:
        return min(retry_after, max_retry_after)
    return backoff_delay(attempt, base, cap, rng)
