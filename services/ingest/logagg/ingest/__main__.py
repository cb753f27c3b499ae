"""``python -m logagg.ingest`` (and ``logagg ingest``): validate settings, then run gunicorn."""

from __future__ import annotations

import argparse
import os
import sys

from logagg.errors import SettingsError
from logagg.ingest.settings import IngestSettings

GUNICORN_CONFIG = "python:logagg.ingest.gunicorn_conf"
WSGI_APP = "logagg.ingest.wsgi:app"


def gunicorn_argv() -> list[str]:
    """The command that serves the app."""
    return [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, WSGI_APP]


def main(argv: list[str] | None = None) -> int:
    """Validate the settings from the environment, then replace this process by gunicorn."""
    parser = argparse.ArgumentParser(
        prog="logagg ingest", description="Run the LogAggregator ingest HTTP service."
    )
    parser.add_argument(
        "--check", action="store_true", help="validate the settings, print them and exit"
    )
    args = parser.parse_args(argv)
    try:
        settings = IngestSettings.from_env(os.environ)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if args.check:
        print(settings)
        return 0
    command = gunicorn_argv()
    os.execv(command[0], command)  # noqa: S606 - a fixed argv, no shell involved
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
