"""``LogaggHandler``: a ``logging.Handler`` that ships records to ingest without ever
blocking the application.

``emit`` formats the record and appends it to a bounded in-memory buffer; that is all the
application thread does. A daemon thread takes batches (at most ``batch_records``
records or ``batch_bytes`` of text, or whatever is there once the oldest waited
``batch_age`` seconds), sends each as one gzip-compressed JSON array and counts what
happened. While the server cannot take batches (connection refused, timeouts, 429/503
after the transport's retries, credentials refused), batches go to a bounded spool
folder and are sent oldest first once it answers again, each deleted only after its
``200``. Records are dropped, and counted, only when the buffer is full because the spool
is full too (or there is none).

Two formats: by default each record is the formatter's text (UTC ISO-8601 time, level,
logger, message; a traceback stays inside its record); with ``fields=True`` each record
is a JSON object of its fields (``@timestamp``, ``log.level``, ``log.logger``,
``message``, origin, thread, process, exception and ``extra=`` values), which ingest
keeps as a structured line.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import json
import logging
import os
import random
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Protocol

from logagg.client.config import ClientConfig
from logagg.client.errors import AuthenticationError, RejectedError, UnavailableError
from logagg.client.paths import default_spool_directory
from logagg.client.retry import retry_delay
from logagg.client.spool import Spool
from logagg.client.transport import Accepted, Transport, compress

CONTENT_TYPE = "application/json"
MiB = 1024 * 1024
_DEFAULT: Any = object()

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class Sender(Protocol):
    """What the handler needs from a transport (the seam unit tests fill with a fake)."""

    retries: int

    def post_log(
        self, body: bytes, content_type: str, *, compressed: bool = ..., attempts: int | None = ...
    ) -> Accepted: ...

    def interrupt(self) -> None: ...

    def resume(self) -> None: ...

    def close(self) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class HandlerCounters:
    """Records so far: delivered (``200``), written to the spool, dropped (buffer and
    spool full), refused for good by the server; requests sent again; records waiting."""

    sent: int
    spooled: int
    dropped: int
    rejected: int
    retries: int
    buffered: int
    in_spool: int


class UtcFormatter(logging.Formatter):
    """``2026-11-28T10:00:00.123Z INFO app.module: message``: a line the parser reads
    with its own time (UTC, so no zone guessing), level and logger."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S",
        )
        self.converter = time.gmtime
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        # What logging.Formatter.format makes of the format above, without its generic
        # steps: this runs in the application's thread for every record.
        message = record.getMessage()
        record.message = message
        text = (
            f"{self.formatTime(record)}.{int(record.msecs):03d}Z "
            f"{record.levelname} {record.name}: {message}"
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}"
        return text

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # One strftime per second of records, not per record: a third of the format's cost.
        second = int(record.created)
        cached = self._second
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached  # one tuple, swapped whole: safe across threads
        return cached[1]


