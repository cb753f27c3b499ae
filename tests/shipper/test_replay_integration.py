"""``logagg replay`` through the real sinks: archive in S3 (moto) or a folder, Elasticsearch."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from logagg.archive_staging import CHUNKS_KEY
from logagg.queues import SHIP_ES, SHIP_ES_JOB, SHIP_S3, SHIP_S3_JOB, enqueue, job_queue
from logagg.s3_client import connect_s3
from logagg.shipper import replay_cli
from logagg.shipper.archive.keys import ArchivePartition, chunk_id, object_name
from logagg.shipper.runtime import ShipperRuntime

from .conftest import TEMPLATE_PREFIX, MakeRuntime, drain
from .events import make_batch

pytestmark = pytest.mark.integration

BUCKET = "logs-archive"
HOUR_11 = ArchivePartition("billing", "2025-04-18", "11")
ALL_IDS = {f"a-{n}" for n in range(6)} | {f"b-{n}" for n in range(3)} | {"c-0", "c-1"}


def ship_through_both_sinks(runtime: ShipperRuntime) -> None:
    """billing 10:40..11:30 on the 18th (two archive objects), web at 11:05..11:07, billing
    on the 19th: 11 events, indexed and archived the way the pipeline does it."""
    redis = runtime.redis
    compactor = runtime.archive_sink().compactor
    compactor.margin = 0.0  # no Redis is killed here
    for batch in (
        make_batch("a", 6, start="2025-04-18T10:40:00.000Z", step_seconds=600),
        make_batch("b", 3, service="web", start="2025-04-18T11:05:00.000Z", step_seconds=60),
        make_batch("c", 2, start="2025-04-19T09:00:00.000Z", step_seconds=1),
    ):
        enqueue(SHIP_ES_JOB, batch, redis)
        enqueue(SHIP_S3_JOB, batch, redis)
    drain(SHIP_ES, redis)
    drain(SHIP_S3, redis)
    deadline = time.monotonic() + 30
    while redis.zcard(CHUNKS_KEY):
        assert time.monotonic() < deadline, "archive chunks still staged after 30 s"
        if not compactor.step():
            time.sleep(0.05)


def indexed_ids(es: Elasticsearch, namespace: str) -> list[str]:
    """Every document id under the namespace's alias (duplicates would show twice)."""
    index = f"logs-app.log-{namespace}"
    es.indices.refresh(index=index)
    found = es.search(index=index, size=100, source=False, sort=["_doc"])
    return sorted(hit["_id"] for hit in found["hits"]["hits"])


def delete_indices(es: Elasticsearch, namespace: str) -> None:
    es.indices.delete(index=f"logs-*-{namespace}-*", expand_wildcards="all")
    assert not es.indices.exists_alias(name=f"logs-app.log-{namespace}")


def run_replay(*argv: str) -> str:
    out = io.StringIO()
    assert replay_cli.main([*argv, "--no-progress"], out=out) == 0
    return out.getvalue()


def set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_replay_from_s3_restores_a_deleted_index_and_twice_leaves_one_copy(
    es: Elasticsearch,
    make_runtime: MakeRuntime,
    elasticsearch_url: str,
    s3_endpoint_url: str,
    redis_url: str,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "ELASTICSEARCH_URL": elasticsearch_url,
        "S3_BUCKET": BUCKET,
        "AWS_ENDPOINT_URL_S3": s3_endpoint_url,
        "LOGAGG_S3_PATH_STYLE": "true",
        "LOGAGG_ARCHIVE_FLUSH_AGE": "1s",
    }
    runtime = make_runtime(**env)
    connect_s3(runtime.settings.s3).create_bucket(Bucket=BUCKET)
    ship_through_both_sinks(runtime)
    before = indexed_ids(es, namespace)
    assert set(before) == ALL_IDS

    delete_indices(es, namespace)
    set_env(monkeypatch, env)
    text = run_replay("--since", "2025-04-18", "--until", "2025-04-20")
    assert text.startswith("enqueued 11 event(s) in 4 ship-es job(s) from 4 archive object(s)")
    # a second run while the jobs wait adds none
    assert "4 job(s) were waiting already" in run_replay(
        "--since", "2025-04-18", "--until", "2025-04-20"
    )
    assert job_queue(SHIP_ES, runtime.redis).count == 4

    make_runtime(**env)  # a fresh shipper process: it makes the deleted daily indices again
    drain(SHIP_ES, runtime.redis)
    assert indexed_ids(es, namespace) == before

    run_replay("--since", "2025-04-18", "--until", "2025-04-20")
    drain(SHIP_ES, runtime.redis)
    assert indexed_ids(es, namespace) == before
    assert len(runtime.deadletters) == 0


def test_replay_from_a_folder_keeps_to_the_window_and_the_service(
    es: Elasticsearch,
    make_runtime: MakeRuntime,
    elasticsearch_url: str,
    redis_url: str,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "ELASTICSEARCH_URL": elasticsearch_url,
        "LOGAGG_ARCHIVE_URL": f"file://{tmp_path / 'archive'}",
        "LOGAGG_ARCHIVE_FLUSH_AGE": "1s",
        "LOGAGG_ES_NAMESPACE": namespace,
        "LOGAGG_ES_TEMPLATE_PREFIX": TEMPLATE_PREFIX,
    }
    runtime = make_runtime(**env)
    ship_through_both_sinks(runtime)
    delete_indices(es, namespace)
    set_env(monkeypatch, env)

    window = ("--since", "2025-04-18T11:00Z", "--until", "2025-04-18T11:25Z")
    dry = run_replay(*window, "--service", "billing", "--dry-run")
    # the object's name derives from its partition and first chunk (batch a's)
    name = object_name("service=billing/date=2025-04-18/hour=11", chunk_id("a", HOUR_11))
    assert dry.splitlines() == [
        f"       3  logs/service=billing/date=2025-04-18/hour=11/{name}.ndjson.gz",
        "would enqueue 3 event(s) in 1 ship-es job(s) from 1 archive object(s) "
        "[2025-04-18T11:00:00+00:00, 2025-04-18T11:25:00+00:00)",
    ]
    assert job_queue(SHIP_ES, runtime.redis).count == 0

    run_replay(*window, "--service", "billing")
    make_runtime(**env)
    drain(SHIP_ES, runtime.redis)
    assert indexed_ids(es, namespace) == ["a-2", "a-3", "a-4"]

    run_replay(*window)  # every service: web's three events join
    drain(SHIP_ES, runtime.redis)
    assert indexed_ids(es, namespace) == ["a-2", "a-3", "a-4", "b-0", "b-1", "b-2"]


def test_failures_are_one_line(
    redis_url: str,
    tmp_path: Path,
    s3_endpoint_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("LOGAGG_ARCHIVE_URL", f"file://{tmp_path / 'nowhere'}")
    assert replay_cli.main(["--since", "2025-04-18"]) == 1
    assert capsys.readouterr().err == (
        f"logagg replay: archive folder {tmp_path / 'nowhere'} does not exist\n"
    )
    assert replay_cli.main(["--since", "tomorrow"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("logagg replay: not a time: 'tomorrow'")
    monkeypatch.delenv("LOGAGG_ARCHIVE_URL")
    monkeypatch.setenv("S3_BUCKET", "no-such-bucket")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint_url)
    assert replay_cli.main(["--since", "2025-04-18"]) == 1
    err = capsys.readouterr().err
    assert err == "logagg replay: S3 bucket 'no-such-bucket' does not exist\n"
