"""``logagg dlq``: list, count (stats), replay and purge the shipper's dead letters."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

from redis.exceptions import RedisError

from logagg.command_line import fail, help_parser, settings_message
from logagg.errors import SettingsError
from logagg.redis_connection import connect_redis
from logagg.settings import mask_url
from logagg.shipper.deadletter import SINKS, DeadLetterStore, Filter
from logagg.shipper.settings import ShipperSettings

PROG = "logagg dlq"

EXAMPLES = """
  logagg dlq stats                                  entries per sink and reason, dropped count
  logagg dlq stats --json
  logagg dlq list --sink elasticsearch --limit 10   oldest first, with the error text
  logagg dlq list --reason document_parsing_exception --json > letters.ndjson
  logagg dlq replay --reason document_parsing_exception   after fixing the mapping
  logagg dlq replay --id 'elasticsearch:b1f0c2-17'
  logagg dlq purge --sink archive --yes

`count` is another name for `stats`. Replayed entries go back to their sink's queue
(ship-es or ship-s3) with their original batch and event ids, so a replay never makes a
second copy; an entry that fails again comes back with its new reason.
"""

SUBCOMMAND_EXAMPLES = {
    "list": "  logagg dlq list --limit 20\n  logagg dlq list --sink archive --json",
    "stats": "  logagg dlq stats\n  logagg dlq stats --sink elasticsearch --json",
    "replay": "  logagg dlq replay --sink elasticsearch\n  logagg dlq replay --id ID --id ID2",
    "purge": "  logagg dlq purge --reason s3:NoSuchBucket --yes",
}


def _parser() -> argparse.ArgumentParser:
    parser = help_parser(PROG, "The shipper's dead-letter store (in Redis, REDIS_URL).", EXAMPLES)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def sub(name: str, help_text: str, aliases: list[str] | None = None) -> argparse.ArgumentParser:
        parser = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            aliases=aliases or [],
            epilog=f"examples:\n{SUBCOMMAND_EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("--sink", choices=SINKS)
        parser.add_argument("--reason", help="only entries with exactly this reason")
        parser.add_argument("--id", dest="ids", action="append", default=[], help="an entry id")
        return parser

    listing = sub("list", "entries, oldest first, with reasons")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON entry per line, events too")
    stats = sub("stats", "entries per sink and reason, and those dropped over the cap", ["count"])
    stats.add_argument("--json", action="store_true", help="one JSON object")
    sub("replay", "re-enqueue entries (after a fix) and remove them")
    purge = sub("purge", "delete entries")
    purge.add_argument("--yes", action="store_true", help="required: purging cannot be undone")
    return parser


def _stats(store: DeadLetterStore, where: Filter, as_json: bool, out: TextIO) -> None:
    counts = store.count_by_reason(where)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(counts.values())
    if as_json:
        by_sink: dict[str, dict[str, int]] = {}
        for (sink, reason), count in ordered:
            by_sink.setdefault(sink, {})[reason] = count
        answer = {"total": total, "by_sink": by_sink, "dropped_over_cap": store.dropped()}
        out.write(json.dumps(answer, sort_keys=True) + "\n")
        return
    for (sink, reason), count in ordered:
        out.write(f"{count:>8}  {sink}  {reason}\n")
    out.write(f"{total:>8}  total (dropped over the cap: {store.dropped()})\n")


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
    if args.command in ("stats", "count"):
        _stats(store, where, args.json, out)
        return 0
    if args.command == "replay":
        events = store.replay(where)
        out.write(f"re-enqueued {events} event(s)\n")
        return 0
    if not args.yes:
        print(f"{PROG}: purge deletes entries for good; add --yes", file=sys.stderr)
        return 2
    out.write(f"purged {store.purge(where)} entr(y/ies)\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = ShipperSettings.from_env(os.environ)
    except SettingsError as error:
        return fail(PROG, settings_message(error))
    store = DeadLetterStore(
        connect_redis(settings.redis), max_entries=settings.deadletter_max_entries
    )
    try:
        return run(args, store, sys.stdout)
    except RedisError as error:
        return fail(PROG, f"Redis at {mask_url(settings.redis.url)} did not answer: {error}")
