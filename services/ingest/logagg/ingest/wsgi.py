"""The WSGI entry point gunicorn loads: ``logagg.ingest.wsgi:app``.

Building the app reads and validates the settings but connects nothing; each gunicorn
worker imports this module after the fork.
"""

from __future__ import annotations

import os

from logagg.ingest.app import create_app
from logagg.ingest.settings import IngestSettings

app = create_app(IngestSettings.from_env(os.environ))
