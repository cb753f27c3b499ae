"""The OpenAPI document: valid, and in step with the app's routes and answers."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from .conftest import WRITER, bearer, login

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.get_json()
    return spec


def test_document_is_valid_openapi(client: FlaskClient) -> None:
    validate(document(client))


def test_every_route_is_documented_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    served = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - IGNORED_METHODS
    }
    documented = {
        (path, method) for path, item in document(client)["paths"].items() for method in item
    }
    assert served == documented


def _schema(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def _check(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    jsonschema.validate(body, _schema(spec, path, method, status))


def test_answers_match_their_documented_schemas(client: FlaskClient, admin_token: str) -> None:
    spec = document(client)
    pair = login(client, *WRITER)
    answers = [
        ("/auth/login", "get", client.get("/auth/login", headers={})),
        ("/auth/refresh", "post", client.post("/auth/refresh", headers=bearer(pair["refresh"]))),
        ("/log", "post", client.post("/log", data="a\nb", headers=bearer(pair["access"]))),
        ("/log", "post", client.post("/log", data="a", headers={})),
        ("/auth/users", "get", client.get("/auth/users", headers=bearer(admin_token))),
        (
            "/auth/register",
            "post",
            client.post(
                "/auth/register",
                json={"username": "new-user", "password": "new-user-password"},
                headers=bearer(admin_token),
            ),
        ),
        ("/healthz", "get", client.get("/healthz")),
        ("/readyz", "get", client.get("/readyz")),
    ]
    for path, method, response in answers:
        documented = spec["paths"][path][method]["responses"]
        assert str(response.status_code) in documented, (path, response.status_code)
        _check(spec, path, method, response.status_code, response.get_json())
