"""``logagg ship FILE...``: send files to ingest in batches, resumably.

Each batch (``--batch-lines`` complete lines, at most ``--batch-bytes``) is one
gzip-compressed ``text/plain`` ``POST /log``. The file's offset is saved after the
batch's ``200`` only, so a second run sends only what the first did not, and an
interrupted run (Ctrl-C, a server that went away) resumes after the last delivered
batch. A last line without a newline may still be being written: it is left for a later
run unless ``--final`` says the file is complete.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from logagg.client.commands import (
    CONNECTION_HELP,
    TEXT,
    MiB,
    absolute_files,
    add_connection_options,
    add_file_options,
    client_config,
    run,
    state_path,
)
from logagg.client.errors import AuthenticationError, RejectedError
from logagg.client.files import FileIdentity, fingerprint, read_lines, resume_offset
from logagg.client.state import OffsetStore, new_entry
from logagg.client.transport import Transport

PROG = "logagg ship"

EPILOG = f"""examples:
  LOGAGG_URL=http://127.0.0.1:3001 LOGAGG_USERNAME=billing LOGAGG_PASSWORD=... \\
      logagg ship /var/log/billing/app.log
  logagg ship --config client.json --batch-lines 5000 app.log.1 app.log
  logagg ship --final --state ./offsets.json finished-job.log

Running the same command again sends only lines not delivered yet (offsets per file,
by path, device and inode, in the state file; a replaced or truncated file starts
over). Exit status: 0 all sent, 1 an error or a batch the server refused.

{CONNECTION_HELP}"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Send log files to LogAggregator in gzip batches; resumable.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_file_options(parser, "log files to send")
    parser.add_argument(
        "--final",
        action="store_true",
        help="the files are complete: also send a last line that has no newline",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_connection_options(parser)
    return parser


class _Totals:
    def __init__(self) -> None:
        self.lines = 0
        self.bytes = 0
        self.refused = 0
        self.incomplete: list[str] = []


def ship_file(
    path: str,
    transport: Transport,
    store: OffsetStore,
    args: argparse.Namespace,
    progress: Any,
    totals: _Totals,
) -> None:
    """Send the rest of one file, saving its offset after every ``200``."""
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        identity = FileIdentity.of(stat)
        entry = store.get(path, identity)
        offset = 0
        if entry is not None:
            offset = resume_offset(
                handle, stat.st_size, entry.offset, entry.fingerprint, entry.fingerprint_length
            )
        max_lines = args.batch_lines
        while True:
            chunk = read_lines(
                handle, offset, max_lines=max_lines, max_bytes=args.batch_bytes, final=args.final
            )
            if not chunk.lines:
                break
            try:
                transport.post_log(chunk.data, TEXT)
            except AuthenticationError:
                raise
            except RejectedError as error:
                if error.status == 413 and chunk.lines > 1:
                    max_lines = max(1, chunk.lines // 2)  # smaller batches for this server
                    continue
                totals.refused += chunk.lines
                progress.write(
                    f"{PROG}: {path}: {chunk.lines} lines at byte {chunk.start} refused: {error}",
                    file=sys.stderr,
                )
            offset = chunk.end
            length = min(offset, stat.st_size)
            store.save(new_entry(path, identity, offset, fingerprint(handle, length), length))
            totals.lines += chunk.lines
            totals.bytes += chunk.end - chunk.start
            progress.update(chunk.end - chunk.start)
            progress.set_postfix_str(f"{totals.lines:,} lines", refresh=False)
        size = os.fstat(handle.fileno()).st_size
        if offset < size:
            totals.incomplete.append(path)


def _remaining(path: str, store: OffsetStore) -> int:
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        entry = store.get(path, FileIdentity.of(stat))
        if entry is None:
            return stat.st_size
        start = resume_offset(
            handle, stat.st_size, entry.offset, entry.fingerprint, entry.fingerprint_length
        )
        return stat.st_size - start


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def body() -> int:
        from tqdm import tqdm  # the progress bar is this command's alone

        config = client_config(args, os.environ)
        files = absolute_files(args.files, must_exist=True)
        transport = Transport(config)
        totals = _Totals()
        started = time.monotonic()
        with OffsetStore(state_path(args), config.destination) as store:
            total = sum(_remaining(path, store) for path in files)
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc="shipping",
                disable=args.no_progress or None,
                file=sys.stderr,
                dynamic_ncols=True,
            ) as progress:
                try:
                    for path in files:
                        progress.set_description(os.path.basename(path), refresh=False)
                        ship_file(path, transport, store, args, progress, totals)
                except KeyboardInterrupt:
                    progress.close()
                    print(
                        f"{PROG}: interrupted after {totals.lines} lines; "
                        "run it again to send the rest",
                        file=sys.stderr,
                    )
                    return 130
                finally:
                    transport.close()
        elapsed = time.monotonic() - started
        summary = (
            f"{PROG}: sent {totals.lines:,} lines, {totals.bytes / MiB:.1f} MiB, "
            f"from {len(files)} file{'s' if len(files) != 1 else ''} in {elapsed:.1f}s"
        )
        if totals.refused:
            summary += f"; {totals.refused} lines refused by the server"
        print(summary, file=sys.stderr)
        for path in totals.incomplete:
            print(
                f"{PROG}: {path}: the last line has no newline yet; --final sends it",
                file=sys.stderr,
            )
        return 1 if totals.refused else 0

    return run(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
