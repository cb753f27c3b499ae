"""The real servers, reached through the project's own connection code."""

from __future__ import annotations

import gzip

import pytest
from rq.job import Job, JobStatus

from logagg.elasticsearch_client import connect_elasticsearch
from logagg.queues import JobSpec, enqueue, queue_key
from logagg.redis_connection import connect_redis
from logagg.s3_client import connect_s3
from logagg.settings import ElasticsearchSettings, RedisSettings, S3Settings
from logagg.workers import run_worker

pytestmark = pytest.mark.integration

# Workers run only the functions they are told to.
SORTED = frozenset({"builtins.sorted"})


def test_an_rq_job_runs_on_the_real_redis(redis_url: str) -> None:
    redis = connect_redis(RedisSettings.from_env({"REDIS_URL": redis_url}))
    spec = JobSpec("harness-check", "builtins.sorted", 10, (1,), result_ttl=60)
    job = enqueue(spec, {"batch_id": "b1", "service": "svc", "events": []}, redis)
    assert redis.llen(queue_key("harness-check")) == 1

    assert run_worker(["harness-check"], redis, burst=True, allowed_functions=SORTED) is True

    done = Job.fetch(job.id, connection=redis, serializer=job.serializer)
    assert done.get_status() == JobStatus.FINISHED
    assert done.return_value() == ["batch_id", "events", "service"]
    assert redis.llen(queue_key("harness-check")) == 0


def test_a_finished_pipeline_job_is_deleted_at_once(redis_url: str) -> None:
    redis = connect_redis(RedisSettings.from_env({"REDIS_URL": redis_url}))
    spec = JobSpec("harness-check", "builtins.sorted", 10, (1,))
    job = enqueue(spec, {"batch_id": "b2", "service": "svc", "events": []}, redis)
    assert redis.exists(job.key) == 1

    assert run_worker(["harness-check"], redis, burst=True, allowed_functions=SORTED) is True

    assert redis.exists(job.key) == 0


def test_bulk_index_and_search_back_on_the_real_elasticsearch(elasticsearch_url: str) -> None:
    es = connect_elasticsearch(
        ElasticsearchSettings.from_env({"ELASTICSEARCH_URL": elasticsearch_url})
    )
    index = "harness-check"
    es.options(ignore_status=404).indices.delete(index=index)
    body = []
    for n in range(3):
        body.append({"create": {"_index": index, "_id": f"doc-{n}"}})
        body.append({"message": f"line {n} - with - hyphens", "n": n})
    answer = es.bulk(operations=body, refresh="wait_for")
    assert answer["errors"] is False
    assert [item["create"]["status"] for item in answer["items"]] == [201, 201, 201]

    found = es.search(index=index, query={"match": {"message": "hyphens"}}, sort=["n"])
    assert [hit["_id"] for hit in found["hits"]["hits"]] == ["doc-0", "doc-1", "doc-2"]
    assert es.cluster.health()["number_of_nodes"] == 1
    es.indices.delete(index=index)


def test_put_and_get_an_object_on_the_s3_server(s3_endpoint_url: str) -> None:
    s3 = connect_s3(
        S3Settings.from_env({"S3_BUCKET": "harness", "AWS_ENDPOINT_URL_S3": s3_endpoint_url})
    )
    s3.create_bucket(Bucket="harness")
    payload = gzip.compress(b'{"message": "hello"}\n')
    s3.put_object(Bucket="harness", Key="logs/a.ndjson.gz", Body=payload, ContentEncoding="gzip")

    got = s3.get_object(Bucket="harness", Key="logs/a.ndjson.gz")
    assert gzip.decompress(got["Body"].read()) == b'{"message": "hello"}\n'
    assert got["ContentEncoding"] == "gzip"
