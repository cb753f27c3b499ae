"""A steady client for fault tests: posts numbered lines, as a careful client would.

Run as a script (stdlib only), one process per client. Every line carries the client's
number and a sequence number (``<tag>-<client> seq=<n>``), so what arrives can be matched
line by line with what was acknowledged. Each ``200`` is appended to ``--acked`` as one
JSON line; on ``429``/``503`` the client waits ``Retry-After`` and sends the same lines
again, on a lost connection it waits a little and sends them again. SIGTERM stops it
after the request in hand; the counts of every answer go to ``--summary``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import sys
import time
import urllib.parse
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

stopping = False


def _stop(signum: int, frame: object) -> None:
    global stopping
    stopping = True


class Client:
    def __init__(self, url: str, username: str, password: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.token = ""
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        # A kept-alive connection the server closed while idle fails at once: that
        # request is sent again on a new connection, as HTTP clients do.
        reused = self.connection is not None
        for fresh in (not reused, True):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if fresh:
                    raise
        raise AssertionError("unreachable")

    def login(self) -> None:
        status, _, raw = self.request(
            "GET", "/auth/login", None, {"Authorization": f"Basic {self.credentials}"}
        )
        if status != 200:
            raise OSError(f"login answered {status}")
        self.token = json.loads(raw)["token"]["access"]

    def post(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if not self.token:
            self.login()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "text/plain"}
        return self.request("POST", "/log", body, headers)


def lines(tag: str, first: int, count: int) -> bytes:
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S,") + f"{now.microsecond // 1000:03d}"
    pid = os.getpid()
    return "".join(
        f"{stamp} - 10.9.0.{n % 250} - {pid} - INFO - loadgen - loadgen.py - "
        f"{tag} seq={n} steady load under faults\n"
        for n in range(first, first + count)
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--tag", required=True, help="this client's name, in every line")
    parser.add_argument("--rate", type=float, default=0.0, help="batches/s; 0: as fast as it can")
    parser.add_argument("--lines", type=int, default=100, help="lines per batch")
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--acked", type=Path, required=True)
    parser.add_argument("--summary", type=Path, required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)

    client = Client(args.url, args.username, args.password)
    answers: Counter[str] = Counter()
    offered = acked_lines = 0
    start = time.monotonic()
    next_seq = 0
    with args.acked.open("a") as acked:
        batch = 0
        while not stopping and time.monotonic() - start < args.duration:
            if args.rate > 0:
                due = start + batch / args.rate
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
            body = lines(args.tag, next_seq, args.lines)
            # the same lines until acknowledged (or until told to stop)
            while not stopping:
                offered += args.lines
                try:
                    status, headers, raw = client.post(body)
                except (OSError, http.client.HTTPException):
                    answers["connection-error"] += 1
                    time.sleep(0.5)
                    continue
                answers[str(status)] += 1
                if status == 200:
                    answer = json.loads(raw)
                    record = {
                        "first": next_seq,
                        "count": args.lines,
                        "batches": answer["batches"],
                        "at": time.time(),
                    }
                    acked.write(json.dumps(record) + "\n")
                    acked.flush()
                    acked_lines += args.lines
                    next_seq += args.lines
                    break
                if status == 401:
                    client.token = ""
                    continue
                if status in (429, 503):
                    time.sleep(float(headers.get("Retry-After", "1")))
                    continue
                print(f"unexpected answer {status}: {raw[:200]!r}", file=sys.stderr)
                time.sleep(0.5)
            batch += 1
    elapsed = time.monotonic() - start
    summary = {
        "answers": dict(answers),
        "offered_lines": offered,
        "acked_lines": acked_lines,
        "seconds": elapsed,
    }
    args.summary.write_text(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
