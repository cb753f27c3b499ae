"""``logagg kibana import``: load the project's saved objects into Kibana.

The data view, saved searches and dashboard live in ``kibana/saved_objects.ndjson``.
They are sent to Kibana's saved objects import API with ``overwrite=true``, so running
the command again (a new release, a re-run setup job) updates them in place.

Building the request and reading the answer are pure functions; the HTTP exchange goes
through a :data:`Transport`, so tests pass a fake one and open no socket.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from logagg.errors import LogaggError, PermanentError, TransientError
from logagg.settings import (
    EnvReader,
    Secret,
    SettingsBase,
    check_elastic_credentials,
    mask_url,
)

DEFAULT_OBJECTS_FILE = "kibana/saved_objects.ndjson"
IMPORT_PATH = "/api/saved_objects/_import"
# Kibana answers these while it starts or while Elasticsearch is not yet reachable.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class KibanaSettings(SettingsBase):
    """Where Kibana is and how to authenticate (with the Elasticsearch credentials)."""

    url: str
    space: str | None
    username: str | None
    password: Secret | None
    api_key: Secret | None
    ca_certs: str | None
    verify_certs: bool
    timeout: float

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        settings = cls(
            url=read.url("KIBANA_URL", None) or "",
            space=read.optional_text("KIBANA_SPACE"),
            username=read.optional_text("ELASTICSEARCH_USERNAME"),
            password=read.secret("ELASTICSEARCH_PASSWORD"),
            api_key=read.secret("ELASTICSEARCH_API_KEY"),
            ca_certs=read.optional_text("KIBANA_CA_CERTS"),
            verify_certs=read.boolean("LOGAGG_KIBANA_VERIFY_CERTS", True),
            timeout=read.duration("LOGAGG_KIBANA_TIMEOUT", 60.0, minimum=0.1),
        )
        if not settings.url and not any(p.startswith("KIBANA_URL") for p in read.problems):
            read.problems.append("KIBANA_URL: is required")
        check_elastic_credentials(read, settings.username, settings.password, settings.api_key)
        return settings


@dataclasses.dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class ImportResult:
    """What Kibana reports after a successful import."""

    success_count: int
    objects: tuple[tuple[str, str], ...]  # (type, id) of every imported object


class KibanaImportError(PermanentError):
    """Kibana refused the import, or some objects in it."""


class KibanaUnavailableError(TransientError):
    """Kibana could not be reached or is not ready yet."""


Transport = Callable[[HttpRequest], HttpResponse]


def read_saved_objects(text: str) -> list[dict[str, Any]]:
    """Parse an NDJSON export, checking that every line is an object with a type and an id.

    Kibana's own export ends with a summary line (``exportedCount``); it is skipped.
    """
    objects: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise KibanaImportError(f"line {number}: not JSON: {error.msg}") from error
        if not isinstance(item, dict):
            raise KibanaImportError(f"line {number}: not a JSON object")
        if "exportedCount" in item:
            continue
        if not isinstance(item.get("type"), str) or not isinstance(item.get("id"), str):
            raise KibanaImportError(f"line {number}: a saved object needs a `type` and an `id`")
        objects.append(item)
    if not objects:
        raise KibanaImportError("no saved objects in the file")
    return objects


def import_url(settings: KibanaSettings) -> str:
    """The import endpoint, in the configured space if any, overwriting existing objects."""
    base = settings.url.rstrip("/")
    space = f"/s/{settings.space}" if settings.space else ""
    return f"{base}{space}{IMPORT_PATH}?overwrite=true"


def auth_header(settings: KibanaSettings) -> str | None:
    """The ``Authorization`` value for the configured credentials, if any."""
    if settings.api_key is not None:
        return f"ApiKey {settings.api_key.reveal()}"
    if settings.username and settings.password is not None:
        pair = f"{settings.username}:{settings.password.reveal()}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"
    return None


def build_import_request(
    settings: KibanaSettings, ndjson: bytes, *, filename: str, boundary: str
) -> HttpRequest:
    """The multipart POST that Kibana's saved objects import API expects."""
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode(),
            b"Content-Type: application/ndjson\r\n\r\n",
            ndjson,
            b"" if ndjson.endswith(b"\n") else b"\n",
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        # Kibana refuses state-changing API calls without it (a CSRF guard).
        "kbn-xsrf": "logagg",
        "Accept": "application/json",
    }
    authorization = auth_header(settings)
    if authorization is not None:
        headers["Authorization"] = authorization
    return HttpRequest("POST", import_url(settings), headers, body)


