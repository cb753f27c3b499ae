"""What ``logagg ship`` and ``logagg tail`` share: connection options, the state file,
and turning every expected failure into a one-line error and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from logagg.client.config import ENV_PASSWORD, ENV_URL, ENV_USERNAME, ClientConfig, resolve_config
from logagg.client.errors import ClientError, ConfigError
from logagg.client.state import default_state_path

CONNECTION_HELP = f"""connection (flags override the environment, which overrides --config):
  {ENV_URL}       base URL of ingest, e.g. http://127.0.0.1:3001
  {ENV_USERNAME}  the user to log in as
  {ENV_PASSWORD}  its password
"""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


MiB = 1024 * 1024
# what ship and tail send: the files' lines as they are
TEXT = "text/plain; charset=utf-8"


def add_file_options(parser: argparse.ArgumentParser, files_help: str) -> None:
    """The files and the batch bounds, as ``logagg ship`` and ``logagg tail`` take them."""
    parser.add_argument("files", nargs="+", metavar="FILE", help=files_help)
    parser.add_argument(
        "--batch-lines", type=positive_int, default=1000, help="lines per request (1000)"
    )
    parser.add_argument(
        "--batch-bytes",
        type=positive_int,
        default=4 * MiB,
        help="bytes per request before compression (4 MiB); a longer line is cut",
    )


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--url", help=f"ingest base URL (else ${ENV_URL})")
    group.add_argument("--username", help=f"user to log in as (else ${ENV_USERNAME})")
    group.add_argument(
        "--password", help=f"its password (prefer ${ENV_PASSWORD}: arguments are visible)"
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        help="the original client's JSON config (protocol, host, port, endpoint, username, "
        "password, login)",
    )
    group.add_argument(
        "--timeout", type=positive_float, default=10.0, help="seconds per network call (10)"
    )
    group.add_argument(
        "--attempts",
        type=positive_int,
        default=5,
        help="tries of one batch before giving up on a busy or unreachable server (5)",
    )
    parser.add_argument(
        "--state",
        metavar="PATH",
        type=Path,
        default=None,
        help=f"offsets file (default {default_state_path()})",
    )


def client_config(args: argparse.Namespace, environ: Mapping[str, str]) -> ClientConfig:
    config = resolve_config(
        environ,
        config_file=args.config,
        url=args.url,
        username=args.username,
        password=args.password,
    )
    return config.replace(timeout=args.timeout, attempts=args.attempts)


def state_path(args: argparse.Namespace) -> Path:
    return Path(args.state) if args.state is not None else default_state_path()


def absolute_files(names: Sequence[str], *, must_exist: bool) -> list[str]:
    """The files as absolute paths, checked up front when they ``must_exist`` (and then
    with symbolic links resolved: the file is what counts; otherwise the name is followed,
    as ``tail -F`` does)."""
    paths: list[str] = []
    for name in names:
        path = os.path.realpath(name) if must_exist else os.path.abspath(name)
        if must_exist:
            if not os.path.exists(path):
                raise ConfigError(f"{name}: no such file")
            if not os.path.isfile(path):
                raise ConfigError(f"{name}: not a regular file")
            if not os.access(path, os.R_OK):
                raise ConfigError(f"{name}: not readable")
        if path not in paths:
            paths.append(path)
    return paths


def run(prog: str, body: Callable[[], int]) -> int:
    """Run a command body; expected failures become ``<prog>: error: <message>``, exit 1."""
    try:
        return body()
    except ClientError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"{prog}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 1
