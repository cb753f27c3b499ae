"""``logagg keys`` against a real gunicorn ingest and a real Redis."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from logagg import keys, users

from .conftest import ADMIN, BASE_ENV
from .servers import running_ingest

ADMIN_NAME, ADMIN_PASSWORD = ADMIN


@pytest.fixture
def ingest(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A running ingest whose first admin is ADMIN; the commands' settings point at it."""
    env = {
        **BASE_ENV,
        "REDIS_URL": redis_url,
        "LOGAGG_INGEST_WORKERS": "1",
        "LOGAGG_ADMIN_USERNAME": ADMIN_NAME,
        "LOGAGG_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with running_ingest(env, tmp_path / "ingest.log") as base:
        monkeypatch.setenv("LOGAGG_URL", base)
        monkeypatch.setenv("LOGAGG_ADMIN_USERNAME", ADMIN_NAME)
        monkeypatch.setenv("LOGAGG_ADMIN_PASSWORD", ADMIN_PASSWORD)
        yield base


def command(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = keys.main(list(argv), out=out, err=err, stdin=io.StringIO(), prompt=refuse_prompt)
    return code, out.getvalue(), err.getvalue()


def refuse_prompt(text: str) -> str:
    raise AssertionError(f"unexpected prompt: {text}")


def post_with(base: str, key: str) -> int:
    request = urllib.request.Request(
        f"{base}/log",
        data=b"a line from a shipper\n",
        method="POST",
        headers={"Authorization": f"ApiKey {key}", "Content-Type": "text/plain"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.integration
def test_create_use_list_revoke(ingest: str) -> None:
    assert users.main(["add", "web-1", "--password", "web-1-password-x"], out=io.StringIO()) == 0
    code, out, err = command("create", "web-1", "--name", "syslog-ng", "--expires-in", "30d")
    assert code == 0, err
    key = out.strip()
    assert out == f"{key}\n"
    assert key.startswith("lgk_")
    key_id = key.split("_")[1]
    assert err.startswith(f"created key {key_id} for web-1 (scopes ingest, expires 20")
    assert err.endswith("; it is shown this once\n")
    assert post_with(ingest, key) == 200

    code, out, _ = command("list", "--json")
    assert code == 0
    (listed,) = json.loads(out)
    assert listed["id"] == key_id
    assert listed["username"] == "web-1"
    assert listed["name"] == "syslog-ng"
    assert listed["last_used"] is not None
    assert key not in out
    code, out, _ = command("list", "--username", "web-1")
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["id", "username", "scopes", "expires_at", "last_used", "name"]
    assert [row[:3] for row in rows[1:]] == [[key_id, "web-1", "ingest"]]
    code, out, _ = command("list", "--username", "nobody")
    assert out.splitlines()[1:] == []

    assert command("revoke", key_id) == (0, f"revoked key {key_id} of web-1\n", "")
    assert post_with(ingest, key) == 401


@pytest.mark.integration
def test_refusals_are_the_servers_message_on_one_line(ingest: str) -> None:
    code, out, err = command("create", "nobody")
    assert (code, out) == (1, "")
    assert err == "logagg keys: no user 'nobody' (HTTP 404 user_not_found)\n"
    code, _, err = command("revoke", "0123456789abcdef")
    assert err == "logagg keys: no API key '0123456789abcdef' (HTTP 404 key_not_found)\n"
    code, _, err = command("create", ADMIN_NAME, "--expires-in", "soon")
    assert code == 1
    assert err == (
        "logagg keys: expires_in: seconds, or a duration such as 90d or 12h "
        "(HTTP 400 invalid_key_request)\n"
    )
    code, out, err = command("create", ADMIN_NAME, "--scope", "admin", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["api_key"]["scopes"] == ["admin"]
