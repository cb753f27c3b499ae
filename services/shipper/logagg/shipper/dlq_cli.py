"""``logagg dlq``: list, count, replay and purge the shipper's dead letters."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from logagg.errors import SettingsError
from logagg.redis_connection import connect_redis
from logagg.shipper.deadletter import SINKS, DeadLetterStore, Filter
from logagg.shipper.settings import ShipperSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logagg dlq", description="The shipper's dead-letter store."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_filter(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--sink", choices=SINKS)
        sub.add_argument("--reason", help="only entries with exactly this reason")
        sub.add_argument("--id", dest="ids", action="append", default=[], help="an entry id")
        return sub

    listing = with_filter(commands.add_parser("list", help="entries, oldest first, with reasons"))
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON entry per line, events too")
    with_filter(commands.add_parser("count", help="entries per sink and reason"))
    with_filter(commands.add_parser("replay", help="re-enqueue entries (after a fix) and remove"))
    purge = with_filter(commands.add_parser("purge", help="delete entries"))
    purge.add_argument("--yes", action="store_true", help="required: purging cannot be undone")
    return parser


def run(args: argparse.Namespace, store: DeadLetterStore, out: TextIO) -> int:
    """Carry out a parsed ``logagg dlq`` command against ``store``."""
    where = Filter(sink=args.sink, reason=args.reason, ids=tuple(args.ids))
    if args.command == "list":
        for letter in store.entries(where, limit=args.limit):
            if args.json:
                out.write(letter.to_json() + "\n")
            else:
                out.write(
                    f"{letter.time}  {letter.id}  sink={letter.sink} reason={letter.reason} "
                    f"attempts={letter.attempts} events={len(letter.events)}\n"
                    f"    {letter.detail}\n"
                )
        return 0
    if args.command == "count":
        counts = store.count_by_reason(where)
        for (sink, reason), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.write(f"{count:>8}  {sink}  {reason}\n")
        out.write(f"{sum(counts.values()):>8}  total (dropped over the cap: {store.dropped()})\n")
        return 0
    if args.command == "replay":
        events = store.replay(where)
        out.write(f"re-enqueued {events} event(s)\n")
        return 0
    if not args.yes:
        out.write("purge deletes entries for good; add --yes\n")
        return 2
    out.write(f"purged {store.purge(where)} entr(y/ies)\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = ShipperSettings.from_env(os.environ)
    except SettingsError as error:
        print(f"logagg dlq: {error}", file=sys.stderr)
        return 2
    store = DeadLetterStore(
        connect_redis(settings.redis), max_entries=settings.deadletter_max_entries
    )
    return run(args, store, sys.stdout)
