"""The Elasticsearch sink against the real (test distribution) Elasticsearch 8.17."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from rq.registry import FailedJobRegistry

from logagg.queues import SHIP_ES, SHIP_ES_JOB, enqueue, job_queue
from logagg.shipper.deadletter import Filter
from logagg.shipper.elasticsearch.cluster import detect_layout, prepare_cluster
from logagg.shipper.elasticsearch.layout import Layout

from .conftest import TEMPLATE_PREFIX, MakeRuntime, cleanup_namespace, drain
from .events import make_batch

pytestmark = pytest.mark.integration


def count(es: Elasticsearch, index: str, **query: Any) -> int:
    es.indices.refresh(index=index)
    return int(es.count(index=index, query=query or {"match_all": {}})["count"])


def field_type(mapping: dict[str, Any], dotted: str) -> str:
    node = mapping
    for part in dotted.split("."):
        node = node["properties"][part]
    return str(node["type"])


def test_the_test_distribution_gets_daily_indices(es: Elasticsearch) -> None:
    assert detect_layout(es) is Layout.DAILY


def test_a_batch_is_searchable_with_the_right_mappings(
    es: Elasticsearch, make_runtime: MakeRuntime, elasticsearch_url: str, namespace: str
) -> None:
    sink = make_runtime(ELASTICSEARCH_URL=elasticsearch_url).elasticsearch_sink()
    batch = make_batch("b1", 20)
    batch["events"][3]["custom"] = {"anything": ["goes", 1]}
    batch["events"][4]["labels"] = {"count": 3, "nested": {"list": [1, "two"]}}
    report = sink.ship(batch)
    assert (report.created, report.rejected) == (20, 0)

    alias = f"logs-app.log-{namespace}"
    (index,) = es.indices.get_alias(name=alias).body
    assert index == f"{alias}-2025.04.18"
    mapping = es.indices.get_mapping(index=alias)[index]["mappings"]
    assert {
        field: field_type(mapping, field)
        for field in (
            "@timestamp", "message", "log.level", "service.name", "event.dataset",
            "host.ip", "source.ip", "client.ip", "http.response.status_code", "labels",
        )
    } == {
        "@timestamp": "date", "message": "text", "log.level": "keyword",
        "service.name": "keyword", "event.dataset": "keyword", "host.ip": "ip",
        "source.ip": "ip", "client.ip": "ip", "http.response.status_code": "long",
        "labels": "flattened",
    }  # fmt: skip
    assert "custom" not in mapping["properties"]  # kept in _source, not mapped

    assert count(es, alias) == 20
    assert count(es, alias, match={"message": "declined"}) == 20
    assert count(es, alias, term={"host.ip": "10.0.0.0/8"}) == 20
    assert count(es, alias, range={"http.response.status_code": {"gte": 500}}) == 20
    assert count(es, alias, term={"labels.tenant": "acme"}) == 19
    assert count(es, alias, term={"event.id": "b1-7"}) == 1
    doc = es.get(index=index, id="b1-3")
    assert doc["_source"] == batch["events"][3]


def test_the_same_batch_twice_leaves_one_copy(
    es: Elasticsearch, make_runtime: MakeRuntime, elasticsearch_url: str, namespace: str
) -> None:
    sink = make_runtime(ELASTICSEARCH_URL=elasticsearch_url).elasticsearch_sink()
    batch = make_batch("b2", 50, start="2025-04-18T23:59:30.000Z", step_seconds=1)
    first = sink.ship(batch)
    again = sink.ship(batch)
    assert (first.created, first.already_there) == (50, 0)
    assert (again.created, again.already_there) == (0, 50)
    alias = f"logs-app.log-{namespace}"
    assert count(es, alias) == 50
    assert sorted(es.indices.get_alias(name=alias).body) == [
        f"{alias}-2025.04.18",
        f"{alias}-2025.04.19",
    ]


def test_a_mapping_conflict_is_dead_lettered_and_replayed_after_the_fix(
    es: Elasticsearch, make_runtime: MakeRuntime, elasticsearch_url: str, namespace: str
) -> None:
    runtime = make_runtime(ELASTICSEARCH_URL=elasticsearch_url)
    batch = make_batch("b3", 10)
    batch["events"][4]["http"]["response"]["status_code"] = "two hundred"
    batch["events"][7]["client"]["ip"] = "not-an-address"
    report = runtime.elasticsearch_sink().ship(batch)
    assert (report.created, report.rejected) == (8, 2)
    alias = f"logs-app.log-{namespace}"
    assert count(es, alias) == 8

    letters = {d.id: d for d in runtime.deadletters.entries()}
    assert sorted(letters) == ["elasticsearch:b3-4", "elasticsearch:b3-7"]
    status_letter = letters["elasticsearch:b3-4"]
    assert status_letter.status == 400
    assert status_letter.reason == "document_parsing_exception"
    assert "http.response.status_code" in status_letter.detail
    assert status_letter.events == [batch["events"][4]]
    assert "client.ip" in letters["elasticsearch:b3-7"].detail

    # The fix: malformed status codes are tolerated from now on, in the template for new
    # indices and in the live index.
    lenient = {"http": {"properties": {"response": {"properties": {
        "status_code": {"type": "long", "ignore_malformed": True}}}}}}  # fmt: skip
    es.indices.put_mapping(index=alias, properties=lenient)
    replayed = runtime.deadletters.replay(
        Filter(ids=["elasticsearch:b3-4"], reason="document_parsing_exception")
    )
    assert replayed == 1
    drain(SHIP_ES, runtime.redis)

    assert count(es, alias) == 9
    assert es.get(index=f"{alias}-2025.04.18", id="b3-4")["_source"] == batch["events"][4]
    assert [d.id for d in runtime.deadletters.entries()] == ["elasticsearch:b3-7"]


def test_a_job_through_rq_indexes_its_batch(
    es: Elasticsearch, make_runtime: MakeRuntime, elasticsearch_url: str, namespace: str
) -> None:
    runtime = make_runtime(ELASTICSEARCH_URL=elasticsearch_url)
    job = enqueue(SHIP_ES_JOB, make_batch("b4", 30), runtime.redis)
    drain(SHIP_ES, runtime.redis)
    # a finished pipeline job is deleted at once; a failed one would be kept
    assert not runtime.redis.exists(job.key)
    assert FailedJobRegistry(SHIP_ES, connection=runtime.redis).count == 0
    assert count(es, f"logs-app.log-{namespace}") == 30


def test_the_last_try_of_a_job_dead_letters_the_batch(
    make_runtime: MakeRuntime, namespace: str
) -> None:
    from logagg.embedded import free_port

    runtime = make_runtime(ELASTICSEARCH_URL=f"http://127.0.0.1:{free_port()}")
    # enqueued without Retry: this run is the last
    job_queue(SHIP_ES, runtime.redis).enqueue(
        SHIP_ES_JOB.func, make_batch("b5", 5), job_id="ship-es-b5", job_timeout=30
    )
    drain(SHIP_ES, runtime.redis)
    (letter,) = runtime.deadletters.entries()
    assert (letter.id, letter.sink, letter.reason) == (
        "elasticsearch:batch:b5", "elasticsearch", "sink_unavailable"
    )  # fmt: skip
    assert len(letter.events) == 5
    assert "unreachable" in letter.detail


def test_data_streams_where_asked_for(
    es: Elasticsearch, make_runtime: MakeRuntime, elasticsearch_url: str, namespace: str
) -> None:
    runtime = make_runtime(
        ELASTICSEARCH_URL=elasticsearch_url, LOGAGG_ES_INDEX_LAYOUT="data_stream"
    )
    sink = runtime.elasticsearch_sink()
    assert sink.layout is Layout.DATA_STREAM
    batch = make_batch("b6", 10, dataset="stream.test")
    assert sink.ship(batch).created == 10
    assert sink.ship(batch).already_there == 10
    stream = f"logs-stream.test-{namespace}"
    assert count(es, stream) == 10
    (backing,) = es.indices.get(index=stream).body
    assert backing.startswith(f".ds-{stream}-")


def test_shippers_of_several_namespaces_start_together(es: Elasticsearch, namespace: str) -> None:
    other = f"{namespace}b"
    jobs = [(ns, layout) for ns in (namespace, other) for layout in ("daily", "data_stream")] * 2
    try:
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            chosen = list(
                pool.map(
                    lambda job: prepare_cluster(
                        es, prefix=TEMPLATE_PREFIX, namespace=job[0], layout=job[1]
                    ),
                    jobs,
                )
            )
        assert chosen == [Layout(layout) for _, layout in jobs]
        names = {
            t["name"]
            for t in es.indices.get_index_template(name=f"{TEMPLATE_PREFIX}-*")["index_templates"]
        }
        # (a data stream's template outlives its test: the test distribution cannot
        # delete data streams, and a template in use cannot be deleted)
        assert names >= {
            f"{TEMPLATE_PREFIX}-logs-daily",
            f"{TEMPLATE_PREFIX}-logs-{namespace}",
            f"{TEMPLATE_PREFIX}-logs-{other}",
        }
    finally:
        cleanup_namespace(es, other)
