"""``logagg users``: manage the ingest service's users through its HTTP API.

Talks to the running ingest service (``LOGAGG_URL``), never to Redis, so every rule of
the API holds (name and password rules, case-insensitive names, the last admin stays,
tokens revoked on a change) and the server's message is what the operator reads.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import TextIO

from logagg.api_client import IngestClient, IngestError, IngestRefused
from logagg.command_line import CommandFailed, fail, help_parser, settings_message
from logagg.errors import SettingsError
from logagg.settings import IngestClientSettings

PROG = "logagg users"
ROLES = ("writer", "admin")

EXAMPLES = """
  logagg users list
  logagg users add checkout                        prompts for the new password twice
  printf '%s\\n' "$PASSWORD" | logagg users add checkout --password-stdin
  logagg users add alice --role admin
  logagg users passwd checkout                     an admin sets a new password
  LOGAGG_ADMIN_USERNAME=checkout logagg users passwd checkout
                                                   a writer changes its own password
  logagg users delete checkout                     its tokens stop working at once

The commands log in to the ingest service at LOGAGG_URL (default http://127.0.0.1:3001)
as LOGAGG_ADMIN_USERNAME (default admin, or --admin) with LOGAGG_ADMIN_PASSWORD, or a
prompt when that is unset. New passwords come from --password-stdin (the first line) or
a prompt; --password VALUE works too, but the value then shows in `ps` and the shell's
history.
"""


def _parser() -> argparse.ArgumentParser:
    parser = help_parser(
        PROG, "Add, list, re-password and delete users of the ingest service.", EXAMPLES
    )
    parser.add_argument("--url", help="the ingest service (default: LOGAGG_URL)")
    parser.add_argument("--admin", help="log in as this user (default: LOGAGG_ADMIN_USERNAME)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_password(sub: argparse.ArgumentParser) -> None:
        source = sub.add_mutually_exclusive_group()
        source.add_argument(
            "--password-stdin", action="store_true", help="read the new password from stdin"
        )
        source.add_argument(
            "--password", help="the new password (visible to other local users: avoid)"
        )

    def sub(name: str, help_text: str, examples: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"examples:\n{examples}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    add = sub(
        "add",
        "create a user (409 if the name exists in any letter case)",
        "  logagg users add checkout\n"
        "  printf '%s\\n' \"$PASSWORD\" | logagg users add checkout --password-stdin\n"
        "  logagg users add alice --role admin",
    )
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="writer", help="default: writer")
    with_password(add)
    listing = sub("list", "every user and role", "  logagg users list\n  logagg users list --json")
    listing.add_argument("--json", action="store_true", help="the users as one JSON array")
    passwd = sub(
        "passwd",
        "set a user's password; the user's older tokens stop working",
        "  logagg users passwd checkout\n"
        "  LOGAGG_ADMIN_USERNAME=checkout logagg users passwd checkout   (its own)",
    )
    passwd.add_argument("username")
    with_password(passwd)
    delete = sub("delete", "delete a user (never the last admin)", "  logagg users delete checkout")
    delete.add_argument("username")
    return parser


Prompt = Callable[[str], str]


def new_password(args: argparse.Namespace, stdin: TextIO, prompt: Prompt) -> str:
    """The new password from ``--password``, stdin, or two matching prompts."""
    if args.password is not None:
        return str(args.password)
    if args.password_stdin:
        line = stdin.readline().rstrip("\r\n")
        if not line:
            raise CommandFailed("--password-stdin: stdin holds no password")
        return line
    if not stdin.isatty():
        raise CommandFailed("no password: give --password-stdin, or run on a terminal")
    first = prompt(f"new password for {args.username}: ")
    if prompt("again: ") != first:
        raise CommandFailed("the two passwords differ")
    return first


def admin_password(
    settings: IngestClientSettings, admin: str, stdin: TextIO, prompt: Prompt
) -> str:
    if settings.admin_password is not None:
        return settings.admin_password.reveal()
    if not stdin.isatty():
        raise CommandFailed(
            f"no password for {admin!r}: set LOGAGG_ADMIN_PASSWORD, or run on a terminal"
        )
    return prompt(f"password of {admin} at {settings.url}: ")


def run(
    args: argparse.Namespace,
    client: IngestClient,
    admin: str,
    out: TextIO,
    stdin: TextIO,
    prompt: Prompt,
) -> None:
    """Carry out a parsed ``logagg users`` command with a logged-in ``client``."""
    if args.command == "list":
        users = client.request("GET", "/auth/users").get("users", [])
        if args.json:
            out.write(json.dumps(users) + "\n")
            return
        width = max([len("username")] + [len(str(u.get("username", ""))) for u in users])
        out.write(f"{'username'.ljust(width)}  role\n")
        for user in users:
            out.write(f"{str(user.get('username', '')).ljust(width)}  {user.get('role', '')}\n")
        return
    if args.command == "add":
        body = {"username": args.username, "password": new_password(args, stdin, prompt)}
        answer = client.request("POST", "/auth/register", {**body, "role": args.role})
        user = answer.get("user", {})
        out.write(f"created {user.get('username', args.username)} ({user.get('role', '')})\n")
        return
    if args.command == "passwd":
        body = {"username": args.username, "password": new_password(args, stdin, prompt)}
        if args.username.lower() == admin.lower():
            # one's own password: the server asks a non-admin for the old one
            body["old_password"] = args.login_password
        client.request("PUT", "/auth/user/password", body)
        out.write(f"password of {args.username} changed; its older tokens no longer work\n")
        return
    client.request("DELETE", "/auth/user", {"username": args.username})
    out.write(f"deleted {args.username}\n")


def main(
    argv: list[str] | None = None,
    *,
    out: TextIO | None = None,
    stdin: TextIO | None = None,
    prompt: Prompt = getpass.getpass,
) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    try:
        settings = IngestClientSettings.from_env(os.environ)
    except SettingsError as error:
        return fail(PROG, settings_message(error))
    admin = args.admin or settings.admin_username
    client = IngestClient(args.url or settings.url, timeout=settings.timeout)
    try:
        if args.command in ("add", "passwd"):
            # read the new password before any prompt for the admin's, so stdin is not shared
            args.password = new_password(args, stdin, prompt)
        args.login_password = admin_password(settings, admin, stdin, prompt)
        try:
            client.login(admin, args.login_password)
        except IngestRefused as error:
            raise IngestError(f"login as {admin!r} failed: {error}") from error
        run(args, client, admin, out, stdin, prompt)
    except (CommandFailed, IngestError) as error:
        return fail(PROG, str(error))
    except KeyboardInterrupt:
        return fail(PROG, "interrupted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
