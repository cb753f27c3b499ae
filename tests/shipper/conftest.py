"""Fixtures of the shipper's tests: an in-memory Redis for unit tests."""

from __future__ import annotations

import fakeredis
import pytest
from redis import Redis

from logagg.shipper.deadletter import DeadLetterStore


@pytest.fixture
def fake_redis() -> Redis:
    return fakeredis.FakeRedis()


@pytest.fixture
def deadletters(fake_redis: Redis) -> DeadLetterStore:
    return DeadLetterStore(fake_redis, max_entries=1000)