def encode_batch(items: list[Any]) -> bytes:
    """A batch as the JSON array ``POST /log`` takes: strings, or objects whose
    ``@timestamp`` (seconds since the epoch until now) becomes RFC 3339 text."""
    seconds: dict[int, str] = {}
    for item in items:
        if isinstance(item, dict):
            stamp = item.get("@timestamp")
            if isinstance(stamp, float):
                second = int(stamp)
                text = seconds.get(second)
                if text is None:
                    text = seconds[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
                item["@timestamp"] = f"{text}.{int((stamp - second) * 1000):03d}Z"
    try:
        return json.dumps(items, default=repr, separators=(",", ":")).encode("ascii")
    except (TypeError, ValueError):
        # an ``extra=`` value JSON cannot hold (a tuple key, a cycle): only that record
        # becomes its repr, the rest of the batch goes as it is
        return ("[" + ",".join(_encode_one(item) for item in items) + "]").encode("ascii")


def _encode_one(item: Any) -> str:
    try:
        return json.dumps(item, default=repr, separators=(",", ":"))
    except (TypeError, ValueError):
        return json.dumps(repr(item))


class LogaggHandler(logging.Handler):
    """Ships log records to a LogAggregator ingest; see the module documentation.

    Give a ``config`` (:class:`ClientConfig`), or ``url``, ``username`` and
    ``password``, or a ready ``transport``. ``spool_dir=None`` turns the spool off; by
    default it is ``~/.local/state/logagg/spool/<user@server>``.
    """

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        transport: Sender | None = None,
        fields: bool = False,
        batch_records: int = 1000,
        batch_age: float = 1.0,
        batch_bytes: int = 4 * MiB,
        queue_size: int = 100_000,
        spool_dir: str | Path | None = _DEFAULT,
        spool_max_bytes: int = 64 * MiB,
        send_attempts: int = 3,
        offline_backoff_cap: float = 30.0,
        exit_timeout: float = 5.0,
        level: int = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        if transport is None:
            if config is None:
                config = ClientConfig(
                    url=url or "", username=username or "", password=password or ""
                )
            transport = Transport(config)
        if batch_records < 1 or batch_age <= 0 or batch_bytes < 1 or queue_size < 1:
            raise ValueError("batch_records, batch_age, batch_bytes, queue_size must be positive")
        self.transport = transport
        self.fields = fields
        self.batch_records = batch_records
        self.batch_age = batch_age
        self.batch_bytes = batch_bytes
        self.queue_size = queue_size
        self.send_attempts = send_attempts
        self.offline_backoff_cap = offline_backoff_cap
        self.exit_timeout = exit_timeout
        if spool_dir is _DEFAULT:
            known = config if config is not None else getattr(transport, "config", None)
            destination = known.destination if isinstance(known, ClientConfig) else "default"
            spool_dir = default_spool_directory(destination)
        self.spool = Spool(spool_dir, spool_max_bytes) if spool_dir is not None else None
        if not fields:
            self.setFormatter(UtcFormatter())
        self._rng = random.Random()
        self._reset_state()
        self._closed = False
        atexit.register(self._at_exit)
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _restart_in_child(reference))
        self._start()

    # -- the application thread -----------------------------------------------------------
    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: the buffer is safe to append to from any thread.
        if self.filter(record):
            self.emit(record)
            return True
        return False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            item: Any = self._record_fields(record) if self.fields else self.format(record)
        except Exception:
            self.handleError(record)
            return
        buffer = self._buffer
        if len(buffer) >= self.queue_size:
            with self._count_lock:
                self._dropped += 1
            return
        buffer.append(item)
        if len(buffer) >= self.batch_records and not self._wake.is_set():
            self._wake.set()

    def _record_fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "@timestamp": record.created,
            "log.level": record.levelname.lower(),
            "log.logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
            "process.pid": record.process,
            "log.origin.file.name": record.filename,
            "log.origin.file.line": record.lineno,
            "log.origin.function": record.funcName,
        }
        if record.exc_info and record.exc_info[0] is not None:
            fields["error.type"] = record.exc_info[0].__name__
            fields["error.stack_trace"] = record.exc_text or logging.Formatter().formatException(
                record.exc_info
            )
        if record.stack_info:
            trace = fields.get("error.stack_trace")
            fields["error.stack_trace"] = (
                f"{trace}\n{record.stack_info}" if trace else record.stack_info
            )
        attributes = record.__dict__
        for key in attributes.keys() - _RECORD_ATTRIBUTES:
            fields.setdefault(key, attributes[key])
        return fields

    # -- flushing and closing -------------------------------------------------------------
    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every record emitted before the call is sent, spooled, dropped or
        refused; at most ``timeout`` seconds (default ``exit_timeout``). Whether it was."""
        limit = self.exit_timeout if timeout is None else timeout
        with self._flush_condition:
            self._flush_requested += 1
            target = self._flush_requested
        self._wake.set()
        with self._flush_condition:
            return self._flush_condition.wait_for(
                lambda: self._flush_done >= target or not self._thread.is_alive(), limit
            ) and (self._flush_done >= target)

    def flush(self) -> None:
        self.drain()

    def close(self) -> None:
        """Send what is buffered (bounded by ``exit_timeout``), spool what could not be
        sent, stop the sender thread."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._at_exit)
        started = time.monotonic()
        if self._thread.is_alive():
            drained = self.drain(self.exit_timeout)
            self._stopping = True
            if not drained:
                self.transport.interrupt()
            self._wake.set()
            self._thread.join(max(0.5, self.exit_timeout - (time.monotonic() - started)))
        self._store_leftovers()
        self.transport.close()
        super().close()

    def _at_exit(self) -> None:
        self.close()

    def counters(self) -> HandlerCounters:
        """A snapshot of the counters."""
        return HandlerCounters(
            sent=self._sent,
            spooled=self._spooled,
            dropped=self._dropped,
            rejected=self._rejected,
            retries=self.transport.retries + self._offline_retries,
            buffered=len(self._buffer),
            in_spool=self.spool.records() if self.spool is not None else 0,
        )

    # -- the sender thread ----------------------------------------------------------------
    def _reset_state(self) -> None:
        self._buffer: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._count_lock = threading.Lock()
        self._flush_condition = threading.Condition()
        self._flush_requested = 0
        self._flush_done = 0
        self._stopping = False
        self._held: tuple[bytes, int] | None = None
        self._first_seen: float | None = None
        self._retry_at = 0.0
        self._offline_failures = 0
        self._offline_retries = 0
        self._sent = 0
        self._spooled = 0
        self._dropped = 0
        self._rejected = 0

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="logagg-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = min(self.batch_age / 4, 0.25)
        while True:
            self._wake.wait(tick)
            self._wake.clear()
            with self._flush_condition:
                requested = self._flush_requested
            stopping = self._stopping
            try:
                self._pump(force=requested > self._flush_done or stopping)
            except Exception as error:  # the sender must outlive any single failure
                self._report(f"unexpected error in the sender: {error!r}")
            if requested > self._flush_done and not self._buffer and self._held is None:
                with self._flush_condition:
                    self._flush_done = requested
                    self._flush_condition.notify_all()
            if stopping:
                return

    def _pump(self, *, force: bool) -> None:
        """Move what is due: the spool and a held batch first (order), then the buffer."""
        if self._online():
            self._send_backlog()
        while True:
            if self._held is not None:
                return  # the spool is full and the server away: the buffer waits
            items = self._take(force)
            if items is None:
                return
            body = compress(encode_batch(items))
            if self._online() and not self._spool_pending() and self._send(body, len(items)):
                continue
            self._store(body, len(items))

    def _take(self, force: bool) -> list[Any] | None:
        buffer = self._buffer
        now = time.monotonic()
        if not buffer:
            self._first_seen = None
            return None
        if self._first_seen is None:
            self._first_seen = now
        due = force or len(buffer) >= self.batch_records or now - self._first_seen >= self.batch_age
        if not due:
            return None
        items: list[Any] = []
        size = 0
        while buffer and len(items) < self.batch_records and size < self.batch_bytes:
            item = buffer.popleft()
            items.append(item)
            size += len(item) if isinstance(item, str) else 256 + len(str(item.get("message")))
        self._first_seen = now if buffer else None
        return items

    def _online(self) -> bool:
        return time.monotonic() >= self._retry_at

    def _spool_pending(self) -> bool:
        return self.spool is not None and bool(self.spool)

    def _send_backlog(self) -> bool:
        """Send spooled batches oldest first, then the held one; whether all went."""
        if self.spool is not None:
            for batch in self.spool.batches():
                with self.spool.claim(batch) as body:
                    if body is None:
                        continue
                    if not self._send(body, batch.records):
                        return False
                    self.spool.remove(batch)
        if self._held is not None:
            body, records = self._held
            if not self._send(body, records):
                return False
            self._held = None
        return True

    def _send(self, body: bytes, records: int) -> bool:
        """Send one batch; ``True`` when the server answered (200, or refused it for good),
        ``False`` when it is unavailable (the caller keeps the batch)."""
        probing = self._offline_failures > 0
        if probing:
            self._offline_retries += 1
        try:
            self.transport.post_log(
                body, CONTENT_TYPE, compressed=True, attempts=1 if probing else self.send_attempts
            )
        except AuthenticationError as error:
            self._offline(error)
            return False
        except RejectedError as error:
            self._rejected += records
            self._report(f"the server refused a batch of {records} records: {error}")
            return True
        except (UnavailableError, OSError) as error:
            self._offline(error)
            return False
        self._sent += records
        if self._offline_failures:
            self._report("the server takes logs again; sending what was kept")
            self._offline_failures = 0
            self._retry_at = 0.0
        return True

    def _offline(self, error: Exception) -> None:
        if self._offline_failures == 0:
            where = f" in {self.spool.directory}" if self.spool is not None else " in memory"
            self._report(f"cannot deliver logs ({error}); keeping them{where}")
        self._offline_failures += 1
        hint = error.retry_after if isinstance(error, UnavailableError) else None
        delay = retry_delay(
            self._offline_failures,
            base=1.0,
            cap=self.offline_backoff_cap,
            rng=self._rng,
            retry_after=hint,
        )
        self._retry_at = time.monotonic() + delay

    def _store(self, body: bytes, records: int) -> None:
        if self.spool is not None and self.spool.put(body, records, CONTENT_TYPE):
            self._spooled += records
        else:
            self._held = (body, records)

    def _store_leftovers(self) -> None:
        """At close: the held batch and the buffer to the spool, or counted as dropped."""
        pending: list[tuple[bytes, int]] = []
        if self._held is not None:
            pending.append(self._held)
            self._held = None
        while self._buffer:
            items = [
                self._buffer.popleft() for _ in range(min(len(self._buffer), self.batch_records))
            ]
            pending.append((compress(encode_batch(items)), len(items)))
        for body, records in pending:
            if self.spool is not None and self.spool.put(body, records, CONTENT_TYPE):
                self._spooled += records
            else:
                self._dropped += records
        if any(True for _ in pending) and self._dropped:
            self._report(f"{self._dropped} records dropped in all (buffer and spool full)")

    def _report(self, message: str) -> None:
        with contextlib.suppress(Exception):  # nowhere left to report to
            sys.stderr.write(f"logagg handler: {message}\n")


def _restart_in_child(reference: weakref.ref[LogaggHandler]) -> None:
    """After ``fork``: the parent's buffer is the parent's to send; start afresh."""
    handler = reference()
    if handler is None or handler._closed:
        return
    handler._reset_state()
    handler.transport.close()
    handler._start()
