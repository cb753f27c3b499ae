"""``GET /log/batches/<batch_id>``: the receipt of a posted request, for its sender or an
admin only."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
import redis.exceptions as redis_errors
from flask import Flask
from flask.testing import FlaskClient

from logagg.ingest.auth.users import Role
from logagg.ingest.context import current
from logagg.receipts import batch_key, record_shipped, request_key

from .conftest import bearer, login
from .test_openapi import _check, document

OTHER = ("service-b", "writer-password-2")


@pytest.fixture
def other_token(app: Flask, client: FlaskClient) -> str:
    with app.app_context():
        context = current()
        context.users.create(OTHER[0], context.hashing.hash(OTHER[1]), Role.WRITER)
    return str(login(client, *OTHER)["access"])


def post(client: FlaskClient, token: str, body: str) -> dict[str, Any]:
    response = client.post("/log", data=body, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def test_the_sender_reads_its_request_and_its_batch(
    client: FlaskClient, writer_token: str, redis: fakeredis.FakeRedis
) -> None:
    posted = post(client, writer_token, "one\ntwo\nthree")
    response = client.get(f"/log/batches/{posted['batch_id']}", headers=bearer(writer_token))
    assert response.status_code == 200
    found = response.get_json()
    assert found["batch_id"] == posted["batch_id"]
    assert found["service"] == "service-a"
    assert found["status"] == "queued"
    assert found["stages"] == {"queued": True, "parsed": False, "indexed": False, "archived": False}
    assert found["counts"]["received"] == 3
    assert [b["batch_id"] for b in found["batches"]] == posted["batches"]
    _check(document(client), "/log/batches/{batch_id}", "get", 200, found)

    (batch_id,) = posted["batches"]
    record_shipped(redis, "archive", batch_id, 3, {}, 60)
    response = client.get(f"/log/batches/{batch_id}", headers=bearer(writer_token))
    assert response.status_code == 200
    one = response.get_json()
    assert one["batch_id"] == batch_id
    assert one["counts"]["archived"] == 3
    assert one["status"] == "archived"
    assert "batches" not in one
    _check(document(client), "/log/batches/{batch_id}", "get", 200, one)


def test_the_receipt_is_stored_with_the_batches_and_expires(
    app_factory: Any, redis: fakeredis.FakeRedis
) -> None:
    app = app_factory(LOGAGG_RECEIPT_TTL="2h")
    with app.test_client() as client:
        token = str(login(client, "service-a", "writer-password-1")["access"])
        posted = post(client, token, "a\nb")
    (batch_id,) = posted["batches"]
    assert redis.hget(batch_key(batch_id), "received") == b"2"
    assert redis.hget(batch_key(batch_id), "service") == b"service-a"
    assert 3600 < redis.ttl(batch_key(batch_id)) <= 7200
    assert redis.lrange(request_key(posted["batch_id"]), 0, -1) == [batch_id.encode()]


def test_many_batches_of_one_request(app_factory: Any) -> None:
    app = app_factory(LOGAGG_BATCH_MAX_LINES="2")
    with app.test_client() as client:
        token = str(login(client, "service-a", "writer-password-1")["access"])
        posted = post(client, token, "1\n2\n3\n4\n5")
        assert len(posted["batches"]) == 3
        found = client.get(f"/log/batches/{posted['batch_id']}", headers=bearer(token))
    assert found.status_code == 200
    assert found.get_json()["counts"]["received"] == 5
    assert [b["batch_id"] for b in found.get_json()["batches"]] == posted["batches"]


def test_an_admin_reads_any_service_s_receipt(
    client: FlaskClient, writer_token: str, admin_token: str
) -> None:
    posted = post(client, writer_token, "one")
    response = client.get(f"/log/batches/{posted['batch_id']}", headers=bearer(admin_token))
    assert response.status_code == 200
    assert response.get_json()["service"] == "service-a"


def test_another_writer_gets_404_as_if_it_did_not_exist(
    client: FlaskClient, writer_token: str, other_token: str
) -> None:
    posted = post(client, writer_token, "one")
    for receipt_id in (posted["batch_id"], posted["batches"][0]):
        response = client.get(f"/log/batches/{receipt_id}", headers=bearer(other_token))
        assert response.status_code == 404
        body = response.get_json()
        assert body["error"] == "not_found"
        unknown = client.get("/log/batches/unknown-0", headers=bearer(other_token)).get_json()
        assert body["message"].replace(receipt_id, "X") == unknown["message"].replace(
            "unknown-0", "X"
        )


def test_an_unknown_batch_is_404(client: FlaskClient, admin_token: str) -> None:
    for receipt_id in ("0000000000000000", "x" * 500):
        response = client.get(f"/log/batches/{receipt_id}", headers=bearer(admin_token))
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
        _check(document(client), "/log/batches/{batch_id}", "get", 404, response.get_json())


def test_no_token_is_401(client: FlaskClient, writer_token: str) -> None:
    posted = post(client, writer_token, "one")
    response = client.get(f"/log/batches/{posted['batch_id']}")
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_token"
    bad = client.get(f"/log/batches/{posted['batch_id']}", headers=bearer("not-a-token"))
    assert bad.status_code == 401


def test_a_failed_store_leaves_no_receipt(
    client: FlaskClient,
    writer_token: str,
    redis: fakeredis.FakeRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline_class = type(redis.pipeline())
    real_execute = pipeline_class.execute
    stored_with: list[list[Any]] = []

    def fail_transactions(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.transaction:
            stored_with.append([command[0][0] for command in self.command_stack])
            raise redis_errors.ConnectionError("connection lost during EXEC")
        return real_execute(self, *args, **kwargs)

    monkeypatch.setattr(pipeline_class, "execute", fail_transactions)
    response = client.post("/log", data="one", headers=bearer(writer_token))
    monkeypatch.undo()
    assert response.status_code == 503
    # the receipt was in the enqueue's transaction, and went with it
    (commands,) = stored_with
    assert "HSET" in commands
    assert redis.keys("logagg:receipt:*") == []
