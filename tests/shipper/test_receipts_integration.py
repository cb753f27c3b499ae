"""Delivery receipts through the real pipeline: posted to the ingest app, parsed and
shipped by RQ workers in burst mode, on a real Redis, Elasticsearch and S3."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from flask.testing import FlaskClient
from redis import Redis

from logagg.archive_staging import CHUNKS_KEY
from logagg.ingest.app import create_app
from logagg.ingest.auth.users import Role
from logagg.ingest.context import current
from logagg.ingest.settings import IngestSettings
from logagg.parser import jobs as parser_jobs
from logagg.parser.settings import ParserSettings
from logagg.queues import PARSE, SHIP_ES, SHIP_ES_JOB, SHIP_S3, enqueue, job_queue
from logagg.s3_client import connect_s3
from logagg.workers import build_worker

from .conftest import MakeRuntime, drain

pytestmark = pytest.mark.integration

BUCKET = "logs-receipts"
WRITER = ("billing", "writer-password-1")
INGEST_ENV = {
    "LOGAGG_JWT_SECRET": "test-secret-long-enough-for-hs256-and-hs512-0123456789abcdef",
    "LOGAGG_ARGON2_TIME_COST": "1",
    "LOGAGG_ARGON2_MEMORY": "8KiB",
    "LOGAGG_ARGON2_PARALLELISM": "1",
}
GOOD = "2025-04-18 10:12:01,123 - 10.0.0.7 - 4242 - ERROR - resolve - dns.py - lookup failed - x"
# The parser keeps an unknown JSON key under `labels` (a flattened field); a key holding a
# NUL character is one Elasticsearch refuses to index there.
REJECTED = '{"message": "odd key", "a\\u0000b": "x"}'


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    connection = Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def client(redis: Redis, redis_url: str) -> Iterator[FlaskClient]:
    app = create_app(IngestSettings.from_env({**INGEST_ENV, "REDIS_URL": redis_url}), redis=redis)
    with app.app_context():
        context = current()
        context.users.create(WRITER[0], context.hashing.hash(WRITER[1]), Role.WRITER)
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def ship_all(
    make_runtime: MakeRuntime,
    es: Elasticsearch,
    elasticsearch_url: str,
    s3_endpoint_url: str,
    redis: Redis,
    redis_url: str,
) -> Iterator[Any]:
    """Run the parse jobs, then both shipping queues, each with a real burst worker, then
    the archive's compaction step until nothing is staged."""
    runtime = make_runtime(
        ELASTICSEARCH_URL=elasticsearch_url,
        S3_BUCKET=BUCKET,
        AWS_ENDPOINT_URL_S3=s3_endpoint_url,
        LOGAGG_S3_PATH_STYLE="true",
        LOGAGG_ARCHIVE_FLUSH_AGE="1s",
    )
    connect_s3(runtime.settings.s3).create_bucket(Bucket=BUCKET)
    compactor = runtime.archive_sink().compactor
    compactor.margin = 0.0  # no Redis is killed here
    parser_jobs.configure(
        ParserSettings.from_env({"REDIS_URL": redis_url, "LOGAGG_SINKS": "elasticsearch,s3"})
    )

    def run(*, parse: bool = True) -> None:
        if parse:
            assert build_worker([PARSE], redis).work(burst=True, logging_level="WARNING")
        drain(SHIP_ES, redis)
        drain(SHIP_S3, redis)
        deadline = time.monotonic() + 30
        while redis.zcard(CHUNKS_KEY):
            assert time.monotonic() < deadline, "archive chunks still staged after 30 s"
            if not compactor.step():
                time.sleep(0.05)

    yield run
    parser_jobs._configured.clear()


def post(client: FlaskClient, token: str, lines: list[str]) -> dict[str, Any]:
    response = client.post("/log", data="\n".join(lines), headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: FlaskClient) -> str:
    response = client.post("/auth/login", json={"username": WRITER[0], "password": WRITER[1]})
    assert response.status_code == 200
    return str(response.get_json()["token"]["access"])


def receipt(client: FlaskClient, token: str, receipt_id: str) -> dict[str, Any]:
    response = client.get(f"/log/batches/{receipt_id}", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    found: dict[str, Any] = response.get_json()
    return found


def test_a_posted_batch_is_indexed_and_archived(client: FlaskClient, ship_all: Any) -> None:
    token = login(client)
    posted = post(client, token, [GOOD, "not a known format", GOOD])
    assert receipt(client, token, posted["batch_id"])["status"] == "queued"

    ship_all()

    found = receipt(client, token, posted["batch_id"])
    assert found["status"] == "delivered"
    assert found["stages"] == {"queued": True, "parsed": True, "indexed": True, "archived": True}
    assert found["counts"] == {
        "received": 3,
        "truncated": 0,
        "events": 3,
        "parsed": 2,
        "unparsed": 1,
        "indexed": 3,
        "archived": 3,
        "dead_lettered": 0,
    }
    assert found["dead_letter_reasons"] == {}
    (batch_id,) = posted["batches"]
    assert receipt(client, token, batch_id)["counts"] == found["counts"]


def test_a_rejected_line_is_dead_lettered_and_a_repeated_job_counts_once(
    client: FlaskClient, ship_all: Any, redis: Redis
) -> None:
    token = login(client)
    posted = post(client, token, [GOOD, REJECTED, GOOD, GOOD])
    (batch_id,) = posted["batches"]
    # keep the shipping payload, to run the same job again once it is done
    assert build_worker([PARSE], redis).work(burst=True, logging_level="WARNING")
    (es_job,) = job_queue(SHIP_ES, redis).get_jobs()
    payload = es_job.args[0]

    ship_all(parse=False)
    found = receipt(client, token, batch_id)
    assert found["status"] == "delivered_with_dead_letters"
    assert found["stages"]["indexed"] is True
    assert found["stages"]["archived"] is True
    assert found["counts"]["indexed"] == 3
    assert found["counts"]["archived"] == 4
    assert found["counts"]["dead_lettered"] == 1
    assert found["dead_lettered"] == {"elasticsearch": 1, "archive": 0}
    assert found["dead_letter_reasons"] == {"elasticsearch": {"document_parsing_exception": 1}}

    # at-least-once: the same shipping job again (now every document is already there)
    enqueue(SHIP_ES_JOB, payload, redis)
    drain(SHIP_ES, redis)
    again = receipt(client, token, batch_id)
    assert again["counts"] == found["counts"]
    assert again["dead_letter_reasons"] == found["dead_letter_reasons"]
