"""The project's error tree.

Callers decide what to do by type: a :class:`TransientError` is worth retrying, a
:class:`PermanentError` never is (it goes to the dead-letter store), and a
:class:`SettingsError` stops a process before it starts work.
"""

from __future__ import annotations


class LogaggError(Exception):
    """Root of every error LogAggregator raises on purpose."""


class SettingsError(LogaggError):
    """The environment is missing or malforms one or more settings.

    ``problems`` lists every problem found, each naming its variable, so an operator
    fixes them all in one go.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in self.problems))


class TransientError(LogaggError):
    """A failure that may succeed when tried again (timeouts, 429, 5xx, a peer restarting)."""


class PermanentError(LogaggError):
    """A failure that will fail the same way every time (bad input, mapping conflict, 4xx)."""
