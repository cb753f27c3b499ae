"""The OpenAPI 3.1 description of the ingest HTTP API, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_STRING_REF: dict[str, Any] = {"type": "string"}


def _json(schema_ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _ok(description: str, schema_ref: str) -> dict[str, Any]:
    return {"description": description, "content": _json(schema_ref)}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _ERROR for status in statuses}


_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_HTML_PAGE: dict[str, Any] = {
    "description": "An HTML page",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
# Routes that also take an API key: Bearer (a key is told from a JWT by its prefix) or ApiKey.
_BEARER_OR_KEY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
# Routes of shippers: a token, a key with the ingest scope, or a user's Basic credentials.
_SHIPPER: list[dict[str, list[str]]] = [*_BEARER_OR_KEY, {"basic": []}]

_PATHS: dict[str, Any] = {
    "/auth/login": {
        "get": {
            "summary": "Log in with HTTP Basic credentials (the original clients' flow)",
            "security": [{"basic": []}],
            "responses": {"200": _ok("Tokens", "LoginAnswer"), **_errors(401, 429, 503)},
        },
        "post": {
            "summary": "Log in with a JSON username and password",
            "security": [],
            "requestBody": {"required": True, "content": _json("Credentials")},
            "responses": {
                "200": _ok("Tokens", "LoginAnswer"),
                **_errors(400, 401, 415, 429, 503),
            },
        },
    },
    "/auth/refresh": {
        "post": {
            "summary": "A new access token for a refresh token (sent as Bearer)",
            "security": _BEARER,
            "responses": {"200": _ok("A new access token", "RefreshAnswer"), **_errors(401, 503)},
        }
    },
    "/auth/register": {
        "post": {
            "summary": "Create a user (admins only)",
            "security": _BEARER,
            "requestBody": {"required": True, "content": _json("NewUser")},
            "responses": {
                "201": _ok("Created", "UserCreated"),
                **_errors(400, 401, 403, 409, 503),
            },
        }
    },
    "/auth/user/password": {
        "put": {
            "summary": "Change a password: one's own with the old one, anyone's as admin",
            "security": _BEARER,
            "requestBody": {"required": True, "content": _json("PasswordChange")},
            "responses": {
                "200": _ok("Changed; tokens issued before stop working", "Message"),
                **_errors(400, 401, 403, 404, 429, 503),
            },
        }
    },
    "/auth/user": {
        "delete": {
            "summary": "Delete a user (admins only; never the last admin)",
            "security": _BEARER,
            "requestBody": {"required": True, "content": _json("Username")},
            "responses": {
                "200": _ok("Deleted; the user's tokens stop working", "Message"),
                **_errors(400, 401, 403, 404, 409, 503),
            },
        }
    },
    "/auth/users": {
        "get": {
            "summary": "List users and roles (admins only)",
            "security": _BEARER,
            "responses": {"200": _ok("Users", "UserList"), **_errors(401, 403, 503)},
        }
    },
    "/auth/keys": {
        "post": {
            "summary": "Create an API key for a user (admins only); the key is shown once",
            "security": _BEARER_OR_KEY,
            "requestBody": {"required": True, "content": _json("NewApiKey")},
            "responses": {
                "201": _ok("Created: the key, and its metadata", "ApiKeyCreated"),
                **_errors(400, 401, 403, 404, 503),
            },
        },
        "get": {
            "summary": "List API keys (admins only), of one user with ?username=",
            "security": _BEARER_OR_KEY,
            "parameters": [
                {"name": "username", "in": "query", "required": False, "schema": _STRING_REF}
            ],
            "responses": {
                "200": _ok("Keys (never the keys themselves)", "ApiKeyList"),
                **_errors(401, 403, 503),
            },
        },
    },
    "/auth/keys/{key_id}": {
        "delete": {
            "summary": "Revoke an API key (admins only): it stops working at once",
            "security": _BEARER_OR_KEY,
            "parameters": [
                {"name": "key_id", "in": "path", "required": True, "schema": _STRING_REF}
            ],
            "responses": {
                "200": _ok("Revoked", "ApiKeyRevoked"),
                **_errors(401, 403, 404, 503),
            },
        }
    },
    "/log": {
        "post": {
            "summary": "Send log lines",
            "description": (
                "text/plain: one line per event; application/x-ndjson: one JSON value per "
                'line; application/json: an array of strings or objects, or {"lines": [...]} '
                "(a JSON body that does not parse is read as text). Content-Encoding: gzip "
                "is accepted. Long lines are cut and counted in `truncated`."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/JsonLines"},
                                {
                                    "type": "object",
                                    "required": ["lines"],
                                    "properties": {
                                        "lines": {"$ref": "#/components/schemas/JsonLines"}
                                    },
                                },
                            ]
                        }
                    },
                },
            },
            "responses": {
                "200": _ok("Stored for parsing", "Accepted"),
                **_errors(400, 401, 403, 413, 415, 429, 503),
            },
            "security": _SHIPPER,
        }
    },
    "/log/batches/{batch_id}": {
        "get": {
            "summary": "Delivery receipt of a batch or of a whole request",
            "description": (
                "`batch_id` is the `batch_id` of a 200 (the whole request, its batches "
                "aggregated) or one of its `batches` (one batch). Only the sender or an "
                "admin may read it; another service's batch answers 404, like an unknown "
                "or expired one (receipts expire LOGAGG_RECEIPT_TTL after their last "
                "update)."
            ),
            "security": _SHIPPER,
            "parameters": [
                {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": _ok("Where the batch is", "Receipt"),
                **_errors(401, 404, 503),
            },
        }
    },
    "/healthz": {
        "get": {
            "summary": "Liveness: the process answers",
            "security": [],
            "responses": {"200": _ok("Alive", "Status")},
        }
    },
    "/readyz": {
        "get": {
            "summary": "Readiness: Redis answers",
            "security": [],
            "responses": {"200": _ok("Ready", "Status"), **_errors(503)},
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "security": [],
            "responses": {
                "200": {
                    "description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/": {
        "get": {
            "summary": "What this server is: name, version and links (HTML, or JSON if preferred)",
            "description": (
                "Elasticsearch clients (a request with credentials, X-Elastic-Client-Meta, an "
                "Elasticsearch vendor media type or a shipper's User-Agent) get the "
                "Elasticsearch version banner instead, as their outputs check it first."
            ),
            "security": [],
            "responses": {
                "200": {
                    "description": "An HTML page, or the same as JSON for Accept: application/json",
                    "content": {
                        "text/html": {"schema": {"type": "string"}},
                        **_json("Home"),
                    },
                }
            },
        }
    },
    "/docs": {
        "get": {
            "summary": "Interactive API documentation (Swagger UI on /openapi.json)",
            "security": [],
            "responses": {"200": _HTML_PAGE},
        }
    },
    "/docs/init.js": {
        "get": {
            "summary": "The script that starts Swagger UI on /docs",
            "security": [],
            "responses": {
                "200": {
                    "description": "JavaScript",
                    "content": {"text/javascript": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/docs/static/{filename}": {
        "get": {
            "summary": "Swagger UI's files (scripts, styles, icons), cached for a day",
            "security": [],
            "parameters": [
                {"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "The file"},
                **_errors(404),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_STRING: dict[str, Any] = {"type": "string"}
_ROLE: dict[str, Any] = {"type": "string", "enum": ["admin", "writer"]}
_BOOLEAN: dict[str, Any] = {"type": "boolean"}
_COUNTS = (
    "received",
    "truncated",
    "events",
    "parsed",
    "unparsed",
    "indexed",
    "archived",
    "dead_lettered",
)

# The shippers' intake: the Elasticsearch bulk API (and the calls its clients make before
# they send) and OTLP/HTTP logs. Writers authenticate with a Bearer token or Basic.
_WRITER_AUTH: list[dict[str, list[str]]] = [{"bearer": []}, {"basic": []}]
_NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
_REST = [{"name": "rest", "in": "path", "required": True, "schema": {"type": "string"}}]


def _compat(summary: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [],
        **({"parameters": parameters} if parameters else {}),
        "responses": {"200": _ok("An answer shaped as Elasticsearch's", "Object")},
    }


def _bulk(summary: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": (
            "NDJSON action/source pairs (`index` and `create`; `delete` and `update` get an "
            "error item), as application/x-ndjson, application/json or the Elasticsearch "
            "clients' vendor types; Content-Encoding: gzip accepted. Sources become events "
            "of the writer's service; the index is kept only as `data_stream.dataset` "
            "(sanitised). The answer's `X-Logagg-Batch-Id` header is the receipt id."
        ),
        "security": _WRITER_AUTH,
        **({"parameters": parameters} if parameters else {}),
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        "responses": {
            "200": _ok("One item per action, in order", "BulkAnswer"),
            **_errors(401, 403, 413, 415, 429, 503),
        },
    }


_INDEX = [{"name": "index", "in": "path", "required": True, "schema": {"type": "string"}}]
_INTAKE_PATHS: dict[str, Any] = {
    "/_license": {"get": _compat("A basic, active license (Elasticsearch clients ask)")},
    "/_xpack": {"get": _compat("X-Pack features (Elasticsearch clients ask)")},
    "/_cluster/health": {"get": _compat("Green (health checks of Elasticsearch outputs)")},
    "/_index_template/{name}": {
        "get": _compat("Every index template exists: nothing to install", _NAME),
        "put": _compat("Acknowledged, unused: the pipeline installs its own", _NAME),
    },
    "/_template/{name}": {
        "get": _compat("Every legacy template exists: nothing to install", _NAME),
        "put": _compat("Acknowledged, unused: the pipeline installs its own", _NAME),
    },
    "/_ilm/{rest}": {
        "get": _compat("Every lifecycle policy exists", _REST),
        "put": _compat("Acknowledged, unused", _REST),
    },
    "/_bulk": {"post": _bulk("Elasticsearch bulk API"), "put": _bulk("Elasticsearch bulk API")},
    "/{index}/_bulk": {
        "post": _bulk("Elasticsearch bulk API with a default index", _INDEX),
        "put": _bulk("Elasticsearch bulk API with a default index", _INDEX),
    },
    "/v1/logs": {
        "post": {
            "summary": "OTLP/HTTP logs export",
            "description": (
                "An ExportLogsServiceRequest as application/x-protobuf or OTLP JSON; "
                "Content-Encoding: gzip accepted. The answer is an ExportLogsServiceResponse "
                "in the request's encoding, with partial_success when records were refused."
            ),
            "security": _WRITER_AUTH,
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "object"}},
                },
            },
            "responses": {
                "200": {
                    "description": "ExportLogsServiceResponse",
                    "content": {
                        "application/x-protobuf": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                        "application/json": {"schema": {"type": "object"}},
                    },
                },
                **_errors(400, 401, 403, 413, 415, 429, 503),
            },
        }
    },
}
_PATHS.update(_INTAKE_PATHS)

_SCHEMAS: dict[str, Any] = {
    "Error": _object(["error", "message"], error=_STRING, message=_STRING),
    "Message": _object(["message"], message=_STRING),
    "Status": _object(["status"], status=_STRING),
    "Home": _object(
        ["name", "status", "version", "links"],
        name=_STRING,
        status=_STRING,
        version=_STRING,
        links=_object(["docs", "health", "openapi"], docs=_STRING, health=_STRING, openapi=_STRING),
    ),
    "Credentials": _object(["username", "password"], username=_STRING, password=_STRING),
    "LoginAnswer": _object(
        ["message", "token"],
        message=_STRING,
        token=_object(["access", "refresh"], access=_STRING, refresh=_STRING),
    ),
    "RefreshAnswer": _object(
        ["message", "token"], message=_STRING, token=_object(["access"], access=_STRING)
    ),
    "NewUser": _object(["username", "password"], username=_STRING, password=_STRING, role=_ROLE),
    "User": _object(["username", "role"], username=_STRING, role=_ROLE),
    "UserCreated": _object(
        ["message", "user"], message=_STRING, user={"$ref": "#/components/schemas/User"}
    ),
    "UserList": _object(
        ["users"], users={"type": "array", "items": {"$ref": "#/components/schemas/User"}}
    ),
    "PasswordChange": _object(
        ["password"], username=_STRING, password=_STRING, old_password=_STRING
    ),
    "Username": _object(["username"], username=_STRING),
    "NewApiKey": _object(
        ["username"],
        username=_STRING,
        name=_STRING,
        scopes={"type": "array", "items": {"type": "string", "enum": ["ingest", "admin"]}},
        expires_in={
            "oneOf": [{"type": "number"}, {"type": "string"}],
            "description": "seconds, or a duration such as 90d; or give expires_at",
        },
        expires_at={"type": "string", "format": "date-time"},
    ),
    "ApiKey": _object(
        ["id", "username", "name", "scopes", "created_at", "created_by", "expires_at", "last_used"],
        id=_STRING,
        username=_STRING,
        name=_STRING,
        scopes={"type": "array", "items": {"type": "string", "enum": ["ingest", "admin"]}},
        created_at=_STRING,
        created_by=_STRING,
        expires_at={"type": ["string", "null"]},
        last_used={"type": ["string", "null"], "description": "to the minute"},
    ),
    "ApiKeyCreated": _object(
        ["message", "key", "api_key"],
        message=_STRING,
        key={"type": "string", "description": "lgk_<id>_<secret>: shown in this answer only"},
        api_key={"$ref": "#/components/schemas/ApiKey"},
    ),
    "ApiKeyList": _object(
        ["keys"], keys={"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}
    ),
    "ApiKeyRevoked": _object(
        ["message", "api_key"], message=_STRING, api_key={"$ref": "#/components/schemas/ApiKey"}
    ),
    "JsonLines": {
        "type": "array",
        "items": {"oneOf": [{"type": "string"}, {"type": "object"}]},
    },
    "Object": {"type": "object"},
    "BulkAnswer": _object(
        ["took", "errors", "items"],
        took={"type": "integer"},
        errors=_BOOLEAN,
        items={"type": "array", "items": {"type": "object"}},
    ),
    "Accepted": _object(
        ["status", "batch_id", "batches", "accepted", "truncated"],
        status={"type": "string", "enum": ["queued"]},
        batch_id=_STRING,
        batches={"type": "array", "items": _STRING},
        accepted={"type": "integer", "minimum": 0},
        truncated={"type": "integer", "minimum": 0},
    ),
    "Receipt": _object(
        [
            "batch_id",
            "request_id",
            "service",
            "status",
            "stages",
            "sinks",
            "counts",
            "dead_lettered",
            "dead_letter_reasons",
        ],
        batch_id=_STRING,
        request_id=_STRING,
        service=_STRING,
        received_at={"type": ["string", "null"]},
        status={
            "type": "string",
            "enum": [
                "queued",
                "parsed",
                "indexed",
                "archived",
                "delivered_with_dead_letters",
                "delivered",
            ],
        },
        stages=_object(
            ["queued", "parsed", "indexed", "archived"],
            queued=_BOOLEAN,
            parsed=_BOOLEAN,
            indexed=_BOOLEAN,
            archived=_BOOLEAN,
        ),
        sinks={"type": "array", "items": {"type": "string", "enum": ["elasticsearch", "archive"]}},
        counts=_object(
            list(_COUNTS),
            **{name: {"type": "integer", "minimum": 0} for name in _COUNTS},
        ),
        dead_lettered={"type": "object", "additionalProperties": {"type": "integer"}},
        dead_letter_reasons={
            "type": "object",
            "description": "per sink, how many events were dead-lettered for each reason",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
            },
        },
        batches={
            "type": "array",
            "description": "a request's batches and their status (request ids only)",
            "items": _object(["batch_id", "status"], batch_id=_STRING, status=_STRING),
        },
    ),
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every route the app serves."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LogAggregator ingest",
            "version": "1",
            "description": "Authenticated HTTP intake of log lines into the parse queue.",
        },
        "security": _BEARER,
        "paths": _PATHS,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "basic": {"type": "http", "scheme": "basic"},
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        "'ApiKey lgk_…' (or 'Bearer lgk_…'): a long-lived key from "
                        "POST /auth/keys, for shippers that send a fixed header"
                    ),
                },
            },
            "schemas": _SCHEMAS,
            "responses": {
                "Error": {
                    "description": 'An error: {"error": code, "message": text}',
                    "content": _json("Error"),
                }
            },
        },
    }
