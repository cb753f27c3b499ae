"""The transport against a real ingest: token refresh, Retry-After, refusals."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from logagg.client import AuthenticationError, RejectedError, Transport, UnavailableError

from .conftest import WRITER, Ingest, wait_until

pytestmark = pytest.mark.integration


def test_a_429_is_retried_after_its_retry_after(make_ingest: Callable[..., Ingest]) -> None:
    ingest = make_ingest(LOGAGG_MAX_BACKLOG="1", LOGAGG_BACKLOG_RETRY_AFTER="1")
    # Backoff alone would spend five attempts in well under a second.
    transport = Transport(ingest.config(attempts=5, backoff_base=0.01, backoff_cap=0.02))
    transport.post_log(b"first\n", "text/plain")  # the backlog is now full

    def drain_after_the_first_429() -> None:
        wait_until(lambda: transport.retries >= 1, "a retry of the second body")
        assert ingest.take_lines() == ["first"]

    drainer = threading.Thread(target=drain_after_the_first_429)
    drainer.start()
    started = time.monotonic()
    answer = transport.post_log(b"second\n", "text/plain")
    elapsed = time.monotonic() - started
    drainer.join()

    assert answer.accepted == 1
    assert ingest.lines() == ["second"]
    assert transport.retries >= 1
    assert elapsed >= 0.9, "waited for Retry-After (1 s), not the 10 ms backoff"


def test_a_full_backlog_after_every_attempt_is_unavailable_with_the_hint(
    make_ingest: Callable[..., Ingest],
) -> None:
    ingest = make_ingest(LOGAGG_MAX_BACKLOG="1", LOGAGG_BACKLOG_RETRY_AFTER="1")
    transport = Transport(ingest.config(attempts=2))
    transport.post_log(b"first\n", "text/plain")

    with pytest.raises(UnavailableError) as raised:
        transport.post_log(b"second\n", "text/plain")

    assert raised.value.retry_after == 1.0
    assert "429" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert transport.retries == 1


def _wait_for_expiry(ingest: Ingest) -> None:
    """Until a token issued now is refused (its lifetime plus the server's leeway)."""
    basic = base64.b64encode(f"{WRITER[0]}:{WRITER[1]}".encode()).decode()
    request = urllib.request.Request(
        f"{ingest.url}/auth/login", headers={"Authorization": f"Basic {basic}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        probe = json.loads(response.read())["token"]["access"]

    def refused() -> bool:
        check = urllib.request.Request(
            f"{ingest.url}/log",
            data=b"",
            headers={"Authorization": f"Bearer {probe}", "Content-Type": "text/plain"},
        )
        try:
            with urllib.request.urlopen(check, timeout=10):
                return False
        except urllib.error.HTTPError as error:
            return error.code == 401

    wait_until(refused, "the access token expired", timeout=15)


def test_an_expired_access_token_is_refreshed_without_a_new_login(
    make_ingest: Callable[..., Ingest],
) -> None:
    ingest = make_ingest(LOGAGG_ACCESS_TOKEN_TTL="1s")
    transport = Transport(ingest.config())
    transport.post_log(b"before expiry\n", "text/plain")
    requests_before = transport.requests
    _wait_for_expiry(ingest)

    transport.post_log(b"after expiry\n", "text/plain")

    assert ingest.lines() == ["before expiry", "after expiry"]
    # the refused post, POST /auth/refresh, the post again: no new login
    assert transport.requests - requests_before == 3


def test_an_expired_refresh_token_means_a_new_login(make_ingest: Callable[..., Ingest]) -> None:
    ingest = make_ingest(LOGAGG_ACCESS_TOKEN_TTL="1s", LOGAGG_REFRESH_TOKEN_TTL="1s")
    transport = Transport(ingest.config())
    transport.post_log(b"before expiry\n", "text/plain")
    requests_before = transport.requests
    _wait_for_expiry(ingest)

    transport.post_log(b"after expiry\n", "text/plain")

    assert ingest.lines() == ["before expiry", "after expiry"]
    # the refused post, the refused refresh, GET /auth/login, the post again
    assert transport.requests - requests_before == 4


def test_refusals_are_not_retried(ingest: Ingest) -> None:
    transport = Transport(ingest.config(attempts=5))
    with pytest.raises(RejectedError) as raised:
        transport.post_log(b"[1, 2]", "application/json")
    assert raised.value.status == 400
    assert (transport.retries, transport.rejected) == (0, 1)

    wrong = Transport(ingest.config(password="not-" + WRITER[1]))
    with pytest.raises(AuthenticationError) as refused:
        wrong.post_log(b"line\n", "text/plain")
    assert refused.value.status == 401
    assert wrong.retries == 0
    assert ingest.lines() == []


def test_an_unreachable_server_is_unavailable_after_the_attempts(ingest: Ingest) -> None:
    ingest.server.stop()
    transport = Transport(ingest.config(attempts=3, backoff_base=0.01, backoff_cap=0.05))
    with pytest.raises(UnavailableError) as raised:
        transport.post_log(b"line\n", "text/plain")
    assert "connection refused (3 attempts)" in str(raised.value)
    assert transport.retries == 2
