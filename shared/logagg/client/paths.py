"""Where the client keeps its files by default: ``$XDG_STATE_HOME/logagg`` or
``~/.local/state/logagg`` (the XDG base directory for state that outlives a run)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path


def state_directory(environ: Mapping[str, str] | None = None) -> Path:
    """The folder for offsets and spools."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "logagg"


def safe_name(text: str) -> str:
    """``text`` as one file-name component (e.g. a destination ``user@http://host:port``)."""
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", text).strip("_") or "default"


def default_spool_directory(destination: str, environ: Mapping[str, str] | None = None) -> Path:
    """The handler's spool for one destination: batches never go to another server or user."""
    return state_directory(environ) / "spool" / safe_name(destination)
