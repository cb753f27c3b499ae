"""Token security: only tokens this service signed, of the right type, in their lifetime."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from logagg.ingest.auth.tokens import InvalidToken, TokenService, TokenType

from .conftest import JWT_SECRET, WRITER, bearer, login

ISSUER, AUDIENCE = "logagg", "logagg-ingest"


def service(**kwargs: Any) -> TokenService:
    return TokenService(
        lambda: JWT_SECRET,
        issuer=kwargs.get("issuer", ISSUER),
        audience=kwargs.get("audience", AUDIENCE),
        access_ttl=900,
        refresh_ttl=86400,
        clock=kwargs.get("clock", time.time),
    )


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": WRITER[0],
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "type": "access",
        "gen": "g",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issue_and_check_round_trip() -> None:
    tokens = service()
    checked = tokens.check(tokens.issue("svc", "gen1", TokenType.ACCESS), TokenType.ACCESS)
    assert (checked.subject, checked.generation, checked.type) == ("svc", "gen1", "access")


def test_refresh_token_is_not_an_access_token() -> None:
    tokens = service()
    refresh = tokens.issue("svc", "gen1", TokenType.REFRESH)
    with pytest.raises(InvalidToken):
        tokens.check(refresh, TokenType.ACCESS)
    access = tokens.issue("svc", "gen1", TokenType.ACCESS)
    with pytest.raises(InvalidToken):
        tokens.check(access, TokenType.REFRESH)


def test_expired_by_clock() -> None:
    past = service(clock=lambda: time.time() - 3600)
    token = past.issue("svc", "g", TokenType.ACCESS)
    with pytest.raises(InvalidToken, match="expired"):
        service().check(token, TokenType.ACCESS)


FORGED = {
    "alg none": lambda: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.",
    "another key": lambda: jwt.encode(claims(), "another-secret-" * 4, algorithm="HS256"),
    "another algorithm": lambda: jwt.encode(claims(), JWT_SECRET, algorithm="HS512"),
    "expired": lambda: jwt.encode(
        claims(exp=int(time.time()) - 60, iat=int(time.time()) - 1000), JWT_SECRET
    ),
    "not yet valid": lambda: jwt.encode(claims(nbf=int(time.time()) + 600), JWT_SECRET),
    "issued in the future": lambda: jwt.encode(claims(iat=int(time.time()) + 600), JWT_SECRET),
    "wrong audience": lambda: jwt.encode(claims(aud="someone-else"), JWT_SECRET),
    "wrong issuer": lambda: jwt.encode(claims(iss="evil"), JWT_SECRET),
    "no exp": lambda: jwt.encode(claims(exp=None), JWT_SECRET),
    "no type": lambda: jwt.encode(claims(type=None), JWT_SECRET),
    "refresh as access": lambda: jwt.encode(claims(type="refresh"), JWT_SECRET),
    "garbage": lambda: "not.a.token",
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_tokens_are_refused(name: str) -> None:
    with pytest.raises(InvalidToken):
        service().check(FORGED[name](), TokenType.ACCESS)


def test_a_well_formed_hand_made_token_passes_the_same_check() -> None:
    # The control for the forgeries above: only the broken part makes them fail.
    token = jwt.encode(claims(), JWT_SECRET, algorithm="HS256")
    assert service().check(token, TokenType.ACCESS).subject == WRITER[0]


def test_tampered_payload_is_refused(client: FlaskClient) -> None:
    token = login(client, *WRITER)["access"]
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["sub"] = "admin"
    tampered = f"{header}.{b64(data)}.{signature}"
    response = client.get("/auth/users", headers=bearer(tampered))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_tokens_get_401_json_from_log(client: FlaskClient, name: str) -> None:
    response = client.post("/log", data="line", headers=bearer(FORGED[name]()))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_refresh_route_needs_a_refresh_token(client: FlaskClient) -> None:
    pair = login(client, *WRITER)
    assert client.post("/auth/refresh", headers=bearer(pair["access"])).status_code == 401
    answer = client.post("/auth/refresh", headers=bearer(pair["refresh"]))
    assert answer.status_code == 200
    access = answer.get_json()["token"]["access"]
    assert client.post("/log", data="hello", headers=bearer(access)).status_code == 200


def test_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = service()
    token = tokens.issue("svc", "g", TokenType.ACCESS)
    assert tokens.check(token, TokenType.ACCESS).subject == "svc"
    later = time.time() + 3600

    class Later:
        @staticmethod
        def time() -> float:
            return later

    monkeypatch.setattr("logagg.ingest.auth.tokens.time", Later)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.check(token, TokenType.ACCESS)


def test_remembered_access_token_is_still_not_a_refresh_token() -> None:
    tokens = service()
    token = tokens.issue("svc", "g", TokenType.ACCESS)
    tokens.check(token, TokenType.ACCESS)
    with pytest.raises(InvalidToken):
        tokens.check(token, TokenType.REFRESH)
