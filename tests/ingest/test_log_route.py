"""POST /log: what is stored, what is refused, and with which answer."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis.exceptions import ConnectionError as RedisConnectionError

from logagg.queues import ALL_QUEUES, PARSE, PARSE_JOB, SHIP_ES, job_queue, queue_key, scheduled_key

from .conftest import WRITER, bearer, login


def stored(redis: fakeredis.FakeRedis) -> list[dict[str, Any]]:
    """The payloads of the parse jobs waiting in Redis, in queue order."""
    queue = job_queue(PARSE, redis)
    return [job.args[0] for job in queue.get_jobs()]


def post(client: FlaskClient, token: str, data: bytes | str, **headers: str) -> Any:
    return client.post(
        "/log",
        data=data,
        headers={**bearer(token), **{k.replace("_", "-"): v for k, v in headers.items()}},
    )


def test_text_body_is_stored_as_one_batch(
    client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis
) -> None:
    response = post(
        client, writer_token, b"first line\r\nsecond line\n\nthird\n", Content_Type="text/plain"
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["accepted"] == 3
    assert answer["status"] == "queued"
    assert answer["truncated"] == 0
    assert answer["batches"] == [answer["batch_id"] + "-0"]
    (payload,) = stored(redis)
    assert payload["lines"] == ["first line", "second line", "third"]
    assert payload["batch_id"] == answer["batches"][0]
    assert payload["request_id"] == answer["batch_id"]
    assert payload["service"] == "service-a"
    assert payload["source_ip"] == "127.0.0.1"
    assert payload["content_kind"] == "text"
    assert payload["received_at"].endswith("Z")
    assert len(payload["received_at"]) == len("2026-11-28T00:52:52.123Z")
    job = job_queue(PARSE, redis).fetch_job(PARSE_JOB.job_id(payload["batch_id"]))
    assert job is not None
    assert job.func_name == PARSE_JOB.func
    assert job.timeout == PARSE_JOB.timeout
    assert job.retries_left == len(PARSE_JOB.retry_intervals)


def test_json_content_type_with_text_body_is_accepted_as_text(
    client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis
) -> None:
    body = "2026-11-28 00:00:00 INFO one\n2026-11-28 00:00:01 WARN two - with hyphens\n"
    response = post(client, writer_token, body, Content_Type="application/json")
    assert response.status_code == 200
    (payload,) = stored(redis)
    assert payload["content_kind"] == "text"
    assert payload["lines"][1] == "2026-11-28 00:00:01 WARN two - with hyphens"


def test_structured_json_and_ndjson_keep_objects(
    client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis
) -> None:
    post(client, writer_token, json.dumps([{"msg": "a"}, "b"]), Content_Type="application/json")
    post(client, writer_token, '{"msg": "c"}\n"d"\n', Content_Type="application/x-ndjson")
    first, second = stored(redis)
    assert (first["content_kind"], first["lines"]) == ("json", [{"msg": "a"}, "b"])
    assert (second["content_kind"], second["lines"]) == ("ndjson", [{"msg": "c"}, "d"])


def test_body_claiming_another_service_does_not_change_identity(
    client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis
) -> None:
    body = json.dumps({"lines": [{"service": {"name": "admin"}, "msg": "x"}], "service": "admin"})
    post(client, writer_token, body, Content_Type="application/json")
    (payload,) = stored(redis)
    assert payload["service"] == "service-a"


def test_gzip_body(client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis) -> None:
    response = post(
        client, writer_token, gzip.compress(b"zipped\nlines\n"), Content_Encoding="gzip"
    )
    assert response.status_code == 200
    assert stored(redis)[0]["lines"] == ["zipped", "lines"]


def test_large_body_is_cut_into_batches_stored_together(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_BATCH_MAX_LINES="100")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    body = "\n".join(f"line {i}" for i in range(250))
    answer = post(client, token, body).get_json()
    assert answer["accepted"] == 250
    assert answer["batches"] == [f"{answer['batch_id']}-{n}" for n in range(3)]
    payloads = stored(redis)
    assert [len(p["lines"]) for p in payloads] == [100, 100, 50]
    assert payloads[2]["lines"][-1] == "line 249"


def test_long_line_and_bad_utf8_are_marked(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_MAX_LINE_BYTES="100")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    response = post(client, token, b"ok\n" + b"L" * 500 + b"\nbad \xff byte\n")
    assert response.status_code == 200
    assert response.get_json()["truncated"] == 1
    (payload,) = stored(redis)
    assert payload["lines"][1] == "L" * 100
    assert payload["truncated"] == [1]
    assert payload["invalid_utf8"] == [2]


def test_forwarded_for_only_from_trusted_proxies(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_TRUSTED_PROXIES="10.0.0.0/8")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    headers = {**bearer(token), "X-Forwarded-For": "198.51.100.4"}
    client.post("/log", data="a", headers=headers, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    client.post("/log", data="b", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.8"})
    first, second = stored(redis)
    assert first["source_ip"] == "198.51.100.4"
    assert second["source_ip"] == "192.0.2.8"


def test_empty_body_accepts_nothing(
    client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis
) -> None:
    response = post(client, writer_token, b"\n\n")
    assert response.status_code == 200
    assert response.get_json()["accepted"] == 0
    assert response.get_json()["batches"] == []
    assert stored(redis) == []


def test_backlog_past_the_bound_is_429_and_stores_nothing(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_MAX_BACKLOG="3", LOGAGG_BACKLOG_RETRY_AFTER="7")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    for n in range(2):
        assert post(client, token, f"line {n}").status_code == 200
    # Jobs waiting in any stage count, not only the parse queue.
    redis.rpush(queue_key(ALL_QUEUES[-1]), "some-shipping-job")
    refused = post(client, token, "one too many")
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "backlog_full"
    assert refused.headers["Retry-After"] == "7"
    assert len(stored(redis)) == 2


def test_jobs_waiting_for_a_retry_count_in_the_backlog(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    # A sink that is down sends its jobs to RQ's scheduled registry, out of the queue.
    app = app_factory(LOGAGG_MAX_BACKLOG="2")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    redis.zadd(scheduled_key(SHIP_ES), {"ship-es-a": 1.0, "ship-es-b": 2.0})
    refused = post(client, token, "held back")
    assert refused.status_code == 429
    assert stored(redis) == []
    redis.zrem(scheduled_key(SHIP_ES), "ship-es-a")
    assert post(client, token, "let in").status_code == 200


def test_redis_down_is_503_never_200(
    client: FlaskClient, writer_token: str, fake_server: fakeredis.FakeServer
) -> None:
    fake_server.connected = False
    response = post(client, writer_token, "lost?")
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    assert "Retry-After" in response.headers
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_failed_enqueue_stores_no_batch_of_the_request(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_factory(LOGAGG_BATCH_MAX_LINES="1")
    client = app.test_client()
    token = login(client, *WRITER)["access"]

    pipeline_class = type(redis.pipeline())
    real_execute = pipeline_class.execute
    transactions: list[int] = []

    def fail_transactions(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Lookups run in plain pipelines; only the enqueue transaction is cut off.
        if self.transaction:
            transactions.append(len(self.command_stack))
            raise RedisConnectionError("connection lost during EXEC")
        return real_execute(self, *args, **kwargs)

    monkeypatch.setattr(pipeline_class, "execute", fail_transactions)
    response = post(client, token, "a\nb\nc")
    monkeypatch.undo()
    # All three batches were in the one transaction that failed, and nothing reached Redis.
    assert len(transactions) == 1
    assert transactions[0] > 3
    assert response.status_code == 503
    assert stored(redis) == []


def test_writer_and_admin_may_post(
    client: FlaskClient, writer_token: str, admin_token: str
) -> None:
    assert post(client, writer_token, "w").status_code == 200
    assert post(client, admin_token, "a").status_code == 200


@pytest.mark.parametrize(
    ("env", "data", "headers", "status", "error"),
    [
        ({"LOGAGG_MAX_BODY_BYTES": "2KiB"}, b"x" * 5000, {}, 413, "payload_too_large"),
        (
            {"LOGAGG_MAX_BODY_BYTES": "64KiB", "LOGAGG_MAX_DECOMPRESSED_BYTES": "64KiB"},
            gzip.compress(b"a" * 10_000_000),
            {"Content-Encoding": "gzip"},
            413,
            "payload_too_large",
        ),
        ({}, b"not gzip", {"Content-Encoding": "gzip"}, 400, "bad_encoding"),
        ({}, b"x", {"Content-Encoding": "br"}, 415, "unsupported_encoding"),
        ({}, b"x", {"Content-Type": "image/png"}, 415, "unsupported_media_type"),
        ({}, b"[1, 2, 3]", {"Content-Type": "application/json"}, 400, "invalid_body"),
        ({}, b'{"no": "lines"}', {"Content-Type": "application/json"}, 400, "invalid_body"),
    ],
)
def test_bad_bodies_get_their_status_and_json_error(
    app_factory: Callable[..., Flask],
    redis: fakeredis.FakeRedis,
    env: dict[str, str],
    data: bytes,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    app = app_factory(**env)
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    response = client.post("/log", data=data, headers={**bearer(token), **headers})
    assert response.status_code == status
    assert response.get_json()["error"] == error
    assert response.get_json()["message"]
    assert stored(redis) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("get", "/nowhere", 404, "not_found"),
        ("get", "/log", 405, "method_not_allowed"),
        ("delete", "/auth/login", 405, "method_not_allowed"),
    ],
)
def test_routing_errors_are_json(
    client: FlaskClient, method: str, path: str, status: int, error: str
) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"] == error


def test_post_without_token_is_401(client: FlaskClient) -> None:
    response = client.post("/log", data="x")
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_token"


def test_lines_past_the_request_bound_are_413_and_store_nothing(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_MAX_LINES_PER_REQUEST="1000")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    refused = post(client, token, gzip.compress(b"ab\n" * 1001), Content_Encoding="gzip")
    assert refused.status_code == 413
    assert refused.get_json()["error"] == "too_many_lines"
    assert stored(redis) == []
    assert post(client, token, b"ab\n" * 1000).get_json()["accepted"] == 1000


def test_compression_ratio_past_the_bound_is_413(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_MAX_COMPRESSION_RATIO="100")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    bomb = gzip.compress(b"ab\n" * (4 * 1024 * 1024))
    refused = post(client, token, bomb, Content_Encoding="gzip")
    assert refused.status_code == 413
    assert refused.get_json()["error"] == "compression_ratio"
    assert stored(redis) == []


def test_backlog_counts_the_requests_own_batches(
    app_factory: Callable[..., Flask], redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_MAX_BACKLOG="5", LOGAGG_BATCH_MAX_LINES="10")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    assert len(post(client, token, b"x\n" * 30).get_json()["batches"]) == 3
    # 3 waiting + 3 of this request would pass 5: nothing of it is stored.
    refused = post(client, token, b"y\n" * 30)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "backlog_full"
    assert len(stored(redis)) == 3
    assert len(post(client, token, b"z\n" * 20).get_json()["batches"]) == 2
    assert len(stored(redis)) == 5
