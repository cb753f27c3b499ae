"""``logagg parser``: an RQ worker on the ``parse`` queue."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from logagg.errors import SettingsError
from logagg.logs import configure_logging
from logagg.parser import jobs
from logagg.parser.settings import ParserSettings
from logagg.queues import PARSE
from logagg.redis_connection import connect_redis
from logagg.workers import run_worker


def main(argv: list[str] | None = None) -> int:
    """Run a parser worker until stopped; 2 on invalid settings."""
    arguments = argparse.ArgumentParser(prog="logagg parser", description=__doc__)
    arguments.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    options = arguments.parse_args(argv)
    try:
        settings = ParserSettings.from_env(os.environ)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(settings.logging)
    jobs.configure(settings)
    # The settings, the compiled formats and the imported modules live as long as the
    # worker: keep them out of the collector's generations so collections stay cheap.
    gc.freeze()
    connection = connect_redis(settings.redis)
    run_worker([PARSE], connection, burst=options.burst, log_level=settings.logging.level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
