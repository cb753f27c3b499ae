"""``logagg tail FILE...``: follow files like ``tail -F`` and ship their new lines.

Each file is polled (``--poll``) by path: a rename and a new file at the path (logrotate's
default) is a rotation, and the old file is read to its end before it is let go; a file
that became shorter than the offset, or whose first bytes changed (``copytruncate``), is
read again from its start. Lines go out in batches of ``--batch-lines`` or once the oldest
waited ``--batch-age`` seconds; each file's offset is saved after the batch's ``200``
only, in the same state file as ``logagg ship``, so a restart goes on where the last
delivered batch ended (also in a file rotated away meanwhile, found by its inode). A
server that is away is retried with backoff, the files still being followed. SIGINT or
SIGTERM: the lines already written are sent, then the command exits.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import BinaryIO

from logagg.client.commands import (
    CONNECTION_HELP,
    TEXT,
    absolute_files,
    add_connection_options,
    add_file_options,
    client_config,
    positive_float,
    run,
    state_path,
)
from logagg.client.errors import AuthenticationError, RejectedError, UnavailableError
from logagg.client.files import (
    FileIdentity,
    find_by_identity,
    fingerprint,
    read_lines,
    resume_offset,
)
from logagg.client.retry import retry_delay
from logagg.client.state import OffsetStore, new_entry
from logagg.client.transport import Transport

PROG = "logagg tail"

EPILOG = f"""examples:
  LOGAGG_URL=http://127.0.0.1:3001 LOGAGG_USERNAME=web LOGAGG_PASSWORD=... \\
      logagg tail /var/log/nginx/access.log /var/log/nginx/error.log
  logagg tail --config client.json --batch-age 5 app.log
  logagg tail --from-end --state /var/lib/logagg/offsets.json app.log

A file not seen before is read from its start (--from-end: from its end). Stop with
Ctrl-C or SIGTERM: what was read is sent first. A file that does not exist yet is
waited for.

{CONNECTION_HELP}"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Follow log files (across rotation) and ship new lines to LogAggregator.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_file_options(parser, "log files to follow")
    parser.add_argument(
        "--batch-age",
        type=positive_float,
        default=1.0,
        help="seconds a read line may wait for its batch to fill (1)",
    )
    parser.add_argument(
        "--poll", type=positive_float, default=0.25, help="seconds between looks (0.25)"
    )
    parser.add_argument(
        "--from-end", action="store_true", help="start files never seen before at their end"
    )
    add_connection_options(parser)
    return parser


class Source:
    """One open file being read: the file at the path, or one rotated away from it."""

    def __init__(self, key_path: str, handle: BinaryIO, offset: int) -> None:
        stat = os.fstat(handle.fileno())
        self.key_path = key_path  # the path its offsets are saved under
        self.handle = handle
        self.identity = FileIdentity.of(stat)
        self.offset = offset
        self.last_size = stat.st_size
        self.fingerprint_length = min(offset, stat.st_size)
        self.fingerprint = fingerprint(handle, self.fingerprint_length)
        self.waiting_since: float | None = None
        self.rotated = False
        self.quiet_polls = 0

    def size(self) -> int:
        return os.fstat(self.handle.fileno()).st_size

    def close(self) -> None:
        self.handle.close()


