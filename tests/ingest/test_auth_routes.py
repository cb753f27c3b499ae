"""Login, refresh and user management over HTTP."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from .conftest import ADMIN, WRITER, basic, bearer, login


def test_basic_login_answers_the_original_shape(client: FlaskClient) -> None:
    response = client.get("/auth/login", headers=basic(*WRITER))
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "Logged in"
    assert set(body["token"]) == {"access", "refresh"}


def test_json_login_and_case_insensitive_username(client: FlaskClient) -> None:
    response = client.post(
        "/auth/login", json={"username": WRITER[0].upper(), "password": WRITER[1]}
    )
    assert response.status_code == 200
    token = response.get_json()["token"]["access"]
    assert client.post("/log", data="x", headers=bearer(token)).status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_answer(client: FlaskClient) -> None:
    unknown = client.get("/auth/login", headers=basic("nobody", "whatever-password"))
    wrong = client.get("/auth/login", headers=basic(WRITER[0], "wrong-password-1"))
    invalid_name = client.get("/auth/login", headers=basic("bad name!", "whatever-password"))
    assert unknown.status_code == wrong.status_code == invalid_name.status_code == 401
    assert unknown.get_json() == wrong.get_json() == invalid_name.get_json()


def test_login_without_credentials(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_credentials"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert client.post("/auth/login", data="nope").status_code == 400


def test_guessing_a_name_from_one_address_is_throttled(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(LOGAGG_LOGIN_MAX_FAILURES_PER_USER="3")
    client = app.test_client()
    guesser = {"REMOTE_ADDR": "192.0.2.7"}
    for attempt in range(3):
        answer = client.get(
            "/auth/login", headers=basic(WRITER[0], f"guess-{attempt}-xxxxx"), environ_base=guesser
        )
        assert answer.status_code == 401
    refused = client.get("/auth/login", headers=basic(*WRITER), environ_base=guesser)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_attempts"
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    # The owner from an address without failures, and another user, are not affected.
    assert client.get("/auth/login", headers=basic(*WRITER)).status_code == 200
    assert client.get("/auth/login", headers=basic(*ADMIN), environ_base=guesser).status_code == 200


def test_failures_from_many_addresses_do_not_lock_the_owner_out(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory(LOGAGG_LOGIN_MAX_FAILURES_PER_USER="3")
    client = app.test_client()
    for attempt in range(40):
        answer = client.get(
            "/auth/login",
            headers=basic(WRITER[0], f"guess-{attempt}-xxxxx"),
            environ_base={"REMOTE_ADDR": f"198.51.100.{attempt}"},
        )
        assert answer.status_code == 401
    assert client.get("/auth/login", headers=basic(*WRITER)).status_code == 200
    # An address that has failed for the name waits out the name's backoff instead.
    again = client.get(
        "/auth/login",
        headers=basic(WRITER[0], "guess-again-xxxxx"),
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert again.status_code == 429
    assert 0 < int(again.headers["Retry-After"]) <= 900


def test_brute_force_by_address_is_throttled(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(LOGAGG_LOGIN_MAX_FAILURES_PER_ADDRESS="4")
    client = app.test_client()
    for attempt in range(4):
        answer = client.get("/auth/login", headers=basic(f"user{attempt}", "whatever-pass"))
        assert answer.status_code == 401
    assert client.get("/auth/login", headers=basic(*WRITER)).status_code == 429
    elsewhere = client.get(
        "/auth/login", headers=basic(*WRITER), environ_base={"REMOTE_ADDR": "192.0.2.99"}
    )
    assert elsewhere.status_code == 200


def test_register_list_and_duplicates(client: FlaskClient, admin_token: str) -> None:
    created = client.post(
        "/auth/register",
        json={"username": "Billing", "password": "billing-password"},
        headers=bearer(admin_token),
    )
    assert created.status_code == 201
    assert created.get_json()["user"] == {"username": "Billing", "role": "writer"}
    again = client.post(
        "/auth/register",
        json={"username": "BILLING", "password": "billing-password"},
        headers=bearer(admin_token),
    )
    assert again.status_code == 409
    assert again.get_json()["error"] == "user_exists"
    users = client.get("/auth/users", headers=bearer(admin_token)).get_json()["users"]
    assert users == [
        {"username": "admin", "role": "admin"},
        {"username": "Billing", "role": "writer"},
        {"username": "service-a", "role": "writer"},
    ]
    assert login(client, "billing", "billing-password")["access"]


def test_register_validates_input(client: FlaskClient, admin_token: str) -> None:
    cases = [
        {"username": "ok-name", "password": "short"},
        {"username": "bad name", "password": "long-enough-password"},
        {"username": "x" * 65, "password": "long-enough-password"},
        {"username": "ok-name", "password": "long-enough-password", "role": "root"},
        {"username": 5, "password": "long-enough-password"},
    ]
    for case in cases:
        response = client.post("/auth/register", json=case, headers=bearer(admin_token))
        assert response.status_code == 400, case
        assert response.get_json()["error"] == "invalid_user"


def test_non_admin_gets_403_on_admin_routes(client: FlaskClient, writer_token: str) -> None:
    calls = [
        client.post(
            "/auth/register",
            json={"username": "x", "password": "p" * 20},
            headers=bearer(writer_token),
        ),
        client.delete("/auth/user", json={"username": "admin"}, headers=bearer(writer_token)),
        client.get("/auth/users", headers=bearer(writer_token)),
        client.put(
            "/auth/user/password",
            json={"username": "admin", "password": "p" * 20},
            headers=bearer(writer_token),
        ),
    ]
    for response in calls:
        assert response.status_code == 403
        assert response.get_json()["error"] == "forbidden"


def test_admin_routes_without_token_are_401(client: FlaskClient) -> None:
    response = client.get("/auth/users")
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_token"


def test_deleted_user_tokens_stop_at_once(client: FlaskClient, admin_token: str) -> None:
    pair = login(client, *WRITER)
    assert client.post("/log", data="x", headers=bearer(pair["access"])).status_code == 200
    deleted = client.delete("/auth/user", json={"username": WRITER[0]}, headers=bearer(admin_token))
    assert deleted.status_code == 200
    assert client.post("/log", data="x", headers=bearer(pair["access"])).status_code == 401
    assert client.post("/auth/refresh", headers=bearer(pair["refresh"])).status_code == 401
    # A new user with the same name does not revive the old tokens.
    client.post(
        "/auth/register",
        json={"username": WRITER[0], "password": WRITER[1]},
        headers=bearer(admin_token),
    )
    assert client.post("/log", data="x", headers=bearer(pair["access"])).status_code == 401


def test_delete_unknown_and_last_admin(client: FlaskClient, admin_token: str) -> None:
    missing = client.delete("/auth/user", json={"username": "ghost"}, headers=bearer(admin_token))
    assert missing.status_code == 404
    last = client.delete("/auth/user", json={"username": "admin"}, headers=bearer(admin_token))
    assert last.status_code == 409
    assert last.get_json()["error"] == "last_admin"
    client.post(
        "/auth/register",
        json={"username": "admin2", "password": "admin2-password", "role": "admin"},
        headers=bearer(admin_token),
    )
    assert (
        client.delete(
            "/auth/user", json={"username": "admin"}, headers=bearer(admin_token)
        ).status_code
        == 200
    )


def test_own_password_change_needs_old_password_and_revokes(client: FlaskClient) -> None:
    pair = login(client, *WRITER)
    headers = bearer(pair["access"])
    no_old = client.put(
        "/auth/user/password", json={"password": "new-password-123"}, headers=headers
    )
    assert no_old.status_code == 400
    wrong_old = client.put(
        "/auth/user/password",
        json={"password": "new-password-123", "old_password": "not-the-password"},
        headers=headers,
    )
    assert wrong_old.status_code == 401
    changed = client.put(
        "/auth/user/password",
        json={"username": WRITER[0], "password": "new-password-123", "old_password": WRITER[1]},
        headers=headers,
    )
    assert changed.status_code == 200
    assert client.post("/log", data="x", headers=headers).status_code == 401
    assert client.post("/auth/refresh", headers=bearer(pair["refresh"])).status_code == 401
    assert client.get("/auth/login", headers=basic(*WRITER)).status_code == 401
    assert login(client, WRITER[0], "new-password-123")["access"]


def test_admin_changes_any_password(client: FlaskClient, admin_token: str) -> None:
    response = client.put(
        "/auth/user/password",
        json={"username": WRITER[0], "password": "reset-by-admin-1"},
        headers=bearer(admin_token),
    )
    assert response.status_code == 200
    assert login(client, WRITER[0], "reset-by-admin-1")
    missing = client.put(
        "/auth/user/password",
        json={"username": "ghost", "password": "reset-by-admin-1"},
        headers=bearer(admin_token),
    )
    assert missing.status_code == 404
