"""The bulk and OTLP routes on the app: credentials, what is stored, bounds and answers."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from logagg.ingest.context import current
from logagg.ingest.routes.writer import BATCH_ID_HEADER
from logagg.queues import PARSE, job_queue, queue_key

from .conftest import ADMIN, WRITER, basic, bearer, login

NDJSON = {"Content-Type": "application/x-ndjson"}


def stored(redis: fakeredis.FakeRedis) -> list[dict[str, Any]]:
    return [job.args[0] for job in job_queue(PARSE, redis).get_jobs()]


def bulk_body(*values: Any) -> bytes:
    return b"".join(json.dumps(value).encode() + b"\n" for value in values)


def test_bulk_with_basic_credentials_stores_documents_and_answers_items(
    client: FlaskClient, redis: fakeredis.FakeRedis
) -> None:
    body = bulk_body(
        {"index": {"_index": "web"}},
        {"message": "one", "service": {"name": "intruder"}},
        {"delete": {"_id": "x"}},
        {"create": {}},
        {"message": "two"},
    )
    response = client.post("/app-logs/_bulk", data=body, headers={**basic(*WRITER), **NDJSON})
    assert response.status_code == 200
    assert response.headers["X-Elastic-Product"] == "Elasticsearch"
    answer = response.get_json()
    assert answer["errors"] is True
    assert [next(iter(item)) for item in answer["items"]] == ["index", "delete", "create"]
    (payload,) = stored(redis)
    assert payload["service"] == WRITER[0]
    assert payload["request_id"] == response.headers[BATCH_ID_HEADER]
    assert [line["message"] for line in payload["lines"]] == ["one", "two"]
    assert [line["data_stream"]["dataset"] for line in payload["lines"]] == ["web", "app_logs"]
    assert answer["items"][0]["index"]["_id"] == f"{payload['batch_id']}-0"
    assert answer["items"][2]["create"]["_id"] == f"{payload['batch_id']}-1"


def test_bulk_with_bearer_token_and_gzip(
    client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis
) -> None:
    body = gzip.compress(bulk_body({"index": {}}, {"message": "zipped"}))
    response = client.post(
        "/_bulk",
        data=body,
        headers={**bearer(writer_token), **NDJSON, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["errors"] is False
    assert stored(redis)[0]["lines"][0]["message"] == "zipped"
    receipt = client.get(
        f"/log/batches/{response.headers[BATCH_ID_HEADER]}", headers=bearer(writer_token)
    )
    assert receipt.status_code == 200
    assert receipt.get_json()["status"] == "queued"
    assert receipt.get_json()["counts"]["received"] == 1


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "missing_token"),
        (basic(WRITER[0], "wrong-password-1"), 401, "invalid_token"),
        ({"Authorization": "ApiKey bm9wZTpub3Bl"}, 401, "invalid_token"),
        ({"Authorization": "Bearer not-a-token"}, 401, "invalid_token"),
    ],
)
def test_refused_credentials(
    client: FlaskClient,
    redis: fakeredis.FakeRedis,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    for route in ("/_bulk", "/v1/logs"):
        response = client.post(route, data=b"{}", headers={**headers, **NDJSON})
        assert response.status_code == status
        assert response.get_json()["error"] == code
    assert stored(redis) == []


def test_basic_credentials_are_verified_once_then_end_with_a_password_change(
    client: FlaskClient, redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = bulk_body({"index": {}}, {"message": "m"})
    with client.application.app_context():
        context = current()
    verified: list[str] = []
    real_verify = context.hashing.verify

    def counting_verify(stored_hash: str | None, password: str) -> bool:
        verified.append(password)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(context.hashing, "verify", counting_verify)
    for _ in range(3):
        assert (
            client.post("/_bulk", data=body, headers={**basic(*WRITER), **NDJSON}).status_code
            == 200
        )
    assert len(verified) == 1

    context.users.set_password(WRITER[0], context.hashing.hash("a-new-password-1"))
    refused = client.post("/_bulk", data=body, headers={**basic(*WRITER), **NDJSON})
    assert refused.status_code == 401
    assert len(verified) == 2
    assert (
        client.post(
            "/_bulk", data=body, headers={**basic(WRITER[0], "a-new-password-1"), **NDJSON}
        ).status_code
        == 200
    )

    context.users.delete(WRITER[0])
    gone = client.post(
        "/_bulk", data=body, headers={**basic(WRITER[0], "a-new-password-1"), **NDJSON}
    )
    assert gone.status_code == 401


def test_bulk_bounds_media_type_and_backlog(app_factory: Any, redis: fakeredis.FakeRedis) -> None:
    app = app_factory(LOGAGG_MAX_BODY_BYTES="1KiB", LOGAGG_MAX_BACKLOG="2")
    client = app.test_client()
    auth = basic(*ADMIN)
    too_big = bulk_body({"index": {}}, {"message": "x" * 2000})
    assert client.post("/_bulk", data=too_big, headers={**auth, **NDJSON}).status_code == 413
    bomb = gzip.compress(b"\n" * 60 * 1024 * 1024)
    answer = client.post(
        "/_bulk", data=bomb, headers={**auth, **NDJSON, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 413
    html = client.post("/_bulk", data=b"{}", headers={**auth, "Content-Type": "text/html"})
    assert html.status_code == 415
    assert html.get_json()["error"] == "unsupported_media_type"
    brotli = client.post("/_bulk", data=b"{}", headers={**auth, **NDJSON, "Content-Encoding": "br"})
    assert brotli.status_code == 415
    redis.rpush(queue_key(PARSE), "a", "b")
    full = client.post(
        "/_bulk", data=bulk_body({"index": {}}, {"m": 1}), headers={**auth, **NDJSON}
    )
    assert full.status_code == 429
    assert full.headers["Retry-After"]
    otlp = client.post("/v1/logs", data=b"{}", headers={**auth, "Content-Type": "application/json"})
    assert otlp.status_code == 429
    assert stored(redis) == []


def test_banner_for_elasticsearch_clients_and_harmless_setup_calls(client: FlaskClient) -> None:
    for headers in (
        basic(*WRITER),
        {"User-Agent": "rsyslog-omelasticsearch"},
        {"X-Elastic-Client-Meta": "es=8.17.0"},
        {"Accept": "application/vnd.elasticsearch+json; compatible-with=8"},
    ):
        response = client.get("/", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-Elastic-Product"] == "Elasticsearch"
        banner = response.get_json()
        assert banner["version"]["number"] == "8.17.0"
        assert banner["version"]["build_flavor"] == "default"
        assert banner["tagline"] == "You Know, for Search"
    browser = client.get("/", headers={"User-Agent": "Mozilla/5.0", "Accept": "text/html"})
    assert browser.mimetype == "text/html"
    assert "/docs" in browser.get_data(as_text=True)
    assert "You Know, for Search" not in browser.get_data(as_text=True)
    assert client.head("/", headers=basic(*WRITER)).status_code == 200
    assert client.get("/_license").get_json()["license"]["status"] == "active"
    assert client.get("/_xpack").status_code == 200
    assert client.get("/_cluster/health").get_json()["status"] == "green"
    for route in ("/_index_template/logs", "/_template/logs", "/_ilm/policy/logs"):
        assert client.get(route).status_code == 200
        assert client.put(route, json={"any": "thing"}).get_json() == {"acknowledged": True}


def otlp_request() -> ExportLogsServiceRequest:
    message = ExportLogsServiceRequest()
    resource_logs = message.resource_logs.add()
    attribute = resource_logs.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "pretender"
    record = resource_logs.scope_logs.add().log_records.add()
    record.time_unix_nano = 1_764_842_400_000_000_000
    record.severity_text = "WARN"
    record.body.string_value = "disk almost full"
    bad = resource_logs.scope_logs[0].log_records.add()
    bad.span_id = b"\x01"
    return message


def test_otlp_protobuf_is_stored_and_answered_in_protobuf(
    client: FlaskClient, redis: fakeredis.FakeRedis, writer_token: str
) -> None:
    response = client.post(
        "/v1/logs",
        data=gzip.compress(otlp_request().SerializeToString()),
        headers={
            **bearer(writer_token),
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
        },
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-protobuf"
    answer = ExportLogsServiceResponse()
    answer.ParseFromString(response.data)
    assert answer.partial_success.rejected_log_records == 1
    (payload,) = stored(redis)
    assert payload["request_id"] == response.headers[BATCH_ID_HEADER]
    assert payload["service"] == WRITER[0]
    (line,) = payload["lines"]
    assert line["message"] == "disk almost full"
    assert line["log.level"] == "warn"
    assert line["service.name"] == "pretender"


def test_otlp_json_and_bad_bodies(client: FlaskClient, redis: fakeredis.FakeRedis) -> None:
    auth = basic(*WRITER)
    body = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "hi"}}]}]}]}
    response = client.post("/v1/logs", json=body, headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {}
    token = login(client, *WRITER)["access"]
    receipt = client.get(f"/log/batches/{response.headers[BATCH_ID_HEADER]}", headers=bearer(token))
    assert receipt.status_code == 200
    assert receipt.get_json()["counts"]["received"] == 1
    assert stored(redis)[0]["lines"][0]["message"] == "hi"
    broken = client.post(
        "/v1/logs", data=b"\xff\xff", headers={**auth, "Content-Type": "application/x-protobuf"}
    )
    assert broken.status_code == 400
    assert broken.get_json()["error"] == "invalid_body"
    text = client.post("/v1/logs", data=b"hi", headers={**auth, "Content-Type": "text/plain"})
    assert text.status_code == 415
    assert len(stored(redis)) == 1


@pytest.mark.parametrize("scheme", ["ApiKey", "Bearer"])
def test_an_api_key_writes_through_both_routes_as_its_owner(
    client: FlaskClient, redis: fakeredis.FakeRedis, admin_token: str, scheme: str
) -> None:
    created = client.post("/auth/keys", json={"username": WRITER[0]}, headers=bearer(admin_token))
    assert created.status_code == 201, created.get_json()
    headers = {"Authorization": f"{scheme} {created.get_json()['key']}"}
    body = bulk_body({"index": {}}, {"message": "by key", "service": {"name": "intruder"}})
    assert client.post("/_bulk", data=body, headers={**headers, **NDJSON}).status_code == 200
    export = ExportLogsServiceRequest()
    export.resource_logs.add().scope_logs.add().log_records.add().body.string_value = "otlp"
    answer = client.post(
        "/v1/logs",
        data=export.SerializeToString(),
        headers={**headers, "Content-Type": "application/x-protobuf"},
    )
    assert answer.status_code == 200
    batches = stored(redis)
    assert [batch["service"] for batch in batches] == [WRITER[0], WRITER[0]]
    client.delete(f"/auth/keys/{created.get_json()['api_key']['id']}", headers=bearer(admin_token))
    refused = client.post("/_bulk", data=body, headers={**headers, **NDJSON})
    assert refused.status_code == 401


def otlp_body(records: int) -> bytes:
    export = ExportLogsServiceRequest()
    scope = export.resource_logs.add().scope_logs.add()
    for n in range(records):
        scope.log_records.add().body.string_value = f"record {n}"
    return export.SerializeToString()


PROTOBUF = {"Content-Type": "application/x-protobuf"}


def test_both_routes_keep_the_bounds_of_post_log(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(
        LOGAGG_MAX_LINES_PER_REQUEST="100",
        LOGAGG_MAX_COMPRESSION_RATIO="100",
        LOGAGG_MAX_BACKLOG="5",
        LOGAGG_BATCH_MAX_LINES="10",
    )
    client = app.test_client()
    headers = basic(*WRITER)
    # lines: one record past the bound is 413 on each route, and nothing is stored
    bulk = bulk_body(*[value for _ in range(101) for value in ({"index": {}}, {"message": "m"})])
    refused = client.post("/_bulk", data=bulk, headers={**headers, **NDJSON})
    assert (refused.status_code, refused.get_json()["error"]) == (413, "too_many_lines")
    refused = client.post("/v1/logs", data=otlp_body(101), headers={**headers, **PROTOBUF})
    assert (refused.status_code, refused.get_json()["error"]) == (413, "too_many_lines")
    # compression ratio and gzip members, as for POST /log
    bomb = gzip.compress(b" " * (4 * 1024 * 1024))
    gz = {**headers, **NDJSON, "Content-Encoding": "gzip"}
    refused = client.post("/_bulk", data=bomb, headers=gz)
    assert (refused.status_code, refused.get_json()["error"]) == (413, "compression_ratio")
    members = gzip.compress(b"") * 2000
    assert client.post("/_bulk", data=members, headers=gz).status_code == 400
    assert stored(redis) == []
    # the backlog counts the request's own batches: 3 waiting + 3 would pass 5
    thirty = otlp_body(30)
    assert client.post("/v1/logs", data=thirty, headers={**headers, **PROTOBUF}).status_code == 200
    refused = client.post("/v1/logs", data=thirty, headers={**headers, **PROTOBUF})
    assert (refused.status_code, refused.get_json()["error"]) == (429, "backlog_full")
    bulk = bulk_body(*[value for _ in range(30) for value in ({"index": {}}, {"message": "m"})])
    refused = client.post("/_bulk", data=bulk, headers={**headers, **NDJSON})
    assert refused.status_code == 429
    assert len(stored(redis)) == 3
