"""``/docs`` in a real headless Chromium against a real gunicorn: Swagger UI renders.

Swagger UI builds the operation list in the browser from ``/openapi.json``, so finding
``/log`` in the rendered DOM proves the page's scripts loaded from this server and ran.
Chromium comes from Debian (``make chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import BASE_ENV
from .servers import running_ingest

pytestmark = pytest.mark.integration


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no chromium on PATH: `make chromium` installs Debian's")


def headless(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # the tests may run as root, where the sandbox refuses to start
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            # loopback only: no updates, sync or lookups, and no name but 127.0.0.1 resolves
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            # time for the scripts to fetch /openapi.json and render before the dump
            "--virtual-time-budget=15000",
            "--window-size=1280,2000",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_swagger_ui_renders_the_operations(redis_url: str, tmp_path: Path) -> None:
    env = {**BASE_ENV, "REDIS_URL": redis_url, "LOGAGG_INGEST_WORKERS": "1"}
    with running_ingest(env, tmp_path / "ingest.log") as base:
        dumped = headless(f"{base}/docs", tmp_path / "profile-dom", "--dump-dom")
        assert dumped.returncode == 0, dumped.stderr[-2000:]
        dom = dumped.stdout
        assert 'class="swagger-ui' in dom, "Swagger UI did not start"
        assert 'data-path="/log"' in dom, "the /log operation was not rendered"
        assert 'data-path="/auth/login"' in dom
        assert "LogAggregator ingest" in dom, "the document's title was not rendered"

        screenshot = tmp_path / "docs.png"
        shot = headless(f"{base}/docs", tmp_path / "profile-shot", f"--screenshot={screenshot}")
        assert shot.returncode == 0, shot.stderr[-2000:]
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert screenshot.stat().st_size > 20_000, "a blank page would compress to little"
