"""An in-memory transport: the handler's and tail's I/O seam, for unit tests."""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any

from logagg.client import Accepted, ClientConfig, RejectedError, UnavailableError


class FakeTransport:
    """Takes bodies like ingest would, or fails as told (``down``, ``reject``)."""

    def __init__(self) -> None:
        self.config = ClientConfig("http://ingest.invalid:3001", "svc", "pw", attempts=1)
        self.retries = 0
        self.down = False
        self.reject = False
        self.gate = threading.Event()
        self.gate.set()
        self.bodies: list[tuple[str, Any]] = []
        self.calls = 0
        self._lock = threading.Lock()

    def post_log(
        self,
        body: bytes,
        content_type: str,
        *,
        compressed: bool = False,
        attempts: int | None = None,
    ) -> Accepted:
        self.gate.wait()
        with self._lock:
            self.calls += 1
            if self.down:
                raise UnavailableError("connection refused (1 attempt)")
            if self.reject:
                raise RejectedError(400, "invalid_body", "refused for the test")
            data = gzip.decompress(body) if compressed else body
            if content_type == "application/json":
                items: Any = json.loads(data)
            else:
                items = data.decode().splitlines()
            self.bodies.append((content_type, items))
            return Accepted("req", ("batch",), len(items), 0)

    def records(self) -> list[Any]:
        with self._lock:
            return [item for _, items in self.bodies for item in items]

    def interrupt(self) -> None:
        self.gate.set()

    def resume(self) -> None:
        pass

    def close(self) -> None:
        pass
