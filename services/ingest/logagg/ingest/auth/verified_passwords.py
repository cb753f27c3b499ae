"""Passwords verified lately, remembered per process for ``Authorization: Basic`` shippers.

A shipper that sends a user's password on every request would otherwise run argon2 (tens
of milliseconds, on purpose) per request. Only an HMAC of the password under a random
key of this process is kept, never the password, next to the stored hash it matched: a
new password changes that hash, so the remembered one stops matching at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

# Long enough to spare argon2 for a steady shipper, short enough that a password taken
# from a remembered entry does not outlive a restart by much.
REMEMBER_SECONDS = 300.0
REMEMBERED_SIZE = 1024


class VerifiedPasswords:
    """``(user, password, stored hash)`` triples that argon2 accepted lately."""

    def __init__(
        self,
        *,
        ttl: float = REMEMBER_SECONDS,
        size: int = REMEMBERED_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _slot(self, username: str, password: str) -> tuple[str, str]:
        mac = hmac.new(self._key, password.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return username.lower(), mac.hexdigest()

    def remembered(self, username: str, password: str, password_hash: str) -> bool:
        """Whether this password was verified against this very hash lately."""
        slot = self._slot(username, password)
        with self._lock:
            entry = self._entries.get(slot)
        if entry is None:
            return False
        stored_hash, at = entry
        return self._clock() - at < self._ttl and hmac.compare_digest(stored_hash, password_hash)

    def remember(self, username: str, password: str, password_hash: str) -> None:
        """Note that argon2 accepted ``password`` against ``password_hash`` just now."""
        slot = self._slot(username, password)
        with self._lock:
            self._entries[slot] = (password_hash, self._clock())
            self._entries.move_to_end(slot)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
