"""`logagg kibana import`: the request it builds and how it reads Kibana's answers."""

from __future__ import annotations

import base64
import email
import http.server
import json
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from logagg import cli
from logagg.errors import SettingsError
from logagg.kibana import (
    HttpRequest,
    HttpResponse,
    KibanaImportError,
    KibanaSettings,
    KibanaUnavailableError,
    build_import_request,
    import_saved_objects,
    main,
    parse_import_response,
    read_saved_objects,
)

REPO = Path(__file__).resolve().parents[2]
OBJECTS = REPO / "kibana" / "saved_objects.ndjson"
ENV = {
    "KIBANA_URL": "https://kibana.example:5601/",
    "ELASTICSEARCH_USERNAME": "elastic",
    "ELASTICSEARCH_PASSWORD": "s3cret-pass",
}


def ok_answer(count: int) -> HttpResponse:
    return HttpResponse(
        200,
        json.dumps(
            {
                "success": True,
                "successCount": count,
                "successResults": [{"type": "index-pattern", "id": "x"}],
            }
        ).encode(),
    )


class FakeKibana:
    """Answers from a script, recording every request."""

    def __init__(self, *answers: HttpResponse | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_request_is_a_multipart_post_with_xsrf_header_and_basic_auth() -> None:
    settings = KibanaSettings.from_env(ENV)
    request = build_import_request(
        settings, b'{"type":"a","id":"b"}\n', filename="o.ndjson", boundary="BND"
    )
    assert request.method == "POST"
    assert request.url == "https://kibana.example:5601/api/saved_objects/_import?overwrite=true"
    assert request.headers["kbn-xsrf"]
    assert request.headers["Content-Type"] == "multipart/form-data; boundary=BND"
    scheme, token = request.headers["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token) == b"elastic:s3cret-pass"
    assert request.body.startswith(b"--BND\r\n")
    assert b'name="file"; filename="o.ndjson"' in request.body
    assert b'{"type":"a","id":"b"}\n' in request.body
    assert request.body.endswith(b"\r\n--BND--\r\n")


def test_space_and_api_key() -> None:
    settings = KibanaSettings.from_env(
        {"KIBANA_URL": "http://k:5601", "KIBANA_SPACE": "ops", "ELASTICSEARCH_API_KEY": "abc=="}
    )
    request = build_import_request(settings, b"{}", filename="f", boundary="b")
    assert request.url == "http://k:5601/s/ops/api/saved_objects/_import?overwrite=true"
    assert request.headers["Authorization"] == "ApiKey abc=="


def test_settings_report_every_problem_and_hide_the_password() -> None:
    with pytest.raises(SettingsError) as raised:
        KibanaSettings.from_env({"ELASTICSEARCH_USERNAME": "elastic"})
    problems = "\n".join(raised.value.problems)
    assert "KIBANA_URL" in problems
    assert "ELASTICSEARCH_PASSWORD" in problems
    assert "s3cret-pass" not in repr(KibanaSettings.from_env(ENV))


def test_import_sends_the_file_once_when_kibana_accepts_it() -> None:
    kibana = FakeKibana(ok_answer(7))
    result = import_saved_objects(KibanaSettings.from_env(ENV), OBJECTS.read_bytes(), kibana)
    assert result.success_count == 7
    assert len(kibana.requests) == 1
    assert OBJECTS.read_bytes() in kibana.requests[0].body


def test_import_waits_while_kibana_starts() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    kibana = FakeKibana(
        KibanaUnavailableError("connection refused"), HttpResponse(503, b"{}"), ok_answer(1)
    )
    result = import_saved_objects(
        KibanaSettings.from_env(ENV),
        OBJECTS.read_bytes(),
        kibana,
        wait=60,
        sleep=sleep,
        clock=lambda: now[0],
    )
    assert result.success_count == 1
    assert len(kibana.requests) == 3
    assert slept == [1.0, 2.0]


def test_import_gives_up_after_the_wait() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    kibana = FakeKibana(*[HttpResponse(503, b"")] * 10)
    with pytest.raises(KibanaUnavailableError):
        import_saved_objects(
            KibanaSettings.from_env(ENV),
            OBJECTS.read_bytes(),
            kibana,
            wait=5,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert 2 <= len(kibana.requests) <= 4


def test_a_refused_object_fails_the_import() -> None:
    answer = {
        "success": False,
        "successCount": 2,
        "errors": [{"type": "lens", "id": "l1", "error": {"type": "missing_references"}}],
    }
    with pytest.raises(KibanaImportError, match="lens/l1: missing_references"):
        parse_import_response(HttpResponse(200, json.dumps(answer).encode()))


def test_an_authentication_failure_is_permanent() -> None:
    kibana = FakeKibana(HttpResponse(401, b'{"message":"Unauthorized"}'))
    with pytest.raises(KibanaImportError, match="401: Unauthorized"):
        import_saved_objects(KibanaSettings.from_env(ENV), OBJECTS.read_bytes(), kibana, wait=60)
    assert len(kibana.requests) == 1


def test_bad_ndjson_is_refused_before_sending() -> None:
    with pytest.raises(KibanaImportError, match="line 2"):
        read_saved_objects('{"type":"a","id":"b"}\n{not json\n')
    with pytest.raises(KibanaImportError, match="type"):
        read_saved_objects('{"id":"b"}\n')
    assert read_saved_objects('{"type":"a","id":"b"}\n{"exportedCount":1}\n') == [
        {"type": "a", "id": "b"}
    ]


def test_command_reports_a_missing_file_and_missing_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(tmp_path / "none.ndjson")], env=ENV) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["import", str(OBJECTS)], env={}) == 1
    assert "KIBANA_URL" in capsys.readouterr().err


def test_command_is_registered() -> None:
    module, _ = cli.COMMANDS["kibana"]
    assert module == "logagg.kibana"


class _FakeKibanaHandler(http.server.BaseHTTPRequestHandler):
    """Kibana's import endpoint as far as the command relies on it."""

    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        if self.headers.get("kbn-xsrf") is None:
            self._answer(400, {"message": "Request must contain a kbn-xsrf header."})
            return
        message = email.message_from_bytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
        )
        (part,) = message.get_payload()
        objects = read_saved_objects(part.get_payload(decode=True).decode())
        self._answer(
            200,
            {
                "success": True,
                "successCount": len(objects),
                "successResults": [{"type": o["type"], "id": o["id"]} for o in objects],
            },
        )

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.integration
def test_command_imports_over_http(capsys: pytest.CaptureFixture[str]) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeKibanaHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**ENV, "KIBANA_URL": f"http://127.0.0.1:{server.server_address[1]}"}
        assert main(["import", str(OBJECTS)], env=env) == 0
    finally:
        server.shutdown()
        server.server_close()
    ((path, headers, _),) = _FakeKibanaHandler.received
    assert path == "/api/saved_objects/_import?overwrite=true"
    assert headers["Authorization"].startswith("Basic ")
    count = len(read_saved_objects(OBJECTS.read_text()))
    assert f"imported {count} saved objects" in capsys.readouterr().out
