"""A real syslog-ng ships a growing file to a real gunicorn ingest with an API key.

syslog-ng's ``http()`` destination sends one fixed ``Authorization`` header, so it can
only keep shipping past an access token's lifetime with a key. The ingest here issues
tokens that live one second (six with the clock leeway tokens are checked with); the file
grows for twice that.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from logagg.ingest.auth.tokens import LEEWAY_SECONDS
from logagg.queues import PARSE, job_queue
from logagg.receipts import read_receipt

from .conftest import ADMIN, BASE_ENV
from .servers import running_ingest

ROOT = Path(__file__).resolve().parents[2]
SYSLOG_NG_DIR = ROOT / ".cache" / "syslog-ng"
TOKEN_TTL = 1.0
# How long a token is taken after it was issued.
TOKEN_LIFETIME = TOKEN_TTL + LEEWAY_SECONDS
SHIPPING_SECONDS = 2 * TOKEN_LIFETIME
LINE_INTERVAL = 0.05
ARRIVAL_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def call(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{path}: {error.code} {error.read()!r}") from error
    return answer


def syslog_ng_binary() -> tuple[Path, Path]:
    """The unpacked syslog-ng and its module folder (``make syslog-ng`` puts them there)."""
    binary = SYSLOG_NG_DIR / "usr" / "sbin" / "syslog-ng"
    modules = sorted((SYSLOG_NG_DIR / "usr" / "lib" / "syslog-ng").glob("*/libhttp.so"))
    missing = f"no syslog-ng in {SYSLOG_NG_DIR}: run `make syslog-ng`"
    assert binary.is_file(), missing
    assert modules, missing
    return binary, modules[-1].parent


CONFIG = """@version: 3.38
options {{ stats-freq(0); }};
source s_app {{ file("{source}" follow-freq(0.1) flags(no-parse)); }};
destination d_ingest {{
  http(
    url("{url}/log")
    method("POST")
    headers("Authorization: ApiKey {key}", "Content-Type: text/plain")
    body("${{MESSAGE}}")
    delimiter("\\n")
    batch-lines(25)
    batch-timeout(300)
    timeout(10)
  );
}};
log {{ source(s_app); destination(d_ingest); }};
"""


@pytest.fixture
def ingest(redis_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = {
        **BASE_ENV,
        "REDIS_URL": redis_url,
        "LOGAGG_INGEST_WORKERS": "1",
        "LOGAGG_ADMIN_USERNAME": ADMIN[0],
        "LOGAGG_ADMIN_PASSWORD": ADMIN[1],
        "LOGAGG_ACCESS_TOKEN_TTL": f"{TOKEN_TTL:.0f}s",
    }
    log = tmp_path / "ingest.log"
    with running_ingest(env, log) as base:
        yield base, log


def wait_for(condition: Any, timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def stored_lines(client: redis_lib.Redis) -> list[tuple[str, str, str]]:
    """``(line, service, received_at)`` of every batch waiting in the parse queue."""
    return [
        (line, job.args[0]["service"], job.args[0]["received_at"])
        for job in job_queue(PARSE, client).get_jobs()
        for line in job.args[0]["lines"]
    ]


def start_syslog_ng(tmp_path: Path, config: str) -> subprocess.Popen[bytes]:
    binary, modules = syslog_ng_binary()
    (tmp_path / "syslog-ng.conf").write_text(config)
    libraries = [SYSLOG_NG_DIR / "usr" / "lib" / "syslog-ng"]
    libraries += sorted(SYSLOG_NG_DIR.glob("usr/lib/*-linux-gnu")) + sorted(
        SYSLOG_NG_DIR.glob("lib/*-linux-gnu")
    )
    env = {**os.environ, "LD_LIBRARY_PATH": ":".join(str(path) for path in libraries)}
    return subprocess.Popen(
        [
            str(binary),
            "-F",
            "--no-caps",
            "--stderr",
            f"--module-path={modules}",
            "-f",
            str(tmp_path / "syslog-ng.conf"),
            "-R",
            str(tmp_path / "syslog-ng.persist"),
            "-p",
            str(tmp_path / "syslog-ng.pid"),
            "-c",
            str(tmp_path / "syslog-ng.ctl"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "syslog-ng.err").open("wb"),
        env=env,
    )


def stop(process: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM, then SIGKILL if it has not exited within the bound; its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
            return None
    return process.returncode


@pytest.mark.integration
def test_syslog_ng_ships_past_the_token_lifetime_with_a_key(
    ingest: tuple[str, Path], redis_url: str, tmp_path: Path
) -> None:
    base, ingest_log = ingest
    login = urllib.request.Request(
        f"{base}/auth/login",
        method="POST",
        data=json.dumps({"username": ADMIN[0], "password": ADMIN[1]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=10) as response:
        admin = {"Authorization": f"Bearer {json.loads(response.read())['token']['access']}"}
    call(base, "/auth/register", {"username": "web-1", "password": "web-1-password-x"}, admin)
    key = call(base, "/auth/keys", {"username": "web-1", "name": "syslog-ng"}, admin)["key"]

    source = tmp_path / "app.log"
    source.write_bytes(b"")
    process = start_syslog_ng(tmp_path, CONFIG.format(source=source, url=base, key=key))
    client = redis_lib.Redis.from_url(redis_url)
    expected: list[str] = []
    try:
        started = time.monotonic()
        with source.open("a") as out:
            while time.monotonic() - started < SHIPPING_SECONDS:
                line = f"2026-12-04 21:00:00 INFO web-1 request {len(expected):05d} served"
                out.write(line + "\n")
                out.flush()
                expected.append(line)
                assert process.poll() is None, (tmp_path / "syslog-ng.err").read_text()
                time.sleep(LINE_INTERVAL)  # the file grows at a steady pace
        wait_for(
            lambda: len(stored_lines(client)) >= len(expected),
            ARRIVAL_TIMEOUT,
            f"{len(expected)} lines in the parse queue",
        )
    finally:
        status = stop(process)
    errors = (tmp_path / "syslog-ng.err").read_text()
    assert status == 0, errors

    stored = stored_lines(client)
    assert sorted(line for line, _, _ in stored) == expected  # every line, once
    assert {service for _, service, _ in stored} == {"web-1"}
    received = sorted({at for _, _, at in stored})
    first, last = (datetime.fromisoformat(at) for at in (received[0], received[-1]))
    # Requests went on well past the lifetime of any token issued when shipping began.
    assert (last - first).total_seconds() > TOKEN_LIFETIME
    assert len(job_queue(PARSE, client).get_jobs()) > 1

    # The key is in no receipt, nowhere in the ingest log, and never in syslog-ng's errors.
    for job in job_queue(PARSE, client).get_jobs():
        receipt = read_receipt(client, job.args[0]["batch_id"])
        assert receipt is not None
        assert key not in repr(receipt)
    secret = key.split("_", 2)[2]
    assert secret not in ingest_log.read_text()
    # (as a status, not inside a timestamp's digits)
    assert re.search(r"\b40[13]\b", errors) is None, errors
