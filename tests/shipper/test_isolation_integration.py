"""Each sink on its own queue: one sink's outage never holds up the other."""

from __future__ import annotations

import gzip

import pytest
from elasticsearch import Elasticsearch
from redis import Redis
from rq.registry import ScheduledJobRegistry

from logagg.embedded import free_port
from logagg.queues import (
    SHIP_ES,
    SHIP_ES_JOB,
    SHIP_S3,
    SHIP_S3_JOB,
    enqueue,
    job_queue,
    queue_key,
)
from logagg.s3_client import connect_s3
from logagg.shipper import __main__ as shipper_main
from logagg.shipper.__main__ import main

from .conftest import MakeRuntime, drain, flush_all
from .events import make_batch

pytestmark = pytest.mark.integration

BUCKET = "logs-archive"


def enqueue_both(redis: Redis, batches: int) -> None:
    for n in range(batches):
        batch = make_batch(f"iso{n}", 10)
        enqueue(SHIP_ES_JOB, batch, redis)
        enqueue(SHIP_S3_JOB, batch, redis)


def waiting_for_retry(queue_name: str, redis: Redis) -> int:
    queue = job_queue(queue_name, redis)
    return len(ScheduledJobRegistry(queue=queue))


def test_s3_down_does_not_block_elasticsearch(
    es: Elasticsearch, make_runtime: MakeRuntime, elasticsearch_url: str, namespace: str
) -> None:
    runtime = make_runtime(
        ELASTICSEARCH_URL=elasticsearch_url,
        S3_BUCKET=BUCKET,
        AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{free_port()}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    enqueue_both(runtime.redis, 3)
    drain(SHIP_S3, runtime.redis)
    drain(SHIP_ES, runtime.redis)

    es.indices.refresh(index=f"logs-app.log-{namespace}")
    assert es.count(index=f"logs-app.log-{namespace}")["count"] == 30
    # the archive jobs wait for their retry: not lost, not dead-lettered yet
    assert waiting_for_retry(SHIP_S3, runtime.redis) == 3
    assert len(runtime.deadletters) == 0


def test_elasticsearch_down_does_not_block_the_archive(
    s3_endpoint_url: str, make_runtime: MakeRuntime
) -> None:
    runtime = make_runtime(
        ELASTICSEARCH_URL=f"http://127.0.0.1:{free_port()}",
        S3_BUCKET=BUCKET,
        AWS_ENDPOINT_URL_S3=s3_endpoint_url,
        LOGAGG_ARCHIVE_FLUSH_AGE="1s",
    )
    s3 = connect_s3(runtime.settings.s3)
    s3.create_bucket(Bucket=BUCKET)
    enqueue_both(runtime.redis, 3)
    drain(SHIP_ES, runtime.redis)
    drain(SHIP_S3, runtime.redis)
    compactor = runtime.archive_sink().compactor
    compactor.margin = 0.0  # no Redis is killed here
    assert flush_all(compactor) >= 1

    archived = 0
    for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]:
        body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        archived += len(gzip.decompress(body).splitlines())
    assert archived == 30
    assert waiting_for_retry(SHIP_ES, runtime.redis) == 3
    assert len(runtime.deadletters) == 0


def test_the_shipper_command_installs_templates_and_works_the_queue(
    es: Elasticsearch,
    make_runtime: MakeRuntime,
    elasticsearch_url: str,
    namespace: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = make_runtime()
    enqueue(SHIP_ES_JOB, make_batch("cmd", 25), runtime.redis)
    env = {
        "REDIS_URL": redis_url,
        "ELASTICSEARCH_URL": elasticsearch_url,
        "LOGAGG_ES_NAMESPACE": namespace,
        "LOGAGG_ES_TEMPLATE_PREFIX": "logagg-test",
        "LOGAGG_SHIPPER_METRICS_PORT": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # the worker's garbage-collector tuning is for its own process, not pytest's
    monkeypatch.setattr(shipper_main, "tune_garbage_collection", lambda: None)
    assert main(["es", "--burst"]) == 0
    assert es.indices.get_index_template(name="logagg-test-logs-daily")
    es.indices.refresh(index=f"logs-app.log-{namespace}")
    assert es.count(index=f"logs-app.log-{namespace}")["count"] == 25


def test_install_templates_installs_them_and_takes_no_job(
    es: Elasticsearch,
    make_runtime: MakeRuntime,
    elasticsearch_url: str,
    namespace: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = make_runtime()
    # (the daily template is shared by every namespace: other tests' shippers re-install it)
    es.options(ignore_status=404).indices.delete_index_template(name="logagg-test-logs-daily")
    enqueue(SHIP_ES_JOB, make_batch("setup", 3), runtime.redis)
    for name, value in {
        "REDIS_URL": redis_url,
        "ELASTICSEARCH_URL": elasticsearch_url,
        "LOGAGG_ES_NAMESPACE": namespace,
        "LOGAGG_ES_TEMPLATE_PREFIX": "logagg-test",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["install-templates"]) == 0
    assert es.indices.get_index_template(name="logagg-test-logs-daily")
    assert runtime.redis.llen(queue_key(SHIP_ES)) == 1
