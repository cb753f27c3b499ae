"""``logagg users`` against a real gunicorn ingest and a real Redis."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from logagg import users
from logagg.api_client import IngestClient, IngestRefused
from logagg.embedded import free_port

from .conftest import ADMIN, BASE_ENV
from .servers import running_ingest

ADMIN_NAME, ADMIN_PASSWORD = ADMIN


@pytest.fixture
def ingest(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A running ingest whose first admin is ADMIN; the command's settings point at it."""
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


def command(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = users.main(list(argv), out=out, stdin=io.StringIO(stdin), prompt=refuse_prompt)
    return code, out.getvalue()


def refuse_prompt(text: str) -> str:
    raise AssertionError(f"unexpected prompt: {text}")


def can_log_in(base: str, username: str, password: str) -> bool:
    """True if the login works; False if the server answers 401 (anything else fails)."""
    try:
        IngestClient(base).login(username, password)
    except IngestRefused as error:
        if error.status != 401:
            raise
        return False
    return True


@pytest.mark.integration
def test_add_list_passwd_delete(ingest: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = command("add", "checkout", "--password-stdin", stdin="checkout-password-1\n")
    assert (code, out) == (0, "created checkout (writer)\n")
    assert can_log_in(ingest, "checkout", "checkout-password-1")

    code, out = command("list")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["username", "role"]
    assert sorted(rows[1:]) == [["admin", "admin"], ["checkout", "writer"]]
    code, out = command("list", "--json")
    assert sorted(json.loads(out), key=lambda u: u["username"]) == [
        {"username": "admin", "role": "admin"},
        {"username": "checkout", "role": "writer"},
    ]

    code, out = command("passwd", "checkout", "--password", "checkout-password-2")
    assert code == 0
    assert can_log_in(ingest, "checkout", "checkout-password-2")
    assert not can_log_in(ingest, "checkout", "checkout-password-1")

    code, out = command("delete", "checkout")
    assert (code, out) == (0, "deleted checkout\n")
    assert not can_log_in(ingest, "checkout", "checkout-password-2")
    assert capsys.readouterr().err == ""


@pytest.mark.integration
def test_an_admin_is_added_and_a_writer_changes_its_own_password(
    ingest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert command("add", "alice", "--role", "admin", "--password", "alice-password-1")[0] == 0
    assert command("add", "svc", "--password", "svc-password-01")[0] == 0
    # a writer logs in as itself: its login password is the old one the server asks for
    monkeypatch.setenv("LOGAGG_ADMIN_USERNAME", "svc")
    monkeypatch.setenv("LOGAGG_ADMIN_PASSWORD", "svc-password-01")
    assert command("passwd", "svc", "--password", "svc-password-02")[0] == 0
    assert can_log_in(ingest, "svc", "svc-password-02")
    monkeypatch.setenv("LOGAGG_ADMIN_USERNAME", "alice")
    monkeypatch.setenv("LOGAGG_ADMIN_PASSWORD", "alice-password-1")
    assert command("delete", "svc")[0] == 0


@pytest.mark.integration
def test_refusals_are_the_servers_message_on_one_line(
    ingest: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command("add", "checkout", "--password", "checkout-password-1")[0] == 0
    capsys.readouterr()

    def refused(*argv: str, stdin: str = "") -> str:
        code, out = command(*argv, stdin=stdin)
        err = capsys.readouterr().err
        assert code == 1, (argv, out, err)
        assert out == ""
        assert len(err.splitlines()) == 1, err
        assert "Traceback" not in err
        return err.strip()

    assert refused("add", "CheckOut", "--password", "another-password-1") == (
        "logagg users: user 'CheckOut' exists already (HTTP 409 user_exists)"
    )
    assert refused("add", "shorty", "--password", "short") == (
        "logagg users: password: 12 to 1024 characters required (HTTP 400 invalid_user)"
    )
    assert refused("passwd", "nobody", "--password", "nobody-password-1") == (
        "logagg users: no user 'nobody' (HTTP 404 user_not_found)"
    )
    assert refused("delete", "admin") == (
        "logagg users: the last admin cannot be deleted (HTTP 409 last_admin)"
    )
    assert refused("add", "x1", "--password-stdin", stdin="") == (
        "logagg users: --password-stdin: stdin holds no password"
    )
    assert refused("add", "x1") == (
        "logagg users: no password: give --password-stdin, or run on a terminal"
    )

    monkeypatch.setenv("LOGAGG_ADMIN_USERNAME", "checkout")
    monkeypatch.setenv("LOGAGG_ADMIN_PASSWORD", "checkout-password-1")
    assert refused("list") == "logagg users: this route is for admins (HTTP 403 forbidden)"
    assert refused("add", "y1", "--password", "y1-password-0001") == (
        "logagg users: this route is for admins (HTTP 403 forbidden)"
    )
    assert refused("passwd", "admin", "--password", "admin-password-9") == (
        "logagg users: only admins change other users' passwords (HTTP 403 forbidden)"
    )

    monkeypatch.setenv("LOGAGG_ADMIN_USERNAME", "admin")
    monkeypatch.setenv("LOGAGG_ADMIN_PASSWORD", "wrong-password-1")
    assert refused("list") == (
        "logagg users: login as 'admin' failed: invalid username or password "
        "(HTTP 401 invalid_credentials)"
    )
    monkeypatch.delenv("LOGAGG_ADMIN_PASSWORD")
    assert refused("list") == (
        "logagg users: no password for 'admin': set LOGAGG_ADMIN_PASSWORD, or run on a terminal"
    )


@pytest.mark.integration
def test_an_unreachable_ingest_is_one_line_without_a_traceback() -> None:
    env = {
        **os.environ,
        "LOGAGG_URL": f"http://127.0.0.1:{free_port()}",
        "LOGAGG_ADMIN_PASSWORD": "whatever-password",
    }
    result = subprocess.run(
        [sys.executable, "-m", "logagg.cli", "users", "list"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"logagg users: cannot reach ingest at {env['LOGAGG_URL']}: [Errno 111] Connection refused"
    )
    assert len(result.stderr.splitlines()) == 1


def test_prompts_ask_twice_and_must_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    parsed = users._parser().parse_args(["add", "bob"])
    answers = iter(["bob-password-01", "bob-password-01"])
    assert users.new_password(parsed, Terminal(), lambda _: next(answers)) == "bob-password-01"
    answers = iter(["bob-password-01", "bob-password-02"])
    with pytest.raises(users.CommandFailed, match="the two passwords differ"):
        users.new_password(parsed, Terminal(), lambda _: next(answers))


def test_help_shows_examples_and_the_risk_of_password(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        users.main(["--help"])
    out = capsys.readouterr().out
    assert "examples:\n  logagg users list" in out
    assert "--password-stdin" in out
    assert "shows in `ps`" in out
    for command in ("add", "list", "passwd", "delete"):
        with pytest.raises(SystemExit):
            users.main([command, "--help"])
        assert f"examples:\n  logagg users {command}" in capsys.readouterr().out, command
