"""The ``logagg`` command: starts a service by name.

Services are found by dotted path when asked for, so this shared module never imports a
service's code unless that service is the one being started.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from logagg.redis_connection import RedisTooOld

# command -> (module whose `main(argv)` runs it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("logagg.stack", "the whole pipeline on this machine until Ctrl-C (`make run`)"),
    "ingest": ("logagg.ingest.__main__", "the HTTP intake (gunicorn) on LOGAGG_INGEST_PORT"),
    "parser": ("logagg.parser.__main__", "a parser worker on the `parse` queue"),
    "shipper": ("logagg.shipper.__main__", "a shipper worker (`es` or `s3` sink)"),
    "dlq": ("logagg.shipper.dlq_cli", "the shipper's dead letters: list, stats, replay, purge"),
    "replay": ("logagg.shipper.replay_cli", "re-ship archived events of a window to Elasticsearch"),
    "status": ("logagg.status", "queue depths, workers, retries, failures and dead letters"),
    "users": ("logagg.users", "add, list, re-password or delete ingest users (over HTTP)"),
    "keys": ("logagg.keys", "create, list or revoke API keys for shippers (over HTTP)"),
    "dashboard": ("logagg.dashboard", "RQ's web view of the queues, workers and jobs"),
    "search": ("logagg.search", "search the indexed events, newest first"),
    "kibana": ("logagg.kibana", "import the Kibana data view, searches and dashboard"),
    "ship": ("logagg.client.ship", "send log files to ingest in batches, resumably"),
    "tail": ("logagg.client.tail", "follow log files across rotation and ship new lines"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logagg",
        description="LogAggregator: start a service, or run an operator command.",
        epilog="Settings come from the environment; see the README's settings table.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parsed, rest = _parser().parse_known_args(args[:1])
    module_name, _ = COMMANDS[parsed.command]
    run: Callable[[list[str]], int] = importlib.import_module(module_name).main
    try:
        return run(rest + args[1:])
    except RedisTooOld as error:
        # Raised by the first command on a connection to a server older than the floor:
        # one line, not a traceback, for every service and operator command alike.
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
