"""Slow clients against ingest as compose and Kubernetes deploy it: nginx with the shipped
``kube/base/ingest-proxy.conf`` in front of gunicorn, both on loopback."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from logagg.embedded import IngestServer
from logagg.embedded.process import ServerProcess, free_port

from .conftest import KUBE

pytestmark = pytest.mark.integration

PROXY_CONF = KUBE / "base" / "ingest-proxy.conf"
# Where the shipped file has nginx listen and gunicorn serve (replaced by free ports here).
LISTEN, UPSTREAM = "listen 3001;", "server 127.0.0.1:3002;"
JWT_SECRET = "proxy-test-secret-long-enough-for-hs256-0123456789abcdef"
ADMIN_PASSWORD = "proxy-admin-password"
DRIPPERS = 50
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def render_proxy_conf(listen_port: int, upstream_port: int) -> str:
    """The shipped server block with the two loopback ports of this test."""
    text = PROXY_CONF.read_text()
    assert text.count(LISTEN) == 1
    assert text.count(UPSTREAM) == 1
    return text.replace(LISTEN, f"listen 127.0.0.1:{listen_port};").replace(
        UPSTREAM, f"server 127.0.0.1:{upstream_port};"
    )


class NginxServer(ServerProcess):
    """nginx in the foreground, with the image's main settings and the shipped server."""

    name = "nginx"
    start_timeout = 20.0

    def __init__(self, directory: Path, upstream_port: int) -> None:
        super().__init__(directory / "nginx.log")
        self.directory = directory
        self.port = free_port()
        (directory / "default.conf").write_text(render_proxy_conf(self.port, upstream_port))
        temp = "\n".join(
            f"    {kind}_temp_path {directory / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # As the nginx image's nginx.conf: one events block, the server in the http block.
        (directory / "nginx.conf").write_text(
            f"{'user root root;' if os.geteuid() == 0 else ''}\n"
            "daemon off;\nworker_processes 1;\n"
            f"pid {directory / 'nginx.pid'};\n"
            f"error_log {directory / 'error.log'} info;\n"
            "events { worker_connections 1024; }\n"
            "http {\n    access_log off;\n"
            f"{temp}\n"
            f"    include {directory / 'default.conf'};\n}}\n"
        )

    def command(self) -> Sequence[str]:
        conf = self.directory / "nginx.conf"
        return [
            NGINX,
            "-p",
            str(self.directory),
            "-e",
            str(self.directory / "error.log"),
            "-c",
            str(conf),
        ]

    def is_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False


@pytest.fixture
def proxied_ingest(redis_url: str, tmp_path: Path) -> Iterator[str]:
    if not Path(NGINX).exists():
        pytest.fail("no nginx: `make nginx` installs Debian's nginx-light")
    ingest = IngestServer(
        {
            "REDIS_URL": redis_url,
            "LOGAGG_JWT_SECRET": JWT_SECRET,
            "LOGAGG_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "LOGAGG_ARGON2_TIME_COST": "1",
            "LOGAGG_ARGON2_MEMORY": "8KiB",
            "LOGAGG_ARGON2_PARALLELISM": "1",
            "LOGAGG_TRUSTED_PROXIES": "127.0.0.1/32",
        },
        tmp_path / "ingest.log",
    )
    nginx = NginxServer(tmp_path, ingest.port)
    ingest.start()
    try:
        nginx.start()
        try:
            yield f"http://127.0.0.1:{nginx.port}"
        finally:
            nginx.stop(timeout=10)
    finally:
        ingest.stop(timeout=15)


def timed_call(
    url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, float]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.status, response.read()
    except urllib.error.HTTPError as error:
        answer = error.code, error.read()
    return answer[0], answer[1], time.monotonic() - started


class Dripper(threading.Thread):
    """A client that sends its request one byte at a time, every ``interval`` seconds,
    until the server closes the connection or ``until`` (a monotonic time) passes."""

    def __init__(self, port: int, request: bytes, interval: float, until: float) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.request = request
        self.interval = interval
        self.until = until
        self.closed_by_server_after: float | None = None
        self.answer = b""
        self.started_dripping = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        self.sock.settimeout(self.interval)
        try:
            for offset in range(len(self.request)):
                self.sock.sendall(self.request[offset : offset + 1])
                self.started_dripping.set()
                if time.monotonic() >= self.until:
                    return
                try:
                    data = self.sock.recv(4096)
                except TimeoutError:
                    continue  # the server is still waiting: the next byte
                self.answer = data
                self.closed_by_server_after = time.monotonic() - started
                return
        except OSError:
            self.closed_by_server_after = time.monotonic() - started
        finally:
            self.started_dripping.set()
            self.sock.close()


def test_dripping_clients_do_not_starve_health_checks_or_writers(proxied_ingest: str) -> None:
    port = int(proxied_ingest.rsplit(":", 1)[1])
    credentials = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    status, body, _ = timed_call(
        f"{proxied_ingest}/auth/login", headers={"Authorization": f"Basic {credentials}"}
    )
    assert status == 200, body
    token = json.loads(body)["token"]["access"]

    # Half drip their headers, half a body after complete headers; each for at most 20 s.
    until = time.monotonic() + 20
    header_drip = b"POST /log HTTP/1.1\r\nHost: ingest\r\nX-Padding: " + b"a" * 200
    body_drip = (
        b"POST /log HTTP/1.1\r\nHost: ingest\r\nAuthorization: Bearer " + token.encode()
        + b"\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
    )  # fmt: skip
    drippers = [
        Dripper(port, header_drip if n % 2 == 0 else body_drip, 1.0, until) for n in range(DRIPPERS)
    ]
    for dripper in drippers:
        dripper.start()
    for dripper in drippers:
        assert dripper.started_dripping.wait(10)
    try:
        # gunicorn has 2 workers of 4 threads: 50 slow clients straight on it leave none.
        for _ in range(3):
            status, _, seconds = timed_call(f"{proxied_ingest}/healthz")
            assert status == 200
            assert seconds < 1.0, f"/healthz took {seconds:.2f} s behind {DRIPPERS} drips"
            status, body, seconds = timed_call(
                f"{proxied_ingest}/log",
                body=b"a line while others drip\n",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
            )
            assert status == 200, body
            assert json.loads(body)["accepted"] == 1
            assert seconds < 1.0, f"POST /log took {seconds:.2f} s behind {DRIPPERS} drips"
    finally:
        for dripper in drippers:
            dripper.join(30)

    # Headers must arrive whole within client_header_timeout (10 s): nginx cut those off.
    header_drippers = drippers[::2]
    cut = [d.closed_by_server_after for d in header_drippers]
    assert all(after is not None and after < 15 for after in cut), cut
    assert all(d.answer == b"" or d.answer.startswith(b"HTTP/1.1 408") for d in header_drippers)


def test_the_proxy_passes_the_client_address_and_bounds_the_body(
    proxied_ingest: str, redis_url: str
) -> None:
    import redis as redis_lib

    from logagg.queues import PARSE, job_queue

    credentials = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    _, body, _ = timed_call(
        f"{proxied_ingest}/auth/login", headers={"Authorization": f"Basic {credentials}"}
    )
    token = json.loads(body)["token"]["access"]
    auth = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.9"}
    status, body, _ = timed_call(f"{proxied_ingest}/log", body=b"one\n", headers=auth)
    assert status == 200, body
    (job,) = job_queue(PARSE, redis_lib.Redis.from_url(redis_url)).get_jobs()
    # nginx replaces what the client claimed with the address it saw
    payload: dict[str, Any] = job.args[0]
    assert payload["source_ip"] == "127.0.0.1"
    status, _, _ = timed_call(
        f"{proxied_ingest}/log", body=b"x" * (10 * 1024 * 1024 + 1), headers=auth
    )
    assert status == 413
