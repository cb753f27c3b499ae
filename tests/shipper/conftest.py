"""Fixtures of the shipper's tests.

Unit tests get an in-memory Redis. Integration tests get a unique Elasticsearch
namespace per test (so their templates and indices never meet another test's), the
shipper's own runtime built from settings as a worker builds it, and a way to run the
queued jobs through a real RQ worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import fakeredis
import pytest
from elasticsearch import Elasticsearch
from redis import Redis

from logagg.archive_staging import CHUNKS_KEY
from logagg.elasticsearch_client import connect_elasticsearch
from logagg.redis_connection import connect_redis
from logagg.settings import ElasticsearchSettings
from logagg.shipper import jobs
from logagg.shipper.archive.compaction import Compactor
from logagg.shipper.deadletter import DeadLetterStore
from logagg.shipper.runtime import ShipperRuntime
from logagg.shipper.settings import ShipperSettings
from logagg.workers import build_worker

TEMPLATE_PREFIX = "logagg-test"


@pytest.fixture
def fake_redis() -> Redis:
    return fakeredis.FakeRedis()


@pytest.fixture
def deadletters(fake_redis: Redis) -> DeadLetterStore:
    return DeadLetterStore(fake_redis, max_entries=1000)


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def cleanup_namespace(es: Elasticsearch, namespace: str) -> None:
    """Delete what a test made in ``namespace`` (data streams cannot be deleted on the
    test distribution; their names are unique, so they stay harmless)."""
    quiet = es.options(ignore_status=[400, 404])
    quiet.indices.delete(index=f"logs-*-{namespace}-*", expand_wildcards="all")
    # the daily template and the component templates are shared by every namespace, and
    # tests run one at a time: each leaves the cluster as it found it
    for name in (f"{TEMPLATE_PREFIX}-logs-{namespace}", f"{TEMPLATE_PREFIX}-logs-daily"):
        quiet.indices.delete_index_template(name=name)
    for part in ("settings", "mappings"):
        quiet.cluster.delete_component_template(name=f"{TEMPLATE_PREFIX}-logs@{part}")


@pytest.fixture
def es(elasticsearch_url: str, namespace: str) -> Iterator[Elasticsearch]:
    client = connect_elasticsearch(
        ElasticsearchSettings.from_env({"ELASTICSEARCH_URL": elasticsearch_url})
    )
    yield client
    cleanup_namespace(client, namespace)
    client.close()


MakeRuntime = Callable[..., ShipperRuntime]


@pytest.fixture
def make_runtime(redis_url: str, namespace: str) -> Iterator[MakeRuntime]:
    """Build a runtime from settings (plus overrides) and install it for the jobs."""

    def make(**env: str) -> ShipperRuntime:
        settings = ShipperSettings.from_env(
            {
                "REDIS_URL": redis_url,
                "LOGAGG_ES_NAMESPACE": namespace,
                "LOGAGG_ES_TEMPLATE_PREFIX": TEMPLATE_PREFIX,
                "LOGAGG_SHIP_BACKOFF_BASE": "10ms",
                "LOGAGG_SHIPPER_METRICS_PORT": "0",
                **env,
            }
        )
        runtime = ShipperRuntime(settings, connect_redis(settings.redis))
        jobs.install_runtime(runtime)
        return runtime

    yield make
    jobs.install_runtime(None)


def drain(queue_name: str, redis: Redis) -> None:
    """Run every job waiting on ``queue_name`` in this process, as a shipper worker does."""
    build_worker([queue_name], redis).work(burst=True, logging_level="WARNING")


def flush_all(compactor: Compactor, timeout: float = 30.0) -> int:
    """Step until everything staged is in objects; how many objects were written."""
    written = 0
    deadline = time.monotonic() + timeout
    while compactor.redis.zcard(CHUNKS_KEY):
        assert time.monotonic() < deadline, f"still staged after {timeout:.0f}s"
        written += compactor.step()
        time.sleep(0.05)
    return written
