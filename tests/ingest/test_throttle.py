"""The login throttle on its own: limits, the lock-out attack, the race, the window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import fakeredis
import pytest
from redis import Redis

from logagg.ingest.auth.throttle import LoginThrottle, LoginThrottled, ThrottlePolicy

POLICY = ThrottlePolicy(max_per_user=3, max_per_address=5, window_seconds=900)


def fail(throttle: LoginThrottle, username: str, address: str) -> None:
    """One wrong password, as the login route does it: count the try, then the failure."""
    throttle.begin(username, address)
    throttle.record_failure(username)


def retry_after(attempt: Callable[[], None]) -> int:
    with pytest.raises(LoginThrottled) as refused:
        attempt()
    return refused.value.retry_after


@pytest.fixture
def throttle(redis: fakeredis.FakeRedis) -> LoginThrottle:
    return LoginThrottle(redis, POLICY)


def test_an_address_gets_the_limit_of_tries_at_a_name(throttle: LoginThrottle) -> None:
    for _ in range(3):
        fail(throttle, "svc", "192.0.2.1")
    assert 0 < retry_after(lambda: throttle.begin("svc", "192.0.2.1")) <= 900
    assert 0 < retry_after(lambda: throttle.begin("SVC", "192.0.2.1")) <= 900
    throttle.begin("svc", "192.0.2.2")  # another address
    throttle.begin("other", "192.0.2.1")  # another name


def test_the_address_limit_counts_every_name(throttle: LoginThrottle) -> None:
    for index in range(5):
        fail(throttle, f"name{index}", "192.0.2.1")
    assert retry_after(lambda: throttle.begin("fresh", "192.0.2.1")) > 0
    throttle.begin("fresh", "192.0.2.2")


def test_a_success_gives_its_try_back(throttle: LoginThrottle) -> None:
    # A busy address that logs in often is never throttled for its successes.
    for _ in range(20):
        throttle.begin("svc", "192.0.2.1")
        throttle.record_success("svc", "192.0.2.1")
    fail(throttle, "svc", "192.0.2.1")
    throttle.begin("svc", "192.0.2.1")


def test_failures_from_many_addresses_never_refuse_a_clean_address(
    throttle: LoginThrottle,
) -> None:
    for index in range(100):
        fail(throttle, "svc", f"198.51.100.{index}")
    throttle.begin("svc", "203.0.113.9")
    throttle.record_success("svc", "203.0.113.9")
    # an address that failed for the name waits, longer as the failures go on
    assert 1 < retry_after(lambda: throttle.begin("svc", "198.51.100.5")) <= 900


def test_the_backoff_doubles_from_one_second(
    throttle: LoginThrottle, redis: fakeredis.FakeRedis
) -> None:
    waits = []
    for index in range(6):
        fail(throttle, "svc", f"198.51.100.{index}")
        waits.append(redis.ttl("logagg:login-failures:backoff:3:svc"))
    assert waits == [-2, -2, 1, 2, 4, 8]


def test_retry_after_is_the_rest_of_the_window(redis: fakeredis.FakeRedis) -> None:
    throttle = LoginThrottle(redis, ThrottlePolicy(1, 10, 600))
    fail(throttle, "svc", "192.0.2.1")
    redis.expire("logagg:login-failures:pair:3:svc:192.0.2.1", 42)
    assert retry_after(lambda: throttle.begin("svc", "192.0.2.1")) == 42


@pytest.mark.integration
def test_parallel_wrong_guesses_get_at_most_the_limit(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    throttle = LoginThrottle(redis, ThrottlePolicy(10, 1000, 900))
    tried, refused = [], []
    start = threading.Barrier(40)

    def guess() -> None:
        start.wait()
        try:
            throttle.begin("svc", "192.0.2.1")
        except LoginThrottled:
            refused.append(1)
            return
        tried.append(1)
        throttle.record_failure("svc")

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert (len(tried), len(refused)) == (10, 30)
    assert int(redis.get("logagg:login-failures:pair:3:svc:192.0.2.1") or 0) == 10


@pytest.mark.integration
def test_the_window_closes(redis_url: str) -> None:
    throttle = LoginThrottle(Redis.from_url(redis_url), ThrottlePolicy(2, 10, 1))
    fail(throttle, "svc", "192.0.2.1")
    fail(throttle, "svc", "192.0.2.1")
    assert retry_after(lambda: throttle.begin("svc", "192.0.2.1")) == 1
    # Redis expires the counter a second on; wait for that, within a generous bound.
    deadline = time.monotonic() + 10
    while True:
        try:
            throttle.begin("svc", "192.0.2.1")
            break
        except LoginThrottled:
            assert time.monotonic() < deadline, "the window never closed"
            time.sleep(0.05)