class Tailer:
    """Follows files and ships their lines; one thread, driven by :meth:`poll`."""

    def __init__(
        self,
        paths: list[str],
        transport: Transport,
        store: OffsetStore,
        args: argparse.Namespace,
    ) -> None:
        self.paths = paths
        self.transport = transport
        self.store = store
        self.args = args
        self.current: dict[str, Source | None] = dict.fromkeys(paths)
        self.rotated: dict[str, list[Source]] = {path: [] for path in paths}
        self.started: set[str] = set()
        self.sent_lines = 0
        self.refused_lines = 0
        self.retry_at = 0.0
        self.failures = 0
        self._rng = random.Random()

    # -- following ------------------------------------------------------------------------
    def _open(self, path: str) -> None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - kept open while followed
        except FileNotFoundError:
            return
        stat = os.fstat(handle.fileno())
        identity = FileIdentity.of(stat)
        entry = self.store.get(path, identity)
        if entry is not None:
            offset = resume_offset(
                handle, stat.st_size, entry.offset, entry.fingerprint, entry.fingerprint_length
            )
        elif self.args.from_end and path not in self.started:
            offset = stat.st_size
        else:
            offset = 0
        if path not in self.started:
            self._find_rotated_while_away(path, identity)
        self.started.add(path)
        self.current[path] = Source(path, handle, offset)

    def _find_rotated_while_away(self, path: str, identity: FileIdentity) -> None:
        """Files rotated away from ``path`` since the last run, with lines not yet sent."""
        for entry in reversed(self.store.entries_for(path)):
            if entry.identity == identity:
                continue
            found = find_by_identity(os.path.dirname(path), entry.identity)
            if found is None:
                self.store.forget(path, entry.identity)
                continue
            handle = open(found, "rb")  # noqa: SIM115 - kept open until drained
            size = os.fstat(handle.fileno()).st_size
            offset = resume_offset(
                handle, size, entry.offset, entry.fingerprint, entry.fingerprint_length
            )
            source = Source(path, handle, offset)
            source.rotated = True
            self.rotated[path].append(source)

    def _watch(self, path: str) -> None:
        source = self.current[path]
        if source is None:
            self._open(path)
            return
        try:
            identity: FileIdentity | None = FileIdentity.of(os.stat(path))
        except FileNotFoundError:
            identity = None
        if identity != source.identity:
            # renamed away (and maybe replaced): read the old file to its end first
            source.rotated = True
            self.rotated[path].append(source)
            self.current[path] = None
            if identity is not None:
                self._open(path)
            return
        size = source.size()
        if size < source.offset or (
            size != source.last_size
            and source.fingerprint_length
            and fingerprint(source.handle, source.fingerprint_length) != source.fingerprint
        ):
            print(f"{PROG}: {path} was truncated; reading it from the start", file=sys.stderr)
            source.offset = 0
            source.fingerprint_length = 0
            source.fingerprint = fingerprint(source.handle, 0)
        source.last_size = size

    # -- shipping -------------------------------------------------------------------------
    def poll(self, *, stopping: bool = False) -> bool:
        """Look at every file and send what is due; ``False`` when the server is away."""
        for path in self.paths:
            self._watch(path)
        if not stopping and time.monotonic() < self.retry_at:
            return False
        for path in self.paths:
            for source in list(self.rotated[path]):
                size = source.size()
                if size == source.last_size:
                    source.quiet_polls += 1  # its writer has likely moved to the new file
                else:
                    source.quiet_polls = 0
                    source.last_size = size
                if not self._ship(source, stopping=stopping):
                    return False
                if source.quiet_polls >= 2 and source.offset >= size:
                    # read to its end, last line included: let the old file go
                    self.rotated[path].remove(source)
                    source.close()
                    self.store.forget(source.key_path, source.identity)
            if self.rotated[path] and not stopping:
                continue  # the new file's lines follow the old file's, in order
            current = self.current[path]
            if current is not None and not self._ship(current, stopping=stopping):
                return False
        return True

    def _ship(self, source: Source, *, stopping: bool) -> bool:
        while True:
            # a rotated file's last line is complete once its writer has moved on
            final = source.rotated and source.quiet_polls >= 1
            chunk = read_lines(
                source.handle,
                source.offset,
                max_lines=self.args.batch_lines,
                max_bytes=self.args.batch_bytes,
                final=final,
            )
            if not chunk.lines:
                source.waiting_since = None
                return True
            now = time.monotonic()
            if source.waiting_since is None:
                source.waiting_since = now
            due = (
                stopping
                or source.rotated
                or chunk.lines >= self.args.batch_lines
                or chunk.end - chunk.start >= self.args.batch_bytes
                or now - source.waiting_since >= self.args.batch_age
            )
            if not due:
                return True
            try:
                self.transport.post_log(
                    chunk.data, TEXT, attempts=2 if stopping else self.transport.config.attempts
                )
            except AuthenticationError:
                raise
            except RejectedError as error:
                self.refused_lines += chunk.lines
                print(
                    f"{PROG}: {source.key_path}: {chunk.lines} lines refused: {error}",
                    file=sys.stderr,
                )
            except UnavailableError as error:
                self._away(error)
                return False
            else:
                self.sent_lines += chunk.lines
                if self.failures:
                    print(f"{PROG}: the server takes lines again", file=sys.stderr)
                    self.failures = 0
            self._commit(source, chunk.end)

    def _commit(self, source: Source, offset: int) -> None:
        source.offset = offset
        source.waiting_since = None
        length = min(offset, source.size())
        if length != source.fingerprint_length and source.fingerprint_length < 1024:
            source.fingerprint_length = length
            source.fingerprint = fingerprint(source.handle, length)
        self.store.save(
            new_entry(
                source.key_path,
                source.identity,
                offset,
                source.fingerprint,
                source.fingerprint_length,
            )
        )

    def _away(self, error: UnavailableError) -> None:
        if not self.failures:
            print(f"{PROG}: {error}; retrying, still following the files", file=sys.stderr)
        self.failures += 1
        delay = retry_delay(
            self.failures, base=1.0, cap=30.0, rng=self._rng, retry_after=error.retry_after
        )
        self.retry_at = time.monotonic() + delay

    def unsent(self) -> int:
        """Bytes read positions are behind the files' ends (what a restart will send)."""
        total = 0
        for path in self.paths:
            for source in [*self.rotated[path], self.current[path]]:
                if source is not None:
                    total += max(0, source.size() - source.offset)
        return total

    def close(self) -> None:
        for path in self.paths:
            for source in [*self.rotated[path], self.current[path]]:
                if source is not None:
                    source.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def body() -> int:
        config = client_config(args, os.environ)
        paths = absolute_files(args.files, must_exist=False)
        transport = Transport(config)

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()
            transport.interrupt()

        previous = {
            number: signal.signal(number, request_stop)
            for number in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            with OffsetStore(state_path(args), config.destination) as store:
                tailer = Tailer(paths, transport, store, args)
                try:
                    while not stop.is_set():
                        tailer.poll()
                        stop.wait(args.poll)
                    transport.resume()
                    delivered = tailer.poll(stopping=True)
                    left = tailer.unsent()
                    print(f"{PROG}: stopped; sent {tailer.sent_lines} lines", file=sys.stderr)
                    if not delivered and left:
                        print(
                            f"{PROG}: {left} bytes not delivered (server away); "
                            "the next run sends them",
                            file=sys.stderr,
                        )
                        return 1
                    return 1 if tailer.refused_lines else 0
                finally:
                    tailer.close()
                    transport.close()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    return run(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
