"""API keys (created by admins, stored hashed, scoped, revocable) and Basic credentials:
the credentials of shippers, accepted on POST /log."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logagg.ingest.app import create_app
from logagg.ingest.auth.keys import LAST_USED_KEY, Scope, key_id_of
from logagg.ingest.auth.users import Role
from logagg.ingest.auth.verified_passwords import VerifiedPasswords
from logagg.ingest.context import current

from .conftest import ADMIN, WRITER, basic, bearer, login, make_settings
from .test_log_route import stored

ADMIN_NAME = ADMIN[0]
WRITER_NAME = WRITER[0]
KEY_SHAPE = re.compile(r"lgk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


def create_key(client: FlaskClient, admin_token: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/auth/keys", json={"username": WRITER_NAME, **body}, headers=bearer(admin_token)
    )
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def api_key(key: str) -> dict[str, str]:
    return {"Authorization": f"ApiKey {key}"}


def post_lines(client: FlaskClient, headers: dict[str, str], text: str = "one\ntwo\n") -> Any:
    return client.post("/log", data=text, headers={**headers, "Content-Type": "text/plain"})


def every_stored_byte(redis: fakeredis.FakeRedis) -> bytes:
    """Every key and value in the fake Redis, whatever its type, as one byte string."""
    chunks: list[bytes] = []
    for name in redis.keys("*"):
        chunks.append(name)
        kind = redis.type(name)
        if kind == b"string":
            chunks.append(redis.get(name) or b"")
        elif kind == b"hash":
            for field, value in redis.hgetall(name).items():
                chunks += [field, value]
        elif kind == b"list":
            chunks += redis.lrange(name, 0, -1)
        elif kind == b"set":
            chunks += list(redis.smembers(name))
        elif kind == b"zset":
            chunks += [member for member, _ in redis.zrange(name, 0, -1, withscores=True)]
    return b"\n".join(chunks)


def test_created_key_is_shown_once_and_stored_hashed(
    client: FlaskClient, admin_token: str, redis: fakeredis.FakeRedis
) -> None:
    answer = create_key(client, admin_token, name="syslog-ng on web-1")
    key = answer["key"]
    assert KEY_SHAPE.fullmatch(key)
    meta = answer["api_key"]
    assert meta["id"] == key_id_of(key)
    assert meta["username"] == WRITER_NAME
    assert meta["name"] == "syslog-ng on web-1"
    assert meta["scopes"] == ["ingest"]
    assert meta["created_by"] == ADMIN_NAME
    assert meta["expires_at"] is None
    assert meta["last_used"] is None

    listed = client.get("/auth/keys", headers=bearer(admin_token))
    assert listed.status_code == 200
    assert listed.get_json()["keys"] == [meta]
    assert key not in listed.get_data(as_text=True)
    secret = key.split("_", 2)[2]
    assert secret.encode() not in every_stored_byte(redis)


def test_key_posts_logs_as_its_owner_with_either_scheme(
    client: FlaskClient, admin_token: str, redis: fakeredis.FakeRedis
) -> None:
    key = create_key(client, admin_token)["key"]
    for headers in (api_key(key), bearer(key), {"Authorization": f"apikey  {key} "}):
        response = client.post(
            "/log",
            data='{"service": {"name": "someone-else"}, "message": "hi"}\n',
            headers={**headers, "Content-Type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.get_json()
    payloads = stored(redis)
    assert len(payloads) == 3
    assert {payload["service"] for payload in payloads} == {WRITER_NAME}


def test_every_bad_key_answers_like_a_wrong_token(
    client: FlaskClient, admin_token: str, app: Flask
) -> None:
    key = create_key(client, admin_token)["key"]
    key_id = key_id_of(key)
    other = create_key(client, admin_token)["key"]
    assert (
        client.delete(f"/auth/keys/{key_id_of(other)}", headers=bearer(admin_token)).status_code
        == 200
    )
    with app.app_context():
        expired, _ = current().keys.create(
            username=WRITER_NAME,
            owner_since=redis_created_at(app, WRITER_NAME),
            name="",
            scopes=frozenset({Scope.INGEST}),
            expires_at=time.time() - 1,
            created_by=ADMIN_NAME,
        )
    wrong_token = post_lines(client, bearer(admin_token[:-4] + "AAAA"))
    garbage_token = post_lines(client, bearer("not.a.jwt"))
    assert wrong_token.status_code == garbage_token.status_code == 401
    assert wrong_token.get_json() == garbage_token.get_json()
    wrong_body = wrong_token.get_json()
    bad_keys = {
        "malformed": "lgk_short",
        "malformed, ApiKey scheme": "not-a-key",
        "unknown id": f"lgk_{'0' * 16}_{key.split('_', 2)[2]}",
        "wrong secret": f"lgk_{key_id}_{'A' * 43}",
        "revoked": other,
        "expired": expired,
    }
    for what, bad in bad_keys.items():
        for headers in (api_key(bad), bearer(bad)):
            if what == "malformed, ApiKey scheme" and headers["Authorization"].startswith("Bearer"):
                continue  # a Bearer value without the prefix is a token, covered above
            response = post_lines(client, headers)
            assert response.status_code == 401, what
            assert response.get_json() == wrong_body, what
            assert response.headers["WWW-Authenticate"] == wrong_token.headers["WWW-Authenticate"]
    assert post_lines(client, api_key(key)).status_code == 200


def redis_created_at(app: Flask, username: str) -> str:
    with app.app_context():
        value = current().redis.hget(f"logagg:user:{username.lower()}", "created_at")
    assert isinstance(value, bytes)
    return value.decode()


def test_revoking_or_deleting_the_owner_stops_the_key_at_once(
    client: FlaskClient, admin_token: str
) -> None:
    key = create_key(client, admin_token)["key"]
    assert post_lines(client, api_key(key)).status_code == 200
    assert (
        client.delete(f"/auth/keys/{key_id_of(key)}", headers=bearer(admin_token)).status_code
        == 200
    )
    assert post_lines(client, api_key(key)).status_code == 401
    assert (
        client.delete(f"/auth/keys/{key_id_of(key)}", headers=bearer(admin_token)).status_code
        == 404
    )

    key = create_key(client, admin_token)["key"]
    assert post_lines(client, api_key(key)).status_code == 200
    deleted = client.delete(
        "/auth/user", json={"username": WRITER_NAME}, headers=bearer(admin_token)
    )
    assert deleted.status_code == 200
    assert post_lines(client, api_key(key)).status_code == 401
    # Registered again, the name is another user: the old key does not come back to life.
    again = client.post(
        "/auth/register",
        json={"username": WRITER_NAME, "password": "another-password-1"},
        headers=bearer(admin_token),
    )
    assert again.status_code == 201
    assert post_lines(client, api_key(key)).status_code == 401


def test_a_new_password_leaves_keys_working(client: FlaskClient, admin_token: str) -> None:
    key = create_key(client, admin_token)["key"]
    token = login(client, *WRITER)["access"]
    changed = client.put(
        "/auth/user/password",
        json={"username": WRITER_NAME, "password": "a-new-password-1"},
        headers=bearer(admin_token),
    )
    assert changed.status_code == 200
    assert post_lines(client, bearer(token)).status_code == 401
    assert post_lines(client, api_key(key)).status_code == 200


ADMIN_ROUTES = (
    ("POST", "/auth/register", {"username": "newcomer", "password": "newcomer-password"}),
    ("POST", "/auth/keys", {"username": WRITER_NAME}),
    ("GET", "/auth/keys", None),
    ("GET", "/auth/users", None),
    ("DELETE", "/auth/user", {"username": WRITER_NAME}),
)


def test_an_admins_ingest_key_cannot_call_admin_routes(
    client: FlaskClient, admin_token: str
) -> None:
    key = create_key(client, admin_token, username=ADMIN_NAME)["key"]
    assert post_lines(client, api_key(key)).status_code == 200
    for method, path, body in ADMIN_ROUTES:
        response = client.open(path, method=method, json=body, headers=api_key(key))
        assert response.status_code == 403, (method, path)
        assert response.get_json()["error"] == "forbidden"
    # Nor change a password: that route takes tokens only.
    response = client.put(
        "/auth/user/password", json={"password": "changed-by-a-key"}, headers=api_key(key)
    )
    assert response.status_code == 403
    assert client.get("/auth/users", headers=bearer(admin_token)).get_json()["users"] == [
        {"username": ADMIN_NAME, "role": "admin"},
        {"username": WRITER_NAME, "role": "writer"},
    ]


def test_an_admin_scoped_key_of_an_admin_calls_admin_routes(
    client: FlaskClient, admin_token: str
) -> None:
    key = create_key(client, admin_token, username=ADMIN_NAME, scopes=["admin"])["key"]
    assert client.get("/auth/users", headers=api_key(key)).status_code == 200
    created = client.post(
        "/auth/register",
        json={"username": "newcomer", "password": "newcomer-password"},
        headers=api_key(key),
    )
    assert created.status_code == 201
    made = client.post("/auth/keys", json={"username": "newcomer"}, headers=api_key(key))
    assert made.status_code == 201
    assert made.get_json()["api_key"]["created_by"] == ADMIN_NAME
    # Without the ingest scope it may not post logs.
    assert post_lines(client, api_key(key)).status_code == 403


def test_admin_scope_is_for_admins_keys_only(client: FlaskClient, admin_token: str) -> None:
    response = client.post(
        "/auth/keys",
        json={"username": WRITER_NAME, "scopes": ["admin"]},
        headers=bearer(admin_token),
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_key_request"


def test_writers_cannot_manage_keys(
    client: FlaskClient, admin_token: str, writer_token: str
) -> None:
    key = create_key(client, admin_token)["key"]
    for method, path, body in (
        ("POST", "/auth/keys", {"username": WRITER_NAME}),
        ("GET", "/auth/keys", None),
        ("DELETE", f"/auth/keys/{key_id_of(key)}", None),
    ):
        response = client.open(path, method=method, json=body, headers=bearer(writer_token))
        assert response.status_code == 403, (method, path)
    assert post_lines(client, api_key(key)).status_code == 200


def test_an_admins_ingest_key_reads_only_its_own_receipts(
    client: FlaskClient, admin_token: str
) -> None:
    writer_key = create_key(client, admin_token)["key"]
    admin_key = create_key(client, admin_token, username=ADMIN_NAME)["key"]
    theirs = post_lines(client, api_key(writer_key)).get_json()["batch_id"]
    mine = post_lines(client, api_key(admin_key)).get_json()["batch_id"]
    assert client.get(f"/log/batches/{mine}", headers=api_key(admin_key)).status_code == 200
    assert client.get(f"/log/batches/{theirs}", headers=api_key(writer_key)).status_code == 200
    assert client.get(f"/log/batches/{theirs}", headers=api_key(admin_key)).status_code == 404
    assert client.get(f"/log/batches/{theirs}", headers=bearer(admin_token)).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "nobody-here"}, 404),
        ({"username": "apikeys:x"}, 404),
        ({"username": ""}, 400),
        ({}, 400),
        ({"username": WRITER_NAME, "scopes": ["everything"]}, 400),
        ({"username": WRITER_NAME, "scopes": []}, 400),
        ({"username": WRITER_NAME, "scopes": "ingest"}, 400),
        ({"username": WRITER_NAME, "expires_in": "soon"}, 400),
        ({"username": WRITER_NAME, "expires_in": -5}, 400),
        ({"username": WRITER_NAME, "expires_in": True}, 400),
        ({"username": WRITER_NAME, "expires_at": "2001-01-01T00:00:00Z"}, 400),
        ({"username": WRITER_NAME, "expires_at": "tomorrow"}, 400),
        ({"username": WRITER_NAME, "expires_in": "1d", "expires_at": "2999-01-01T00:00:00Z"}, 400),
        ({"username": WRITER_NAME, "name": "x" * 129}, 400),
    ],
)
def test_bad_key_requests_are_refused(
    client: FlaskClient, admin_token: str, body: dict[str, Any], status: int
) -> None:
    response = client.post("/auth/keys", json=body, headers=bearer(admin_token))
    assert response.status_code == status, response.get_json()
    assert set(response.get_json()) == {"error", "message"}


def test_expiry_is_kept_and_shown(client: FlaskClient, admin_token: str) -> None:
    before = time.time()
    meta = create_key(client, admin_token, expires_in="90d")["api_key"]
    assert meta["expires_at"] is not None
    expires = datetime.fromisoformat(meta["expires_at"].replace("Z", "+00:00")).timestamp()
    assert before + 90 * 86400 - 1 <= expires <= time.time() + 90 * 86400 + 1
    at = create_key(client, admin_token, expires_at="2999-01-01T00:00:00Z")["api_key"]
    assert at["expires_at"] == "2999-01-01T00:00:00.000Z"


def test_unknown_key_id_to_revoke_is_404(client: FlaskClient, admin_token: str) -> None:
    for key_id in ("0123456789abcdef", "not-an-id"):
        response = client.delete(f"/auth/keys/{key_id}", headers=bearer(admin_token))
        assert response.status_code == 404
        assert response.get_json()["error"] == "key_not_found"


def test_list_filters_by_username(client: FlaskClient, admin_token: str) -> None:
    create_key(client, admin_token)
    mine = create_key(client, admin_token, username=ADMIN_NAME)["api_key"]
    response = client.get("/auth/keys?username=ADMIN", headers=bearer(admin_token))
    assert response.get_json()["keys"] == [mine]


def test_last_use_is_written_once_a_minute(
    client: FlaskClient, admin_token: str, redis: fakeredis.FakeRedis
) -> None:
    key = create_key(client, admin_token)["key"]
    key_id = key_id_of(key)
    assert redis.zscore(LAST_USED_KEY, key_id) is None
    assert post_lines(client, api_key(key)).status_code == 200
    first = redis.zscore(LAST_USED_KEY, key_id)
    assert first is not None
    # A value far in the past, as if written long ago: the next use within the minute
    # leaves it alone, because this process wrote it less than a minute ago.
    redis.zadd(LAST_USED_KEY, {key_id: 1000.0})
    assert post_lines(client, api_key(key)).status_code == 200
    assert redis.zscore(LAST_USED_KEY, key_id) == 1000.0
    (listed,) = client.get("/auth/keys", headers=bearer(admin_token)).get_json()["keys"]
    assert listed["last_used"] == "1970-01-01T00:16:40.000Z"


def test_keys_never_reach_the_logs(
    client: FlaskClient,
    admin_token: str,
    fake_server: fakeredis.FakeServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = create_key(client, admin_token)["key"]
    post_lines(client, api_key(key))
    post_lines(client, bearer(key))
    post_lines(client, api_key(key[:-1] + "x"))
    # A request that fails while the key is checked: its error is logged.
    fake_server.connected = False
    assert post_lines(client, api_key(key)).status_code == 503
    fake_server.connected = True
    client.delete(f"/auth/keys/{key_id_of(key)}", headers=bearer(admin_token))
    post_lines(client, api_key(key))
    secret = key.split("_", 2)[2]
    assert any("redis unavailable" in record.getMessage() for record in caplog.records)
    assert secret not in caplog.text
    assert secret[:-1] not in caplog.text


def test_api_key_secret_setting_changes_the_digest(
    app_factory: Any, redis: fakeredis.FakeRedis
) -> None:
    plain = app_factory()
    keyed = app_factory(LOGAGG_API_KEY_SECRET="k" * 40)
    with plain.test_client() as first, keyed.test_client() as second:
        token = login(first, *ADMIN)["access"]
        key = create_key(first, token)["key"]
        assert post_lines(first, api_key(key)).status_code == 200
        # Another hashing key does not match the stored digest.
        assert post_lines(second, api_key(key)).status_code == 401


def test_openapi_documents_the_api_key_scheme(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    for path, method in (("/log", "post"), ("/log/batches/{batch_id}", "get")):
        security = document["paths"][path][method]["security"]
        assert security == [{"bearer": []}, {"apiKey": []}, {"basic": []}]
    assert {"apiKey": []} in document["paths"]["/auth/keys"]["post"]["security"]
    assert {"apiKey": []} not in document["paths"]["/auth/user/password"]["put"]["security"]


def test_basic_credentials_post_logs_and_argon2_runs_once(
    client: FlaskClient,
    app: Flask,
    admin_token: str,
    redis: fakeredis.FakeRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with app.app_context():
        hashing = current().hashing
    verify = hashing.verify
    calls: list[str] = []

    def counted(stored_hash: str | None, password: str) -> bool:
        calls.append(password)
        return verify(stored_hash, password)

    monkeypatch.setattr(hashing, "verify", counted)
    for _ in range(3):
        assert post_lines(client, basic(*WRITER)).status_code == 200
    assert len(calls) == 1
    assert {payload["service"] for payload in stored(redis)} == {WRITER_NAME}

    # A new password: the remembered one no longer matches the stored hash.
    changed = client.put(
        "/auth/user/password",
        json={"username": WRITER_NAME, "password": "a-new-password-1"},
        headers=bearer(admin_token),
    )
    assert changed.status_code == 200
    assert post_lines(client, basic(*WRITER)).status_code == 401
    assert post_lines(client, basic(WRITER_NAME, "a-new-password-1")).status_code == 200


def test_bad_basic_credentials_answer_like_a_wrong_token_and_are_throttled(
    app_factory: Any,
) -> None:
    app = app_factory(LOGAGG_LOGIN_MAX_FAILURES_PER_USER="3")
    with app.test_client() as client:
        wrong_token = post_lines(client, bearer("not.a.jwt")).get_json()
        for headers in (
            basic(WRITER_NAME, "wrong-password-1"),
            basic("nobody-at-all", "whatever-password"),
            basic("bad name!", "whatever-password"),
            {"Authorization": "Basic not-base64!"},
        ):
            response = post_lines(client, headers)
            assert response.status_code == 401
            assert response.get_json() == wrong_token
        post_lines(client, basic(WRITER_NAME, "wrong-password-2"))
        post_lines(client, basic(WRITER_NAME, "wrong-password-3"))
        throttled = post_lines(client, basic(*WRITER))
        assert throttled.status_code == 429
        assert "Retry-After" in throttled.headers


def test_basic_credentials_do_not_reach_admin_routes(client: FlaskClient) -> None:
    for method, path, body in ADMIN_ROUTES:
        response = client.open(path, method=method, json=body, headers=basic(*ADMIN))
        assert response.status_code == 403, (method, path)
    assert post_lines(client, basic(*ADMIN)).status_code == 200


def test_verified_passwords_expire_and_follow_the_hash() -> None:
    now = [1000.0]
    remembered = VerifiedPasswords(ttl=300, size=2, clock=lambda: now[0])
    remembered.remember("Alice", "secret-password", "hash-1")
    assert remembered.remembered("alice", "secret-password", "hash-1")
    assert not remembered.remembered("alice", "other-password", "hash-1")
    assert not remembered.remembered("alice", "secret-password", "hash-2")
    now[0] += 301
    assert not remembered.remembered("alice", "secret-password", "hash-1")
    remembered.remember("bob", "p1", "h")
    remembered.remember("carol", "p2", "h")
    remembered.remember("dave", "p3", "h")
    assert not remembered.remembered("bob", "p1", "h")  # the oldest went first
    assert remembered.remembered("dave", "p3", "h")


KEY_LIKE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@pytest.fixture(scope="module")
def keyed_client() -> Iterator[FlaskClient]:
    server = fakeredis.FakeServer()
    app = create_app(make_settings(), redis=fakeredis.FakeRedis(server=server))
    with app.app_context():
        context = current()
        context.users.create(WRITER_NAME, context.hashing.hash(WRITER[1]), Role.WRITER)
    with app.test_client() as test_client:
        yield test_client


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/log", "/auth/keys", "/auth/keys/0123456789abcdef", "/log/batches/x"]),
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    authorization=KEY_LIKE.map(lambda t: "ApiKey " + t)
    | KEY_LIKE.map(lambda t: "Bearer lgk_" + t)
    | st.from_regex(r"lgk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", fullmatch=True).map(
        lambda k: "ApiKey " + k
    )
    | KEY_LIKE.map(lambda t: "Basic " + t),
)
def test_any_key_like_header_is_refused_without_a_500(
    keyed_client: FlaskClient, path: str, method: str, authorization: str
) -> None:
    response = keyed_client.open(
        path, method=method, data=b"line", headers={"Authorization": authorization}
    )
    assert response.status_code in (401, 403, 405), response.get_data()
    assert response.is_json
