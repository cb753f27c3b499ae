"""The original LogAggregator client's flow, end to end, and its requests exactly.

``GET /auth/login`` with Basic credentials, then ``POST /log`` with the Bearer token, a
JSON content type and the log file as plain text. Its lines use the original format,
``time - ip - pid - LEVEL - function - file - message``, whose messages hold `` - ``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from redis import Redis

from logagg.embedded import IngestServer, RedisServer
from logagg.queues import PARSE, job_queue

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


# A log file as the DNSResolvr service writes it: the address column padded to width,
# a traceback's indented lines, and CRLF endings from a Windows host.
DNS_RESOLVR_LOG = (
    "2025-03-15 01:56:59,303 - 127.0.0.1       - 4109 - INFO - get_dns - server.py"
    " - Querying DNS\r\n"
    "2025-03-15 01:56:59,511 - 192.168.100.254 - 4109 - INFO - get_dns - server.py"
    " - Answer for example.org - 93.184.215.14\r\n"
    "2025-03-15 01:57:00,002 - 10.0.0.7        - 4110 - ERROR - resolve - server.py"
    " - lookup failed\r\n"
    "Traceback (most recent call last):\r\n"
    '  File "server.py", line 88, in resolve\r\n'
    "    answer = resolver.resolve(name)\r\n"
    "\tdns.exception.Timeout: 5.0 seconds\r\n"
    "2025-03-15 01:57:01,420 - 127.0.0.1       - 4109 - WARNING - flush - client.py"
    " - retrying in 2 s\r\n"
)


def test_the_original_clients_requests_exactly(tmp_path: Path) -> None:
    """The flusher's two calls, byte for byte: its status check, and the lines delivered."""
    # A Redis of its own: the session's is the running pipeline's, whose parser would take
    # the jobs this test reads, and which a flush would empty of its users.
    redis_server = RedisServer(tmp_path / "redis", appendonly=False)
    redis_server.start()
    try:
        _requests_exactly(redis_server.url, tmp_path)
    finally:
        redis_server.stop()


def _requests_exactly(redis_url: str, tmp_path: Path) -> None:
    log_file = tmp_path / "dnsresolvr.log"
    log_file.write_bytes(DNS_RESOLVR_LOG.encode())
    env = {
        "REDIS_URL": redis_url,
        "LOGAGG_JWT_SECRET": "original-client-test-secret-long-enough-for-hs256-0123456789",
        "LOGAGG_ADMIN_PASSWORD": "original-admin-password",
        "LOGAGG_ARGON2_TIME_COST": "1",
        "LOGAGG_ARGON2_MEMORY": "8KiB",
        "LOGAGG_ARGON2_PARALLELISM": "1",
        "LOGAGG_INGEST_WORKERS": "1",
    }
    server = IngestServer(env, tmp_path / "ingest.log")
    server.start()
    try:
        base = server.url
        register(base, login(base, "admin", "original-admin-password"), CLIENT, WRITER_PASSWORD)

        answer = requests.get(
            base + "/auth/login",
            auth=(CLIENT, WRITER_PASSWORD),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        access = answer.json()["token"]["access"]
        with log_file.open("rb") as handle:
            response = requests.post(
                base + "/log",
                data=handle.read(),
                headers={"Authorization": "Bearer " + access, "Content-Type": "application/json"},
                timeout=30,
            )
        assert response.status_code == 200, response.text  # the one check the client makes
        queued = response.json()
        assert queued["status"] == "queued"
        expected = DNS_RESOLVR_LOG.split("\r\n")[:-1]
        assert queued["accepted"] == len(expected) == 8

        # Delivered whole: every line, padding and indentation kept, in order, once.
        connection = Redis.from_url(redis_url)
        jobs = job_queue(PARSE, connection).get_jobs()
        assert [job.args[0]["batch_id"] for job in jobs] == queued["batches"]
        delivered = [line for job in jobs for line in job.args[0]["lines"]]
        assert delivered == expected
        assert all(job.args[0]["service"] == CLIENT for job in jobs)
    finally:
        server.stop(timeout=15)
