"""What the operator commands share: help with examples, and failures told in one line."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from logagg.errors import LogaggError, SettingsError


class CommandFailed(LogaggError):
    """An operator command cannot go on; the message is what the operator reads."""


def help_parser(
    prog: str, description: str, examples: str, **kwargs: Any
) -> argparse.ArgumentParser:
    """An argument parser whose ``--help`` ends with ``examples`` laid out as written."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=f"examples:\n{examples.strip(chr(10))}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) made one space."""
    return " ".join(text.split())


def settings_message(error: SettingsError) -> str:
    """Every settings problem on one line."""
    return "invalid settings: " + "; ".join(error.problems)


def fail(prog: str, message: str, err: TextIO | None = None) -> int:
    """Print ``prog: message`` on one line to stderr; return the exit status 1."""
    print(f"{prog}: {one_line(message)}", file=err or sys.stderr)
    return 1
