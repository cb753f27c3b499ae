"""``logagg keys``: create, list and revoke API keys through the ingest service's HTTP API.

Like ``logagg users``, it logs in to the running ingest service (``LOGAGG_URL``) as an
admin and never touches Redis, so keys are made, hashed and checked in one place.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import urllib.parse
from typing import Any, TextIO

from logagg.api_client import IngestClient, IngestError, IngestRefused
from logagg.command_line import CommandFailed, fail, help_parser, settings_message
from logagg.errors import SettingsError
from logagg.settings import IngestClientSettings
from logagg.users import Prompt, admin_password

PROG = "logagg keys"
SCOPES = ("ingest", "admin")

EXAMPLES = """
  logagg keys create web-1 --name "syslog-ng on web-1"     prints the key, once
  KEY=$(logagg keys create web-1 --expires-in 90d)
  logagg keys create alice --scope ingest --scope admin    an admin's key for admin routes
  logagg keys list
  logagg keys list --username web-1 --json
  logagg keys revoke 3f9c0a7e5b2d4c18                      stops working at once

The commands log in to the ingest service at LOGAGG_URL (default http://127.0.0.1:3001)
as LOGAGG_ADMIN_USERNAME (default admin, or --admin) with LOGAGG_ADMIN_PASSWORD, or a
prompt when that is unset. `create` prints the key alone on stdout and what it is on
stderr; the key is never shown again.
"""


def _parser() -> argparse.ArgumentParser:
    parser = help_parser(PROG, "Create, list and revoke API keys for shippers.", EXAMPLES)
    parser.add_argument("--url", help="the ingest service (default: LOGAGG_URL)")
    parser.add_argument("--admin", help="log in as this user (default: LOGAGG_ADMIN_USERNAME)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def sub(name: str, help_text: str, examples: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"examples:\n{examples}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    create = sub(
        "create",
        "create a key for a user; the key is printed this once",
        "  logagg keys create web-1 --name 'syslog-ng on web-1' --expires-in 90d",
    )
    create.add_argument("username", help="whose key: its events carry this service name")
    create.add_argument("--name", default="", help="what the key is for")
    expiry = create.add_mutually_exclusive_group()
    expiry.add_argument("--expires-in", help="a duration: 90d, 12h (default: never)")
    expiry.add_argument("--expires-at", help="an RFC 3339 time: 2027-01-01T00:00:00Z")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        help="repeatable; default: ingest (post logs, read one's receipts)",
    )
    create.add_argument("--json", action="store_true", help="the whole answer as JSON")
    listing = sub("list", "every key (never the keys themselves)", "  logagg keys list --json")
    listing.add_argument("--username", help="only this user's keys")
    listing.add_argument("--json", action="store_true", help="the keys as one JSON array")
    revoke = sub("revoke", "revoke a key by its id", "  logagg keys revoke 3f9c0a7e5b2d4c18")
    revoke.add_argument("key_id")
    return parser


def _table(keys: list[dict[str, Any]], out: TextIO) -> None:
    columns = ("id", "username", "scopes", "expires_at", "last_used", "name")
    rows = [
        [
            ",".join(key.get("scopes", []))
            if name == "scopes"
            else str(key.get(name) if key.get(name) is not None else "-")
            for name in columns
        ]
        for key in keys
    ]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(columns)]
    for row in [list(columns), *rows]:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            + "\n"
        )


def run(args: argparse.Namespace, client: IngestClient, out: TextIO, err: TextIO) -> None:
    """Carry out a parsed ``logagg keys`` command with a logged-in ``client``."""
    if args.command == "create":
        body: dict[str, Any] = {"username": args.username, "name": args.name}
        if args.expires_in is not None:
            body["expires_in"] = args.expires_in
        if args.expires_at is not None:
            body["expires_at"] = args.expires_at
        if args.scope:
            body["scopes"] = sorted(set(args.scope))
        answer = client.request("POST", "/auth/keys", body)
        if args.json:
            out.write(json.dumps(answer) + "\n")
            return
        meta = answer.get("api_key", {})
        out.write(f"{answer.get('key', '')}\n")
        scopes = ",".join(meta.get("scopes", []))
        expires = meta.get("expires_at") or "never"
        err.write(
            f"created key {meta.get('id', '')} for {meta.get('username', args.username)} "
            f"(scopes {scopes}, expires {expires}); it is shown this once\n"
        )
        return
    if args.command == "list":
        query = f"?{urllib.parse.urlencode({'username': args.username})}" if args.username else ""
        keys = client.request("GET", f"/auth/keys{query}").get("keys", [])
        if args.json:
            out.write(json.dumps(keys) + "\n")
        else:
            _table(keys, out)
        return
    answer = client.request("DELETE", f"/auth/keys/{urllib.parse.quote(args.key_id, safe='')}")
    meta = answer.get("api_key", {})
    out.write(f"revoked key {args.key_id} of {meta.get('username', '?')}\n")


def main(
    argv: list[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
    prompt: Prompt = getpass.getpass,
) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    try:
        settings = IngestClientSettings.from_env(os.environ)
    except SettingsError as error:
        return fail(PROG, settings_message(error), err)
    admin = args.admin or settings.admin_username
    client = IngestClient(args.url or settings.url, timeout=settings.timeout)
    try:
        password = admin_password(settings, admin, stdin, prompt)
        try:
            client.login(admin, password)
        except IngestRefused as error:
            raise IngestError(f"login as {admin!r} failed: {error}") from error
        run(args, client, out, err)
    except (CommandFailed, IngestError) as error:
        return fail(PROG, str(error), err)
    except KeyboardInterrupt:
        return fail(PROG, "interrupted", err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
