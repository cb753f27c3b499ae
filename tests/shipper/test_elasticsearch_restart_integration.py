"""Elasticsearch stopped in the middle of a run and started again: nothing is lost.

A dedicated node (not the session one), stopped and started on the same port and data
folder, and the real ``logagg shipper es`` process working the queue throughout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from logagg.elasticsearch_client import connect_elasticsearch
from logagg.embedded import ElasticsearchNode, free_port
from logagg.embedded.elasticsearch_node import throwaway_node
from logagg.embedded.process import poll_until
from logagg.queues import SHIP_ES, SHIP_ES_JOB, JobSpec, enqueue
from logagg.redis_connection import connect_redis
from logagg.settings import ElasticsearchSettings, RedisSettings
from logagg.shipper.deadletter import DeadLetterStore

from .events import make_batch

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# Short retry intervals adding up to well over a node restart, so the test waits seconds,
# not the minutes the production intervals would take.
FAST_RETRY = JobSpec(SHIP_ES, SHIP_ES_JOB.func, 30, (1, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5))
BATCHES, EVENTS = 10, 100


@pytest.fixture
def own_node() -> Iterator[ElasticsearchNode]:
    with throwaway_node(
        REPO / ".cache" / "elasticsearch", prefix="logagg-test-es-restart-"
    ) as node:
        yield node


def indexed(es: Elasticsearch, alias: str) -> int:
    try:
        es.indices.refresh(index=alias)
        return int(es.count(index=alias)["count"])
    except Exception:  # the node is starting; the caller polls again
        return -1


def metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_nothing_is_lost_when_elasticsearch_restarts(
    own_node: ElasticsearchNode, redis_url: str, tmp_path: Path
) -> None:
    namespace = "restart"
    alias = f"logs-app.log-{namespace}"
    redis = connect_redis(RedisSettings.from_env({"REDIS_URL": redis_url}))
    es = connect_elasticsearch(ElasticsearchSettings.from_env({"ELASTICSEARCH_URL": own_node.url}))
    metrics_port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "ELASTICSEARCH_URL": own_node.url,
        "LOGAGG_ES_NAMESPACE": namespace,
        "LOGAGG_SHIPPER_METRICS_PORT": str(metrics_port),
        "LOGAGG_SHIP_BULK_MAX_DOCS": "25",
    }
    log = (tmp_path / "shipper.log").open("wb")
    shipper = subprocess.Popen(
        [sys.executable, "-m", "logagg.shipper", "es"], env=env, stdout=log, stderr=log
    )
    try:
        for n in range(BATCHES):
            enqueue(FAST_RETRY, make_batch(f"before{n}", EVENTS), redis)
        poll_until(lambda: indexed(es, alias) > 0, 60, "the first documents")

        own_node.stop()
        for n in range(BATCHES):
            enqueue(FAST_RETRY, make_batch(f"during{n}", EVENTS), redis)
        poll_until(
            lambda: metric(_scrape(metrics_port), "logagg_shipper_retries_total") > 0,
            30,
            "a job to fail while the node is down",
        )
        own_node.start()

        total = 2 * BATCHES * EVENTS
        poll_until(lambda: indexed(es, alias) == total, 120, f"{total} documents")
        assert len(DeadLetterStore(redis, max_entries=10)) == 0
        assert metric(_scrape(metrics_port), "logagg_shipper_documents_indexed_total") >= total
    finally:
        shipper.send_signal(signal.SIGTERM)
        code = shipper.wait(60)
        log.close()
        es.close()
    assert code == 0, (tmp_path / "shipper.log").read_text()[-3000:]


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return str(answer.read().decode())
