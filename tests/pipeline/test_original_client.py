"""The original LogAggregator client's flow, end to end.

``GET /auth/login`` with Basic credentials, then ``POST /log`` with the Bearer token, a
JSON content type and the log file as plain text. Its lines use the original format,
``time - ip - pid - LEVEL - function - file - message``, whose messages hold `` - ``.
"""

from __future__ import annotations

import pytest

from .api import login, post_log, register
from .stack import WRITER_PASSWORD, Pipeline

pytestmark = pytest.mark.integration

CLIENT = "legacy-client"
LINES = [
    "2025-04-18 10:12:01,123 - 10.0.0.7 - 4242 - ERROR - resolve - dns.py - lookup failed"
    " - retrying on my-site.com",
    "2025-04-18 10:12:02,456 - 10.0.0.7 - 4242 - INFO - checkout - cart.py - order 17 - paid"
    " - shipped to x-y-z",
    "2025-04-18 10:12:03,789 - 10.0.0.8 - 4243 - WARNING - sync - jobs.py - queue depth 12"
    " - above soft limit - 10",
    "2025-04-18 11:02:04,001 - 10.0.0.8 - 4243 - DEBUG - gc - mem.py - freed 3 MB -- 2 passes"
    " - - done",
    "2025-04-18 11:02:05,002 - 10.0.0.9 - 77 - CRITICAL - db - pool.py - connection lost"
    " - host db-1 - retry 3/5",
]


def message_of(line: str) -> str:
    """The message of an original-format line: everything after the sixth `` - ``."""
    return " - ".join(line.split(" - ")[6:])


def level_of(line: str) -> str:
    return line.split(" - ")[3].lower()


def test_the_original_client_delivers_its_lines_whole(pipeline: Pipeline) -> None:
    register(pipeline.base_url, pipeline.admin_token(), CLIENT, WRITER_PASSWORD)
    token = login(pipeline.base_url, CLIENT, WRITER_PASSWORD)
    body = ("\n".join(LINES) + "\n").encode()
    answer = post_log(pipeline.base_url, token, body, "application/json")
    assert answer["accepted"] == len(LINES)
    assert len(answer["batches"]) == 1
    batch = answer["batches"][0]

    pipeline.wait_indexed({CLIENT: len(LINES)})
    pipeline.wait_archived({CLIENT: len(LINES)})

    indexed_events = pipeline.indexed(CLIENT)
    archived_events = pipeline.archived(CLIENT)
    assert sorted(event["event"]["original"] for event in indexed_events) == sorted(LINES)
    assert sorted(event["event"]["original"] for event in archived_events) == sorted(LINES)
    indexed = {event["event"]["original"]: event for event in indexed_events}
    archived = {event["event"]["original"]: event for event in archived_events}
    for position, line in enumerate(LINES):
        for sink, event in (("elasticsearch", indexed[line]), ("archive", archived[line])):
            assert event["message"] == message_of(line), sink
            assert event["log"]["level"] == level_of(line), sink
            assert event["service"]["name"] == CLIENT, sink
            assert event["event"]["id"] == f"{batch}-{position}", sink
            stamp = line[:10] + "T" + line[11:19] + "." + line[20:23] + "Z"
            assert event["@timestamp"] == stamp, sink
    # searchable by the whole message text, hyphens and all
    for line in LINES:
        hits = pipeline.es.count(
            index=pipeline.index_pattern,
            query={"match_phrase": {"message": message_of(line)}},
        )["count"]
        assert hits == 1, line
