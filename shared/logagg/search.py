"""``logagg search``: read the indexed events without Kibana.

Filters by text, service, level and time range, newest first, printed as a readable table
or as JSON lines. Building the query and formatting the answer are pure functions; the
command around them only talks to Elasticsearch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, TransportError

from logagg.elasticsearch_client import connect_elasticsearch
from logagg.errors import SettingsError
from logagg.settings import ElasticsearchSettings
from logagg.utc import parse_time

DEFAULT_INDEX = "logs-*"


def build_query(
    *,
    text: str | None = None,
    service: str | None = None,
    level: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The Elasticsearch query for these filters (every given filter must hold)."""
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if text:
        must.append({"match": {"message": {"query": text, "operator": "and"}}})
    if service:
        filters.append({"term": {"service.name": service}})
    if level:
        filters.append({"term": {"log.level": level.lower()}})
    if since or until:
        bounds = {}
        if since:
            bounds["gte"] = since.astimezone(UTC).isoformat(timespec="milliseconds")
        if until:
            bounds["lte"] = until.astimezone(UTC).isoformat(timespec="milliseconds")
        filters.append({"range": {"@timestamp": bounds}})
    if not must and not filters:
        return {"match_all": {}}
    return {"bool": {"must": must, "filter": filters}}


def _field(source: Mapping[str, Any], dotted: str) -> Any:
    """``log.level`` from a nested event (or a flat one with dotted keys)."""
    if dotted in source:
        return source[dotted]
    value: Any = source
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def format_table(hits: Sequence[Mapping[str, Any]], width: int = 120) -> str:
    """Events as aligned rows: time, level, service, message (cut to the terminal width)."""
    rows = []
    for hit in hits:
        source = hit.get("_source", {})
        rows.append(
            (
                str(source.get("@timestamp", "")),
                str(_field(source, "log.level") or "-"),
                str(_field(source, "service.name") or "-"),
                str(source.get("message", "")).replace("\n", " ⏎ "),
            )
        )
    if not rows:
        return "no events match"
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for row in rows:
        head = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
        room = max(width - len(head) - 2, 20)
        message = row[3] if len(row[3]) <= room else row[3][: room - 1] + "…"
        lines.append(f"{head}  {message}")
    return "\n".join(lines)


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logagg search",
        description="Search the indexed events, newest first.",
        epilog="examples:\n"
        "  logagg search timeout --service billing --since 1h\n"
        "  logagg search --level error --since 2025-04-18T00:00:00Z --until 2025-04-19T00:00:00Z\n"
        "  logagg search --json -n 1000 > events.ndjson\n"
        "Reads ELASTICSEARCH_URL (and its credentials) from the environment.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("text", nargs="*", help="words that must all be in the message")
    parser.add_argument("--service", help="service.name (the sender's user name)")
    parser.add_argument("--level", help="log.level, e.g. error, warn, info")
    parser.add_argument("--since", help="start: a duration back from now (15m, 2h) or a time")
    parser.add_argument("--until", help="end: a duration back from now or a time")
    parser.add_argument("-n", "--limit", type=int, default=50, help="how many events (50)")
    parser.add_argument("--index", default=DEFAULT_INDEX, help=f"index pattern ({DEFAULT_INDEX})")
    parser.add_argument("--json", action="store_true", help="one JSON event per line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments().parse_args(argv)
    now = datetime.now(UTC)
    try:
        settings = ElasticsearchSettings.from_env(os.environ)
        since = parse_time(args.since, now) if args.since else None
        until = parse_time(args.until, now) if args.until else None
    except (SettingsError, ValueError) as error:
        print(f"logagg search: {error}", file=sys.stderr)
        return 2
    if settings.url is None:
        print("logagg search: ELASTICSEARCH_URL is not set", file=sys.stderr)
        return 2
    query = build_query(
        text=" ".join(args.text) or None,
        service=args.service,
        level=args.level,
        since=since,
        until=until,
    )
    es = connect_elasticsearch(settings)
    try:
        answer = es.search(
            index=args.index,
            query=query,
            sort=[{"@timestamp": {"order": "desc"}}],
            size=args.limit,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
    except (ApiError, TransportError) as error:
        print(f"logagg search: Elasticsearch refused the search: {error}", file=sys.stderr)
        return 1
    hits = answer["hits"]["hits"]
    if args.json:
        for hit in hits:
            print(json.dumps(hit["_source"], ensure_ascii=False))
    else:
        print(format_table(hits, shutil.get_terminal_size((120, 20)).columns))
    return 0