def parse_import_response(response: HttpResponse) -> ImportResult:
    """Read Kibana's answer; any refused object makes the whole import a failure."""
    try:
        answer = json.loads(response.body or b"null")
    except json.JSONDecodeError:
        answer = None
    if response.status in RETRYABLE_STATUSES:
        raise KibanaUnavailableError(f"Kibana answered {response.status}")
    if response.status != 200 or not isinstance(answer, dict):
        detail = answer.get("message") if isinstance(answer, dict) else None
        raise KibanaImportError(
            f"Kibana answered {response.status}" + (f": {detail}" if detail else "")
        )
    errors = answer.get("errors") or []
    if not answer.get("success", False) or errors:
        described = [
            f"{error.get('type')}/{error.get('id')}: "
            f"{(error.get('error') or {}).get('type', 'error')}"
            for error in errors
            if isinstance(error, dict)
        ]
        raise KibanaImportError(
            "Kibana refused saved objects: " + ("; ".join(described) or "no detail given")
        )
    imported = tuple(
        (str(item.get("type")), str(item.get("id")))
        for item in answer.get("successResults") or []
        if isinstance(item, dict)
    )
    return ImportResult(int(answer.get("successCount", 0)), imported)


def urllib_transport(settings: KibanaSettings) -> Transport:
    """A transport over ``urllib`` with the configured TLS verification."""
    context: ssl.SSLContext | None = None
    if settings.url.startswith("https:"):
        context = ssl.create_default_context(cafile=settings.ca_certs)
        if not settings.verify_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE

    def send(request: HttpRequest) -> HttpResponse:
        prepared = urllib.request.Request(
            request.url, data=request.body, headers=dict(request.headers), method=request.method
        )
        try:
            with urllib.request.urlopen(
                prepared, timeout=settings.timeout, context=context
            ) as answer:
                return HttpResponse(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, error.read())
        except OSError as error:
            raise KibanaUnavailableError(
                f"cannot reach Kibana at {mask_url(settings.url)}: {error}"
            ) from error

    return send


def import_saved_objects(
    settings: KibanaSettings,
    ndjson: bytes,
    transport: Transport,
    *,
    filename: str = "saved_objects.ndjson",
    wait: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ImportResult:
    """Import ``ndjson`` into Kibana, retrying for up to ``wait`` seconds while it starts."""
    read_saved_objects(ndjson.decode("utf-8"))
    request = build_import_request(
        settings, ndjson, filename=filename, boundary=f"logagg-{uuid.uuid4().hex}"
    )
    deadline = clock() + wait
    delay = 1.0
    while True:
        try:
            return parse_import_response(transport(request))
        except KibanaUnavailableError:
            if clock() + delay > deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, 15.0)


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logagg kibana",
        description="Kibana operator commands (KIBANA_URL and the Elasticsearch credentials).",
    )
    commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = commands.add_parser(
        "import", help="import the data view, saved searches and dashboard (overwrites)"
    )
    load.add_argument(
        "file",
        nargs="?",
        type=Path,
        help=f"saved objects NDJSON (default: $LOGAGG_KIBANA_OBJECTS or {DEFAULT_OBJECTS_FILE})",
    )
    load.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep retrying this long while Kibana is starting (default: 0)",
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    options = _arguments().parse_args(argv)
    environ = os.environ if env is None else env
    path = options.file or Path(environ.get("LOGAGG_KIBANA_OBJECTS") or DEFAULT_OBJECTS_FILE)
    try:
        settings = KibanaSettings.from_env(environ)
        ndjson = path.read_bytes()
        result = import_saved_objects(
            settings, ndjson, urllib_transport(settings), filename=path.name, wait=options.wait
        )
    except OSError as error:
        print(f"logagg kibana import: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 1
    except LogaggError as error:
        print(f"logagg kibana import: {error}", file=sys.stderr)
        return 1
    print(f"imported {result.success_count} saved objects into {mask_url(settings.url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
